"""Models, Trainer, Predictor and the ActiveLoop from Python, with Python scorers and oracles."""
import numpy as np
import pytest
import torch

import alx


@pytest.fixture(scope="module")
def small(fashion):
    pool = fashion.subset(np.arange(600))
    test = fashion.subset(np.arange(600, 800))
    return pool, test


def test_model_forward_embed():
    model = alx.make_model(name="gal_cnn", num_classes=10)
    x = torch.rand(4, 1, 28, 28)
    logits = model(x)
    assert isinstance(logits, torch.Tensor) and tuple(logits.shape) == (4, 10)
    assert tuple(model.embed(x.numpy()).shape) == (4, model.embedding_dim)
    assert "gal_cnn" in alx.model_names()


def test_trainer_and_predictor(small):
    pool, test = small
    model = alx.make_model(alx.ModelOptions(name="gal_cnn", num_classes=10))
    trainer = alx.Trainer(epochs=2, batch_size=64, workers=1, threads=1, seed=1)
    result = trainer.fit(model, pool.images, pool.pool)
    assert result.num_train == 600 and len(result.epochs) == 2
    metrics = trainer.evaluate(model, test.images, None, test.pool.labels)
    assert metrics.n == 200 and 0.2 < metrics.accuracy <= 1.0
    predictor = alx.Predictor(mc_passes=4, workers=1, threads=1)
    out = predictor.predict(model, pool.images, np.arange(50), what=["probs", "mc_samples", "embeddings"])
    assert tuple(out.probs.shape) == (50, 10) and tuple(out.mc_samples.shape) == (50, 4, 10)
    assert out.grad_embeddings is None
    np.testing.assert_allclose(out.probs.sum(dim=1).numpy(), 1.0, rtol=1e-5)
    # the predictor's output goes straight into score / select
    s = alx.score(out.mc_samples, "bald")
    assert s.shape == (50,) and (s >= 0).all()
    batch = alx.select(5, "badge", probs=out.probs, embeddings=out.embeddings, labeled=np.zeros(50, bool))
    assert len(set(batch)) == 5


class MarginScorer(alx.Scorer):
    """A Python subclass of alx.Scorer: 1 - (p1 - p2) of the mean over passes."""

    calls = 0

    def score(self, probs):
        MarginScorer.calls += 1
        top2 = probs.mean(dim=1).topk(2, dim=1).values
        return 1.0 - (top2[:, 0] - top2[:, 1])

    def name(self):
        return "py_margin"


class ListOracle(alx.Oracle):
    def __init__(self, truth):
        super().__init__()
        self.truth = np.asarray(truth)
        self.asked = []

    def reveal(self, indices):
        self.asked.extend(int(i) for i in indices)
        return self.truth[indices]


def test_python_scorer_in_the_loop(small, tmp_path):
    pool, test = small
    alx.register_scorer("py_margin", MarginScorer())
    np.testing.assert_allclose(alx.score(np.full((3, 4), 0.25, np.float32), "py_margin"), 1.0)

    truth = pool.pool.labels.copy()
    hidden = alx.Pool(pool.pool.schema, pool.pool.ids)
    initial = np.arange(0, 600, 30)  # 20 labels
    hidden.add_labels(initial, truth[initial], 0)
    store = alx.Store.create(str(tmp_path / "loop.h5"), hidden)
    oracle = ListOracle(truth)
    model = alx.make_model(name="gal_cnn", num_classes=10)
    loop = alx.ActiveLoop(dict(sampler="topk", sampler_params={"scorer": "py_margin"}, batch_size=10, rounds=2),
                          model=model, store=store, images=pool.images,
                          trainer=dict(epochs=1, batch_size=32, workers=1, threads=1),
                          predictor=dict(workers=1, threads=1), oracle=oracle,
                          eval_images=test.images, eval_labels=test.pool.labels)
    seen = []
    reason = loop.run(lambda r: seen.append((r.round, r.metrics.accuracy, r.selected.copy())))
    assert isinstance(reason, str) and [s[0] for s in seen] == [1, 2]
    assert MarginScorer.calls >= 2
    assert len(oracle.asked) == 20 and len(set(oracle.asked)) == 20
    assert store.pool.num_labeled == 40 and store.last_round == 2
    assert model.version >= 2  # the Python-side model is the one trained
    assert not set(oracle.asked) & set(initial.tolist())


def test_loop_callback_errors_propagate(small, tmp_path):
    pool, _ = small
    truth = pool.pool.labels.copy()
    hidden = alx.Pool(pool.pool.schema, pool.pool.ids)
    hidden.add_labels(np.arange(20), truth[:20], 0)
    store = alx.Store.create(str(tmp_path / "err.h5"), hidden)
    loop = alx.ActiveLoop(alx.LoopOptions(sampler="random", batch_size=5, rounds=3),
                          model=alx.make_model(name="gal_cnn", num_classes=10), store=store, images=pool.images,
                          trainer={"epochs": 1, "workers": 1, "threads": 1}, predictor={"threads": 1}, oracle=alx.TruthOracle(truth))

    def stop(r):
        raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):
        loop.run(stop)
    assert store.last_round == 1  # the round finished and was stored before the callback
