"""Schema, Pool, image sources, Store, options structs, pipelines from Python."""
import numpy as np
import pytest
import torch

import alx


def test_schema_and_pool():
    schema = alx.Schema(["cat", "dog"])
    assert len(schema) == 2 and schema.index("dog") == 1 and "cat" in schema and list(schema) == ["cat", "dog"]
    pool = alx.Pool(schema, ["a.png", "b.png", "c.png"])
    pool.add_labels([0, 2], np.array([1, 0]), round=1)
    np.testing.assert_array_equal(pool.unlabeled(), [1])
    np.testing.assert_array_equal(pool.labeled(), [0, 2])
    np.testing.assert_array_equal(pool.labels, [1, -1, 0])
    np.testing.assert_array_equal(pool.labeled_mask(), [True, False, True])
    assert pool.label_round(0) == 1 and pool.index("b.png") == 1 and pool.find("zz") is None
    with pytest.raises(ValueError):
        pool.add_labels([1], [5], round=2)  # label out of range: nothing applied
    assert pool.num_labeled == 2
    pool2 = alx.Pool(["x", "y"], ["1", "2"])  # a list converts to a Schema
    assert pool2.schema.names == ["x", "y"]


def test_memory_images_and_subsets(rng):
    pixels = rng.integers(0, 255, size=(6, 5, 4), dtype=np.uint8)
    src = alx.MemoryImageSource(pixels)
    assert len(src) == 6
    np.testing.assert_array_equal(src.load(2), pixels[2])
    np.testing.assert_array_equal(src.images([1, 3]), pixels[[1, 3]])
    sub = alx.SubsetImageSource(src, [5, 0])
    np.testing.assert_array_equal(sub.load(0), pixels[5])
    with pytest.raises(ValueError, match="out of range"):
        src.load(6)


def test_store_round_trip(tmp_path):
    path = str(tmp_path / "p.h5")
    pool = alx.Pool(alx.Schema(["a", "b"]), ["i0", "i1", "i2"])
    with alx.Store.create(path, pool) as store:
        store.pool.add_label(1, 0, 1)
        store.add_round(1, [1], selected_ids=["i1"], scores=[0.5], metrics={"accuracy": 0.7})
        store.set_array("emb", np.arange(6, dtype=np.float32).reshape(3, 2), tag="v1")
        store.set_meta("who", "pytest")
        store.save()
    with pytest.raises(OSError):
        alx.Store.create(path, pool)  # never overwrites
    store = alx.Store.open(path)
    assert store.last_round == 1 and store.pool.label(1) == 0
    r = store.rounds()[0]
    assert r["selected_ids"] == ["i1"] and r["metrics"]["accuracy"] == pytest.approx(0.7)
    np.testing.assert_array_equal(store.array("emb"), np.arange(6).reshape(3, 2))
    assert store.meta()["who"] == "pytest"
    store.close()


def test_options_from_kwargs_dicts_and_yaml(tmp_path):
    o = alx.TrainerOptions(epochs=3, lr=0.01)
    assert o.epochs == 3 and o.lr == pytest.approx(0.01)
    o.batch_size = 32
    d = o.to_dict()
    assert d["batch_size"] == 32 and d["optimizer"] == "adam"
    assert alx.TrainerOptions.from_yaml(d) == o
    with pytest.raises(ValueError, match="batch_size"):
        o.batch_size = 0
    with pytest.raises(ValueError, match="None"):
        o.lr = None
    cfg = tmp_path / "c.yaml"
    cfg.write_text("trainer: {epochs: 7, class_weights: [1, 2.5]}\n")
    t = alx.TrainerOptions.from_yaml(cfg, key="trainer")
    assert t.epochs == 7 and t.class_weights == [1.0, 2.5]
    assert any(line.startswith("lr:") for line in alx.TrainerOptions.help())
    loop = alx.LoopOptions(sampler="topk", sampler_params={"scorer": "margin"})
    assert loop.sampler_params == {"scorer": "margin"}
    assert "epochs=3" in repr(alx.TrainerOptions(epochs=3))


def test_pipeline_from_python_list(rng):
    img = rng.integers(0, 255, size=(28, 28), dtype=np.uint8)
    p = alx.Pipeline([{"name": "hflip", "p": 1.0}])
    np.testing.assert_array_equal(p.apply(img, seed=1), img[:, ::-1])
    assert p.names == ["hflip"] and p.to_yaml()[0]["name"] == "hflip"
    with pytest.raises(ValueError, match="nope"):
        alx.Pipeline([{"name": "nope"}])
    assert "hflip" in alx.transform_names()
    t = alx.image_to_tensor(img)
    assert isinstance(t, torch.Tensor) and tuple(t.shape) == (1, 28, 28)
    assert float(t.max()) <= 1.0


def test_fashion_mnist(fashion):
    assert len(fashion.pool) == 10000 and fashion.pool.num_labeled == 10000
    assert fashion.pool.schema.names[0] == "T-shirt/top"
    img = fashion.images.load(0)
    assert img.shape == (28, 28) and img.dtype == np.uint8
    sub = fashion.subset(np.arange(100))
    assert len(sub.pool) == 100 and sub.pool.label(3) == fashion.pool.label(3)
