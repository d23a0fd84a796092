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


def write_png(path, width, height):
    """A real RGB PNG, written without any imaging library."""
    import struct
    import zlib

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + bytes((x * 7 + y * 3) % 256 for x in range(width) for _ in range(3))
                    for y in range(height))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_readers_take_the_pixel_limit(tmp_path):
    write_png(tmp_path / "small.png", 40, 30)  # 1200 pixels
    (tmp_path / "ls.json").write_text(json.dumps([{"id": 1, "data": {"image": "small.png"}}]))
    (tmp_path / "cvat.xml").write_text('<annotations><version>1.1</version>'
                                       '<image id="0" name="small.png" width="40" height="30"/></annotations>')
    (tmp_path / "coco.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "small.png", "width": 40, "height": 30}],
        "categories": [{"id": 1, "name": "cat"}], "annotations": []}))
    root = str(tmp_path)
    readers = [lambda m: alx.read_label_studio(str(tmp_path / "ls.json"), images_root=root, max_pixels=m),
               lambda m: alx.read_cvat(str(tmp_path / "cvat.xml"), images_root=root, max_pixels=m),
               lambda m: alx.read_coco(str(tmp_path / "coco.json"), images_root=root, max_pixels=m)]
    for read in readers:
        with pytest.raises(ValueError, match=r"small\.png.*limit of 1000"):
            read(1000).dataset.images.load(0)
        assert read(1200).dataset.images.load(0).shape[:2] == (30, 40)
