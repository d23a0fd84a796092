"""Shared fixtures of the alx Python tests (run with /usr/bin/python3 and the build's
python folder on PYTHONPATH; see tests/python/CMakeLists.txt)."""
import os

import numpy as np
import pytest

FASHION_DIR = os.environ.get("ALX_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def random_probs(rng, shape, dtype=np.float32):
    """Rows drawn from a Dirichlet: strictly positive probability vectors over the last axis."""
    p = rng.gamma(0.7, size=shape) + 1e-6
    return (p / p.sum(axis=-1, keepdims=True)).astype(dtype)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def fashion():
    if not os.path.exists(os.path.join(FASHION_DIR, "t10k-images-idx3-ubyte.gz")):
        pytest.skip(f"Fashion-MNIST not found in {FASHION_DIR} (Debian package dataset-fashion-mnist)")
    import alx
    return alx.load_fashion_mnist(FASHION_DIR, "test")
