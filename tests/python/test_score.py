"""alx.score against independent numpy computations of every scorer's formula."""
import numpy as np
import pytest
import torch

import alx
from conftest import random_probs


def _entropy(p):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=-1)


def reference(probs, method):
    """The formulas of alx/sampling/scorers.h, in float64 numpy."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim == 2:
        p = p[:, None, :]
    n, t, c = p.shape
    mean = p.mean(axis=1)
    top = -np.sort(-mean, axis=1)
    if method == "least_confidence":
        return 1.0 - top[:, 0]
    if method == "margin":
        return 1.0 - (top[:, 0] - top[:, 1])
    if method == "ratio":
        return top[:, 1] / top[:, 0]
    if method == "entropy":
        return _entropy(mean)
    if method == "bald":
        return np.maximum(_entropy(mean) - _entropy(p).mean(axis=1), 0.0)
    if method == "variation_ratios":
        votes = np.argmax(p, axis=2)  # [N, T]
        modal = np.array([np.bincount(v, minlength=c).max() for v in votes])
        return 1.0 - modal / t
    if method == "mean_std":
        return p.std(axis=1).mean(axis=1)
    raise KeyError(method)


METHODS = ["least_confidence", "margin", "ratio", "entropy", "bald", "variation_ratios", "mean_std"]


def test_every_builtin_scorer_is_covered():
    assert set(METHODS) <= set(alx.scorer_names())


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(500, 10), (300, 8, 5), (200, 1, 3), (50, 20, 2)])
def test_scorer_matches_numpy_formula(rng, method, shape):
    probs = random_probs(rng, shape)
    got = alx.score(probs, method)
    assert isinstance(got, np.ndarray) and got.shape == (shape[0],)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, reference(probs, method), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_float64_input_keeps_float64(rng, method):
    probs = random_probs(rng, (200, 6, 7), np.float64)
    got = alx.score(probs, method)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, reference(probs, method), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_torch_and_numpy_give_the_same_scores(rng, method):
    probs = random_probs(rng, (100, 4, 6))
    np.testing.assert_array_equal(alx.score(probs, method), alx.score(torch.from_numpy(probs), method))


def test_logits_option(rng):
    logits = rng.normal(size=(64, 5)).astype(np.float32)
    soft = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(alx.score(logits, "entropy", from_logits=True), reference(soft, "entropy"),
                               rtol=1e-5, atol=1e-6)


def test_one_hot_and_uniform_rows():
    c = 4
    probs = np.vstack([np.eye(c, dtype=np.float32), np.full((1, c), 1.0 / c, np.float32)])
    ent = alx.score(probs, "entropy")
    np.testing.assert_allclose(ent[:c], 0.0, atol=1e-7)
    np.testing.assert_allclose(ent[c], np.log(c), rtol=1e-6)


def test_scorer_objects(rng):
    probs = random_probs(rng, (30, 3, 4))
    s = alx.make_scorer("bald")
    assert s.name() == "bald" and s.needs_mc_samples()
    np.testing.assert_allclose(s.score(probs), alx.score(probs, "bald"), rtol=1e-6, atol=1e-7)
