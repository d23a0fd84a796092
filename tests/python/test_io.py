"""Labeling-tool exports in, next batches out, through the Python API (real fixtures)."""
import json
import os
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import alx

FIXTURES = os.environ.get("ALX_FIXTURES_DIR", os.path.join(os.path.dirname(__file__), "..", "fixtures"))


def fixture(rel):
    path = os.path.join(FIXTURES, rel)
    if not os.path.exists(path):
        pytest.skip(f"fixture {rel} not found")
    return path


def make_batch(dataset, k=2):
    batch = alx.NextBatch()
    batch.schema = dataset.pool.schema
    batch.model_version = "pytest"
    c = len(batch.schema)
    items = []
    for rank in range(k):
        probs = np.full(c, 1.0 / c, np.float32)
        items.append(alx.BatchItem(index=rank, id=dataset.pool.id(rank), rank=rank, uncertainty=0.5,
                                   predicted_label=0, confidence=float(probs[0]), probabilities=probs.tolist()))
    batch.items = items
    batch.validate()
    return batch


def test_cvat_in_and_out(tmp_path):
    cvat = alx.read_cvat(fixture("cvat-docs/xml_format_example_annotation.xml"), check_images=False)
    ds = cvat.dataset
    assert len(ds.pool) > 0 and len(ds.pool.schema) > 0 and len(cvat.names) == len(ds.pool)
    out = tmp_path / "next.xml"
    alx.write_cvat(str(out), make_batch(ds, k=1))
    assert ET.parse(out).getroot().tag == "annotations"
    back = alx.read_cvat(str(out), alx.CvatOptions(check_images=False))
    assert len(back.dataset.pool) == 1


def test_coco_in_and_out(tmp_path):
    coco = alx.read_coco(fixture("datumaro/tests/assets/coco_dataset/coco_instances/annotations/instances_train.json"),
                         {"check_images": False})
    ds = coco.dataset
    assert len(ds.pool) > 0 and len(coco.ids.image_ids) == len(ds.pool)
    assert ds.pool.has_objects
    batch = make_batch(ds, k=1)
    item = batch.items[0]
    item.objects = [alx.Object(label=0, box=alx.Box(1, 2, 5, 8), score=0.7)]
    batch.items = [item]
    out = tmp_path / "results.json"
    alx.write_coco_results(str(out), batch, coco.ids)
    results = json.loads(out.read_text())
    assert results[0]["score"] == pytest.approx(0.7) and results[0]["bbox"] == [1, 2, 4, 6]
    back = alx.read_coco_results(str(out), coco.ids)
    assert len(back) == len(ds.pool) and back[0][0].score == pytest.approx(0.7)
    u = alx.image_uncertainties(back, aggregation="max")
    assert u.shape == (len(ds.pool),) and u[0] == pytest.approx(0.3)


def test_label_studio_in_and_out(tmp_path):
    ls = alx.read_label_studio(fixture("label-studio/label_studio/tests/test_suites/samples/previous_export.json"),
                               check_images=False)
    ds = ls.dataset
    assert len(ds.pool) > 0 and len(ls.image_refs) == len(ds.pool)
    out = tmp_path / "tasks.json"
    alx.write_label_studio_tasks(str(out), make_batch(ds, k=1), ls.names)
    tasks = json.loads(out.read_text())
    assert tasks[0]["data"]["alx_rank"] == 0 and tasks[0]["predictions"][0]["model_version"] == "pytest"


def test_bad_batches_are_refused(tmp_path):
    batch = alx.NextBatch()
    batch.schema = alx.Schema(["a", "b"])
    batch.items = [alx.BatchItem(index=0, id="x", rank=0, predicted_label=5, confidence=0.5)]
    with pytest.raises(ValueError, match="x"):
        alx.write_label_studio_tasks(str(tmp_path / "t.json"), batch)
    assert not (tmp_path / "t.json").exists()
