"""How arrays cross into C++: zero-copy views, float64, non-contiguous, wrong shapes."""
import numpy as np
import pytest
import torch

import alx
from conftest import random_probs

_seen = {}


def _probe(probs):
    """A Python scorer that records the address of the tensor C++ hands it."""
    _seen["ptr"] = probs.data_ptr()
    _seen["dtype"] = probs.dtype
    return probs.mean(dim=1).max(dim=1).values


alx.register_scorer("test_pointer_probe", _probe)


def test_contiguous_float32_is_not_copied(rng):
    probs = random_probs(rng, (64, 3, 5))
    alx.score(probs, "test_pointer_probe")
    assert _seen["ptr"] == probs.ctypes.data
    t = torch.from_numpy(random_probs(rng, (64, 3, 5)))
    alx.score(t, "test_pointer_probe")
    assert _seen["ptr"] == t.data_ptr()


def test_numpy_buffer_outlives_the_call(rng):
    # The tensor view keeps the array alive: dropping our reference mid-call is safe.
    got = alx.score(random_probs(rng, (1000, 10)), "entropy")
    assert np.isfinite(got).all()


def test_float64_and_other_dtypes(rng):
    p32 = random_probs(rng, (80, 4, 6))
    p64 = p32.astype(np.float64)
    np.testing.assert_allclose(alx.score(p64, "entropy"), alx.score(p32, "entropy"), rtol=1e-6)
    half = torch.from_numpy(p32).half()
    assert alx.score(half, "entropy").dtype == np.float32
    assert alx.score(p32.tolist(), "margin").shape == (80,)  # nested lists too


def test_non_contiguous_inputs(rng):
    base = random_probs(rng, (50, 6, 4))
    strided = base[::2]                               # every other row
    transposed = np.ascontiguousarray(base.transpose(1, 0, 2)).transpose(1, 0, 2)  # [N, T, C] view, T-major
    reversed_rows = base[::-1]                        # negative stride
    fortran = np.asfortranarray(base)
    for view, ref in [(strided, base[::2].copy()), (transposed, base), (reversed_rows, base[::-1].copy()),
                      (fortran, base)]:
        assert not view.flags.c_contiguous or view is base
        np.testing.assert_array_equal(alx.score(view, "bald"), alx.score(np.ascontiguousarray(ref), "bald"))
    t = torch.from_numpy(base).transpose(0, 1)        # [T, N, C] -> back to [N, T, C], non-contiguous
    np.testing.assert_array_equal(alx.score(t.transpose(0, 1), "bald"), alx.score(base, "bald"))


@pytest.mark.parametrize("shape", [(10,), (2, 3, 4, 5), ()])
def test_wrong_rank_is_refused_with_the_shape(shape):
    with pytest.raises(ValueError) as err:
        alx.score(np.ones(shape, np.float32), "entropy")
    msg = str(err.value)
    assert "probs" in msg and "[N, C] or [N, T, C]" in msg


def test_wrong_dtype_is_refused():
    with pytest.raises(ValueError, match="probs must be a real-valued array"):
        alx.score(np.array([["a", "b"]]), "entropy")
    with pytest.raises(ValueError, match="probs"):
        alx.score(np.ones((3, 2), np.complex64), "entropy")


def test_rows_must_be_probabilities():
    with pytest.raises(ValueError, match="row 1"):
        alx.score(np.array([[0.5, 0.5], [0.9, 0.9]], np.float32), "entropy")
    # validate=False skips the check
    assert alx.score(np.array([[0.5, 0.5], [0.9, 0.9]], np.float32), "entropy", validate=False).shape == (2,)


def test_mismatched_rows_are_refused(rng):
    probs = random_probs(rng, (20, 3))
    with pytest.raises(ValueError, match="labeled"):
        alx.select(2, "topk", probs=probs, labeled=np.zeros(21, bool))
    with pytest.raises(ValueError, match="out of range"):
        alx.select(2, "topk", probs=probs, labeled=[25])
    with pytest.raises(ValueError, match="embeddings"):
        alx.select(2, "kcenter", embeddings=np.ones((20, 3, 1), np.float32))
    with pytest.raises(ValueError, match="pool size"):
        alx.select(2, "random", labeled=[1, 2])


def test_outputs_are_numpy_even_for_torch_inputs(rng):
    t = torch.from_numpy(random_probs(rng, (10, 3)))
    assert isinstance(alx.score(t, "margin"), np.ndarray)
    assert isinstance(alx.select(2, "topk", probs=t), np.ndarray)


def test_gil_is_released_during_cpp_work(rng):
    import threading

    probs = random_probs(rng, (1_000_000, 10))
    state = {"inside": False, "done": False, "ticks": 0}

    def work():
        state["inside"] = True
        for _ in range(3):
            alx.score(probs, "entropy")
        state["inside"] = False
        state["done"] = True

    t = threading.Thread(target=work)
    t.start()
    while not state["done"]:
        if state["inside"]:
            state["ticks"] += 1  # Python runs here only while the other thread is in C++ without the GIL
    t.join()
    assert state["ticks"] > 100
