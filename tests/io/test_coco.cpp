// COCO instances and results, on the real files in fixtures.
#include <alx/core/error.h>
#include <alx/core/io/coco.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "io_test_util.h"

namespace alx::io {
namespace {

using nlohmann::json;
using test::fixture;
using test::kDatumaro;

bool has_note(const Dataset& d, const std::string& fragment) {
  return std::any_of(d.notes.begin(), d.notes.end(),
                     [&](const std::string& n) { return n.find(fragment) != std::string::npos; });
}

const std::string kInstances = kDatumaro + "coco_dataset/coco_instances/";

TEST(CocoRead, InstancesTrainNonContiguousCategories) {
  const auto coco = read_coco(fixture(kInstances + "annotations/instances_train.json"),
                              CocoOptions().images_root(fixture(kInstances + "images/train")));
  const Pool& pool = coco.dataset.pool;
  ASSERT_EQ(pool.size(), 1);
  EXPECT_EQ(pool.id(0), "a.jpg");
  EXPECT_EQ(pool.schema().names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(coco.ids.category_ids, (std::vector<int64_t>{1, 2, 4}));
  EXPECT_EQ(coco.ids.image_ids, std::vector<int64_t>{5});
  EXPECT_EQ(coco.sizes[0], (ImageSize{10, 5}));
  ASSERT_EQ(pool.objects(0).size(), 1u);
  EXPECT_EQ(pool.objects(0)[0].label, 1);
  EXPECT_EQ(pool.objects(0)[0].box, (Box{2, 2, 5, 3}));
  EXPECT_FALSE(pool.is_labeled(0));
  EXPECT_FALSE(coco.dataset.images->load(0).empty());
}

TEST(CocoRead, InstancesValPolygonAndUncompressedRle) {
  const auto coco = read_coco(fixture(kInstances + "annotations/instances_val.json"),
                              CocoOptions().images_root(fixture(kInstances + "images/val")));
  const Pool& pool = coco.dataset.pool;
  ASSERT_EQ(pool.size(), 1);
  const auto& objects = pool.objects(0);
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0].label, 0);
  ASSERT_EQ(objects[0].polygons.size(), 1u);
  EXPECT_EQ(objects[0].polygons[0].size(), 4u);
  EXPECT_EQ(objects[0].box, (Box{0, 0, 1, 2}));
  EXPECT_EQ(objects[1].label, 1);
  EXPECT_TRUE(objects[1].polygons.empty());
  EXPECT_EQ(objects[1].box, (Box{0, 0, 1, 9}));  // the file's bbox is kept when present
}

TEST(CocoRle, ExtentOfUncompressedAndCompressedMasks) {
  // The fixture's mask: 20 ones after 0 zeros, column-major in 10 rows x 5 columns.
  const RleExtent ext = rle_extent({0, 20, 30}, 10, 5);
  EXPECT_EQ(ext.area, 20);
  EXPECT_EQ(ext.box, (Box{0, 0, 2, 10}));
  const RleExtent mid = rle_extent({12, 3, 35}, 10, 5);  // rows 2..4 of column 1
  EXPECT_EQ(mid.box, (Box{1, 2, 2, 5}));
  EXPECT_EQ(rle_extent({50}, 10, 5).area, 0);
  EXPECT_THROW_WITH(rle_extent({0, 20, 31}, 10, 5), FormatError, "overflows");
  EXPECT_THROW_WITH(rle_extent({-1, 5}, 10, 5), FormatError, "run 0");
  // Strings made with pycocotools' rleToString algorithm.
  EXPECT_EQ(rle_from_string("0d0n0"), (std::vector<int64_t>{0, 20, 30}));
  EXPECT_EQ(rle_from_string("53T34nLQo0O"), (std::vector<int64_t>{5, 3, 100, 7, 2, 1000, 1}));
  EXPECT_THROW_WITH(rle_from_string("0d0n"), FormatError, "ends inside");
  EXPECT_THROW_WITH(rle_from_string("\x01"), FormatError, "invalid character");
}

TEST(CocoRead, CompressedRleWithoutBbox) {
  const auto dir = test::scratch("rle");
  const std::string path = test::write_text(dir / "c.json", R"({"images": [{"id": 1,
    "file_name": "x.png", "width": 5, "height": 10}], "categories": [{"id": 3, "name": "m"}],
    "annotations": [{"id": 8, "image_id": 1, "category_id": 3, "iscrowd": 1,
      "segmentation": {"size": [10, 5], "counts": "0d0n0"}}]})");
  const auto coco = read_coco(path, CocoOptions().check_images(false));
  EXPECT_EQ(coco.dataset.pool.objects(0).at(0).box, (Box{0, 0, 2, 10}));
}

TEST(CocoRead, LabelsVariantIsImageLevelClasses) {
  const std::string base = kDatumaro + "coco_dataset/coco_labels/";
  const auto train = read_coco(fixture(base + "annotations/labels_train.json"),
                               CocoOptions().images_root(fixture(base + "images/train")));
  ASSERT_EQ(train.dataset.pool.size(), 1);
  EXPECT_EQ(train.dataset.pool.schema().name(train.dataset.pool.label(0)), "b");
  EXPECT_FALSE(train.dataset.pool.has_objects());
  // The val file gives b.jpg two classes: refused by default, first kept on request.
  const std::string val = fixture(base + "annotations/labels_val.json");
  const auto opts = CocoOptions().images_root(fixture(base + "images/val"));
  EXPECT_THROW_WITH(read_coco(val, opts), FormatError, "labels_val.json", "image 40 'b.jpg'",
                    "several image labels", "'a'", "'b'");
  const auto v = read_coco(val, CocoOptions(opts).allow_multiple_labels(true));
  EXPECT_EQ(v.dataset.pool.schema().name(v.dataset.pool.label(0)), "a");
  EXPECT_TRUE(has_note(v.dataset, "kept 'a', dropped 'b'"));
}

TEST(CocoRead, RelaxedCocoBesideItsImages) {
  const auto coco = read_coco(fixture(kDatumaro + "kaggle_dataset/relaxed_coco/annotations.json"));
  const Pool& pool = coco.dataset.pool;
  ASSERT_EQ(pool.size(), 2);
  EXPECT_EQ(pool.ids(), (std::vector<std::string>{"train_001.jpg", "train_002.jpg"}));
  EXPECT_EQ(pool.schema().names(), (std::vector<std::string>{"label_0", "label_1"}));
  EXPECT_EQ(pool.objects(1).at(0).box, (Box{0, 0, 2, 4}));
  EXPECT_FALSE(coco.dataset.images->load(1).empty());
}

TEST(CocoRead, CocoAnnotatorExportWithStringIscrowd) {
  const auto coco = read_coco(
      fixture(
          "label-studio-sdk/tests/custom/converter/data/test_import_coco/coco_import_input.json"),
      CocoOptions().check_images(false));
  const Pool& pool = coco.dataset.pool;
  ASSERT_EQ(pool.size(), 2);
  EXPECT_EQ(pool.schema().names(), (std::vector<std::string>{"Class_1", "Class_2"}));
  EXPECT_EQ(coco.ids.image_ids, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(coco.sizes[0], (ImageSize{4022, 6033}));
  ASSERT_EQ(pool.objects(0).size(), 1u);
  EXPECT_EQ(pool.objects(0)[0].box, (Box{3651, 872, 3764, 986}));
  EXPECT_GT(pool.objects(0)[0].polygons.at(0).size(), 20u);
  EXPECT_EQ(pool.objects(1).at(0).label, 1);
}

TEST(CocoRead, RefusalsNameFileAndItem) {
  const auto dir = test::scratch("bad");
  auto file = [&](const std::string& name, const std::string& annotations,
                  const std::string& file_name = "a.jpg") {
    return test::write_text(dir / name, R"({"images": [{"id": 1, "file_name": ")" + file_name +
                                            R"("}], "categories": [{"id": 1, "name": "a"}],
                                            "annotations": [)" +
                                            annotations + "]}");
  };
  const auto nocheck = CocoOptions().check_images(false);
  EXPECT_THROW_WITH(read_coco((dir / "absent.json").string()), IoError, "absent.json");
  EXPECT_THROW_WITH(read_coco(test::write_text(dir / "cut.json", R"({"images": [{"id": 1, "file)")),
                    FormatError, "cut.json", "not valid JSON");
  // nlohmann refuses a number beyond double with out_of_range, not parse_error (fuzz finding)
  EXPECT_THROW_WITH(
      read_coco(test::write_text(dir / "huge.json", R"({"images": [{"id": 1E99999}]})")),
      FormatError, "huge.json", "a number JSON cannot hold");
  EXPECT_THROW_WITH(read_coco(test::write_text(dir / "list.json", "[]")), FormatError, "list.json",
                    "results file");
  EXPECT_THROW_WITH(read_coco(test::write_text(dir / "noimg.json", R"({"images": []})")),
                    FormatError, "noimg.json", "no images");
  EXPECT_THROW_WITH(read_coco(test::write_text(dir / "other.json", R"({"a": 1})")), FormatError,
                    "other.json", "not a COCO instances file");
  EXPECT_THROW_WITH(
      read_coco(file("img.json", R"({"id": 4, "image_id": 9, "category_id": 1})"), nocheck),
      FormatError, "img.json", "annotation 4", "image_id 9");
  EXPECT_THROW_WITH(
      read_coco(file("cat.json", R"({"id": 4, "image_id": 1, "category_id": 2})"), nocheck),
      FormatError, "cat.json", "annotation 4", "category_id 2");
  EXPECT_THROW_WITH(
      read_coco(
          file("bbox.json", R"({"id": 4, "image_id": 1, "category_id": 1, "bbox": [0, 0, -1, 2]})"),
          nocheck),
      FormatError, "bbox.json", "annotation 4", "width and height");
  EXPECT_THROW_WITH(read_coco(file("poly.json", R"({"id": 4, "image_id": 1, "category_id": 1,
                                      "segmentation": [[1, 2, 3]]})"),
                              nocheck),
                    FormatError, "poly.json", "annotation 4", "at least 3 x, y pairs");
  EXPECT_THROW_WITH(read_coco(file("rle.json", R"({"id": 4, "image_id": 1, "category_id": 1,
                                     "segmentation": {"size": [2, 2], "counts": [1, 9]}})"),
                              nocheck),
                    FormatError, "rle.json", "annotation 4", "overflows");
  for (const std::string name : {"../a.jpg", "/etc/passwd"}) {
    SCOPED_TRACE(name);
    EXPECT_THROW_WITH(read_coco(file("escape.json", "", name), nocheck), FormatError, "escape.json",
                      "image 1", "outside the image root");
  }
  EXPECT_THROW_WITH(read_coco(file("missing.json", ""), CocoOptions().images_root(dir.string())),
                    IoError, "missing.json", "image 1 'a.jpg'", "not found");
  EXPECT_THROW_WITH(read_coco(file("fixed.json", ""), CocoOptions(nocheck).classes({"b"})),
                    FormatError, "fixed.json", "category 1", "unknown label 'a'");
}

NextBatch detections() {
  NextBatch b;
  b.schema = Schema({"a", "b", "c"});
  BatchItem it;
  it.index = 0;
  it.id = "a.jpg";
  it.rank = 0;
  it.uncertainty = 0.9;
  Object o;
  o.label = 2;
  o.box = {1, 2, 4, 3};
  o.score = 0.3f;
  it.objects.push_back(o);
  o.label = 0;
  o.box = {0, 0, 2, 2};
  o.polygons = {{{0, 0}, {2, 0}, {2, 2}}};
  o.score = 0.8f;
  it.objects.push_back(o);
  b.items.push_back(it);
  return b;
}

TEST(CocoResults, WriteThenReadBack) {
  const auto coco = read_coco(fixture(kInstances + "annotations/instances_train.json"),
                              CocoOptions().check_images(false));
  const auto dir = test::scratch("results");
  const std::string path = (dir / "results.json").string();
  write_coco_results(path, detections(), coco.ids);
  std::ifstream in(path);
  const json results = json::parse(in);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0]["image_id"], 5);
  EXPECT_EQ(results[0]["category_id"], 4);  // class c has COCO id 4
  EXPECT_EQ(results[0]["bbox"], json({1.0, 2.0, 3.0, 1.0}));
  EXPECT_NEAR(results[0]["score"].get<double>(), 0.3, 1e-6);
  EXPECT_EQ(results[1]["segmentation"][0].size(), 6u);

  const auto back = read_coco_results(path, coco.ids);
  ASSERT_EQ(back.size(), 1u);
  ASSERT_EQ(back[0].size(), 2u);
  EXPECT_EQ(back[0][0].label, 2);
  EXPECT_EQ(back[0][0].box, (Box{1, 2, 4, 3}));
  EXPECT_FLOAT_EQ(back[0][1].score, 0.8f);
  EXPECT_EQ(back[0][1].polygons.at(0).size(), 3u);
}

TEST(CocoResults, RefusalsNameFileAndResult) {
  const CocoIds ids = CocoIds::dense(2, 2);
  EXPECT_EQ(ids.image_ids, (std::vector<int64_t>{1, 2}));
  const auto dir = test::scratch("bad");
  EXPECT_THROW_WITH(read_coco_results(test::write_text(dir / "obj.json", "{}"), ids), FormatError,
                    "obj.json", "expected a list");
  EXPECT_THROW_WITH(
      read_coco_results(test::write_text(dir / "img.json", R"([{"image_id": 1, "category_id": 1,
        "bbox": [0, 0, 1, 1], "score": 0.5}, {"image_id": 7, "category_id": 1,
        "bbox": [0, 0, 1, 1], "score": 0.5}])"),
                        ids),
      FormatError, "img.json", "result 1", "image_id 7");
  EXPECT_THROW_WITH(read_coco_results(test::write_text(dir / "score.json", R"([{"image_id": 1,
        "category_id": 1, "bbox": [0, 0, 1, 1]}])"),
                                      ids),
                    FormatError, "score.json", "result 0", "no 'score'");
  EXPECT_THROW_WITH(read_coco_results(test::write_text(dir / "range.json", R"([{"image_id": 1,
        "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1.5}])"),
                                      ids),
                    FormatError, "range.json", "result 0", "[0, 1]");
  auto b = detections();
  b.items[0].index = 5;
  EXPECT_THROW_WITH(write_coco_results((dir / "out.json").string(), b, CocoIds::dense(2, 3)),
                    InvalidArgument, "a.jpg", "index 5");
  EXPECT_FALSE(std::filesystem::exists(dir / "out.json"));
}

}  // namespace
}  // namespace alx::io
