"""alx.select: unique unlabeled indices, determinism per seed, labeled as mask or indices,
torch and numpy inputs alike, for every registered sampler."""
import numpy as np
import pytest
import torch

import alx
from conftest import random_probs

N, T, C, D, K = 240, 6, 4, 8, 12


@pytest.fixture
def inputs(rng):
    probs = random_probs(rng, (N, T, C))
    emb = rng.normal(size=(N, D)).astype(np.float32)
    labeled = np.zeros(N, dtype=bool)
    labeled[rng.choice(N, 30, replace=False)] = True
    return probs, emb, labeled


def sampler_kwargs(name):
    # Keep the costly ones small on a shared 2-core machine.
    return {"batchbald": {"num_samples": 200, "prefilter": 60}, "typiclust": {"max_clusters": 40}}.get(name, {})


@pytest.mark.parametrize("name", alx.sampler_names())
def test_unique_unlabeled_and_deterministic(inputs, name):
    probs, emb, labeled = inputs
    params = sampler_kwargs(name)
    a = alx.select(K, name, probs=probs, embeddings=emb, labeled=labeled, seed=3, **params)
    b = alx.select(K, name, probs=probs, embeddings=emb, labeled=labeled, seed=3, **params)
    assert isinstance(a, np.ndarray) and a.dtype == np.int64
    assert len(a) == K
    assert len(np.unique(a)) == K, "indices must be unique"
    assert not labeled[a].any(), "labeled items must never be selected"
    assert ((a >= 0) & (a < N)).all()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", alx.sampler_names())
def test_torch_inputs_and_index_labels_give_the_same_batch(inputs, name):
    probs, emb, labeled = inputs
    params = sampler_kwargs(name)
    ref = alx.select(K, name, probs=probs, embeddings=emb, labeled=labeled, seed=5, **params)
    by_index = alx.select(K, name, probs=probs, embeddings=emb, labeled=np.flatnonzero(labeled), seed=5,
                          **params)
    by_torch = alx.select(K, name, probs=torch.from_numpy(probs), embeddings=torch.from_numpy(emb),
                          labeled=torch.from_numpy(labeled), seed=5, **params)
    np.testing.assert_array_equal(ref, by_index)
    np.testing.assert_array_equal(ref, by_torch)


def test_random_depends_on_seed(inputs):
    probs, _, labeled = inputs
    batches = {tuple(alx.select(K, "random", probs=probs, labeled=labeled, seed=s)) for s in range(5)}
    assert len(batches) > 1


def test_topk_is_the_top_scores(inputs):
    probs, _, labeled = inputs
    got = alx.select(K, "topk", probs=probs, labeled=labeled, scorer="entropy")
    s = alx.score(probs, "entropy")
    s[labeled] = -np.inf
    assert set(got) == set(np.argsort(-s, kind="stable")[:K])


def test_labeled_list_and_none(inputs):
    probs, _, _ = inputs
    a = alx.select(5, "topk", probs=probs)               # nothing labeled
    b = alx.select(5, "topk", probs=probs, labeled=[])   # the same
    np.testing.assert_array_equal(a, b)
    c = alx.select(5, "topk", probs=probs, labeled=list(a))
    assert not set(a) & set(c)


def test_fewer_remain_than_k(inputs):
    probs, _, _ = inputs
    labeled = np.ones(N, dtype=bool)
    labeled[:3] = False
    got = alx.select(10, "random", probs=probs, labeled=labeled)
    assert sorted(got) == [0, 1, 2]


def test_precomputed_scores_and_candidates(rng):
    scores = rng.random(50).astype(np.float32)
    cand = np.arange(10, 20)
    got = alx.select(3, "topk", scores=scores, labeled=np.zeros(50, bool), candidates=cand)
    assert set(got) <= set(cand)
    assert set(got) == set(cand[np.argsort(-scores[cand])[:3]])


def test_sampler_objects_and_params(inputs):
    probs, emb, labeled = inputs
    s = alx.make_sampler("topk", scorer="margin")
    assert s.name == "topk" and s.needs["probs"]
    np.testing.assert_array_equal(s.select(K, probs=probs, labeled=labeled),
                                  alx.select(K, "topk", probs=probs, labeled=labeled, scorer="margin"))
    assert any(line.startswith("scorer") for line in alx.sampler_params("topk"))
    assert alx.sampler_summary("kcenter")


def test_unknown_param_is_refused(inputs):
    probs, _, labeled = inputs
    with pytest.raises(ValueError, match="scorr"):
        alx.select(K, "topk", probs=probs, labeled=labeled, scorr="margin")
