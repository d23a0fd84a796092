// Label Studio export reader and tasks writer, on the real exports in shared/fixtures.
#include <alx/core/config.h>
#include <alx/core/error.h>
#include <alx/core/io/label_studio.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "io_test_util.h"

namespace alx::io {
namespace {

using nlohmann::json;
using test::fixture;
using test::kLsSdk;

LabelStudioOptions no_image_check() { return LabelStudioOptions().check_images(false); }

bool has_note(const Dataset& d, const std::string& fragment) {
  return std::any_of(d.notes.begin(), d.notes.end(),
                     [&](const std::string& n) { return n.find(fragment) != std::string::npos; });
}

TEST(LabelStudioRead, CocoConverterExportRectanglePolygonAndSkippedKeypoints) {
  const auto ls =
      read_label_studio(fixture(kLsSdk + "test_export_coco/data.json"), no_image_check());
  const Pool& pool = ls.dataset.pool;
  ASSERT_EQ(pool.size(), 1);
  EXPECT_EQ(pool.id(0), "test_image1.jpg");
  EXPECT_EQ(ls.task_ids[0], 175210175);
  EXPECT_EQ(ls.image_refs[0], "test_image1.jpg");
  EXPECT_TRUE(ls.annotated[0]);
  EXPECT_FALSE(pool.is_labeled(0));  // boxes and polygons, no class choice
  EXPECT_EQ(ls.sizes[0], (ImageSize{500, 320}));
  EXPECT_EQ(pool.schema().names(), (std::vector<std::string>{"rectangle_label", "polygon_label"}));
  const auto& objects = pool.objects(0);
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0].label, 0);
  EXPECT_NEAR(objects[0].box.x1, 31.941923774954628 * 5.0, 1e-3);
  EXPECT_NEAR(objects[0].box.y1, 4.113475177304964 * 3.2, 1e-3);
  EXPECT_NEAR(objects[0].box.width(), 6.352087114337568 * 5.0, 1e-3);
  EXPECT_NEAR(objects[0].box.height(), 9.929078014184398 * 3.2, 1e-3);
  EXPECT_EQ(objects[1].label, 1);
  ASSERT_EQ(objects[1].polygons.size(), 1u);
  EXPECT_EQ(objects[1].polygons[0].size(), 3u);
  EXPECT_NEAR(objects[1].polygons[0][0].x, 41.74228675136116 * 5.0, 1e-3);
  EXPECT_NEAR(objects[1].box.y2, 12.4822695035461 * 3.2, 1e-3);
  EXPECT_TRUE(has_note(ls.dataset, "skipped 2 'keypointlabels'"));
  EXPECT_EQ(ls.names.rectangle_from_name, "rectangle_label");
  EXPECT_EQ(ls.names.polygon_from_name, "polygon_label");
  EXPECT_EQ(ls.names.to_name, "image");
  EXPECT_EQ(ls.names.data_key, "image");
}

TEST(LabelStudioRead, JsonMinExportUploadReference) {
  const auto ls =
      read_label_studio(fixture(kLsSdk + "test_export_json_min/data.json"), no_image_check());
  ASSERT_EQ(ls.dataset.pool.size(), 1);
  EXPECT_EQ(ls.image_refs[0], "/data/upload/29/example.png");
  EXPECT_EQ(ls.dataset.pool.id(0), "example.png");
  EXPECT_EQ(ls.dataset.pool.schema().names(), std::vector<std::string>{"Airplane"});
  EXPECT_EQ(ls.names.polygon_from_name, "label");
  ASSERT_EQ(ls.dataset.pool.objects(0).size(), 1u);
  EXPECT_NEAR(ls.dataset.pool.objects(0)[0].polygons[0][1].y, 60.317460317460316 * 1.28, 1e-3);
}

TEST(LabelStudioRead, YoloExportTwoAnnotationsTakesTheMostRecent) {
  const auto ls =
      read_label_studio(fixture(kLsSdk + "test_export_yolo/data.json"), no_image_check());
  const Pool& pool = ls.dataset.pool;
  ASSERT_EQ(pool.size(), 2);
  EXPECT_EQ(pool.id(0), "image1");  // "/image1": a path on the Label Studio server
  EXPECT_EQ(pool.id(1), "image2");
  EXPECT_EQ(pool.schema().names(), (std::vector<std::string>{"parasites", "white"}));
  // Task 1 has annotations 1 and 2; annotation 2 was updated last.
  EXPECT_TRUE(has_note(ls.dataset, "task 1: 2 annotations, used annotation 2 (the most recent)"));
  ASSERT_EQ(pool.objects(0).size(), 2u);
  EXPECT_NEAR(pool.objects(0)[0].box.x1, 37.88706739526412 * 28.0, 1e-2);
  EXPECT_EQ(pool.objects(1).size(), 2u);
}

TEST(LabelStudioRead, YoloPolygonExport) {
  const auto ls =
      read_label_studio(fixture(kLsSdk + "test_export_yolo/data_polygons.json"), no_image_check());
  ASSERT_EQ(ls.dataset.pool.size(), 1);
  EXPECT_EQ(ls.sizes[0], (ImageSize{640, 426}));
  const auto& obj = ls.dataset.pool.objects(0).at(0);
  EXPECT_GT(obj.polygons.at(0).size(), 10u);
  EXPECT_NEAR(obj.polygons[0][0].x, 60 * 6.4, 1e-3);
  EXPECT_LE(obj.box.x2, 640.f);
}

TEST(LabelStudioRead, ClassificationSingleTaskObjectWithUrl) {
  const auto ls = read_label_studio(
      fixture("label-studio/label_studio/tests/test_suites/samples/previous_export.json"),
      no_image_check());
  const Pool& pool = ls.dataset.pool;
  ASSERT_EQ(pool.size(), 1);
  EXPECT_EQ(ls.task_ids[0], 1234);
  EXPECT_EQ(ls.image_refs[0], "https://pytest.labelstud.io/mypets.jpg");
  EXPECT_EQ(pool.id(0), "mypets.jpg");
  ASSERT_TRUE(pool.is_labeled(0));
  EXPECT_EQ(pool.schema().name(pool.label(0)), "Cat");
  EXPECT_EQ(pool.label_round(0), 0);
  EXPECT_EQ(ls.names.choices_from_name, "label");
  EXPECT_EQ(ls.names.to_name, "image");
}

TEST(LabelStudioRead, TextTasksAreRefusedSayingWhy) {
  // A text export (choices with quotes, tabs, newlines, Cyrillic) has no image.
  EXPECT_THROW_WITH(
      read_label_studio(fixture(kLsSdk + "test_export_csv/csv_test2.json"), no_image_check()),
      FormatError, "csv_test2.json", "task 4", "no image reference", "uri", "alx labels images");
  // The import file mixing tasks with predictions and flat tasks is text too.
  EXPECT_THROW_WITH(
      read_label_studio(
          fixture(
              "label-studio/label_studio/tests/data_manager/tasks_annotations_predictions.json"),
          no_image_check()),
      FormatError, "tasks_annotations_predictions.json", "task #0", "text");
}

TEST(LabelStudioRead, TextTaskWithExplicitImageKeyStillRefusedForMissingKey) {
  EXPECT_THROW_WITH(read_label_studio(fixture(kLsSdk + "test_export_csv/csv_test2.json"),
                                      no_image_check().data_key("image")),
                    FormatError, "task 4", "'image'");
}

TEST(LabelStudioRead, MissingImageIsReportedWithTaskAndRoot) {
  const auto root = test::scratch("root");
  EXPECT_THROW_WITH(read_label_studio(fixture(kLsSdk + "test_export_json_min/data.json"),
                                      LabelStudioOptions().images_root(root.string())),
                    IoError, "data.json", "task 87", "/data/upload/29/example.png", "not found");
}

TEST(LabelStudioRead, UploadHashPrefixAndMediaFolderAndLocalFiles) {
  const auto dir = test::scratch("ls");
  test::touch(dir / "images" / "a.png");
  test::touch(dir / "images" / "upload" / "7" / "0a1b2c3d-b.png");
  test::touch(dir / "images" / "sub dir" / "c.png");
  test::touch(dir / "images" / "d.png");
  const std::string path = test::write_text(dir / "export.json", R"([
    {"id": 1, "data": {"image": "/data/upload/7/0a1b2c3d-a.png"}},
    {"id": 2, "data": {"image": "/data/upload/7/0a1b2c3d-b.png"}},
    {"id": 3, "data": {"image": "/data/local-files/?d=sub%20dir%2Fc.png"}},
    {"id": 4, "data": {"image": "d.png"}}
  ])");
  const auto ls =
      read_label_studio(path, LabelStudioOptions().images_root((dir / "images").string()));
  const Pool& pool = ls.dataset.pool;
  ASSERT_EQ(pool.size(), 4);
  EXPECT_EQ(pool.id(0), "a.png");
  EXPECT_EQ(pool.id(1), "upload/7/0a1b2c3d-b.png");
  EXPECT_EQ(pool.id(2), "sub dir/c.png");
  EXPECT_EQ(pool.id(3), "d.png");
  EXPECT_TRUE(
      has_note(ls.dataset, "task 1: image '/data/upload/7/0a1b2c3d-a.png' found as 'a.png'"));
  EXPECT_EQ(pool.num_labeled(), 0);
  EXPECT_FALSE(ls.annotated[0]);
}

TEST(LabelStudioRead, RelativePathsOfReferences) {
  EXPECT_EQ(label_studio_relative_path("/data/upload/3/ab12cd34-x.png"), "ab12cd34-x.png");
  EXPECT_EQ(label_studio_relative_path("/data/upload/x.png"), "x.png");
  EXPECT_EQ(label_studio_relative_path("/data/local-files/?d=imgs%2Fa.png"), "imgs/a.png");
  EXPECT_EQ(label_studio_relative_path("/data/local-files/?d=imgs/a.png&x=1"), "imgs/a.png");
  EXPECT_EQ(label_studio_relative_path("https://h.example/p/a.png?sig=1"), "p/a.png");
  EXPECT_EQ(label_studio_relative_path("s3://bucket/k/a.png"), "k/a.png");
  EXPECT_EQ(label_studio_relative_path("/image1"), "image1");
  EXPECT_EQ(label_studio_relative_path("/data/local-files/?d=a+b%2B.png"), "a b+.png");
  EXPECT_EQ(label_studio_relative_path("/data/upload/1/a+b%20c.png"), "a+b c.png");
  EXPECT_EQ(label_studio_relative_path("x/y.jpg"), "x/y.jpg");
}

TEST(LabelStudioRead, PathsEscapingTheRootAreRefusedNamingFileAndTask) {
  const auto dir = test::scratch("hostile");
  const auto root = dir / "images";
  std::filesystem::create_directories(root);
  test::touch(dir / "secret.png");
  std::filesystem::create_symlink(dir / "secret.png", root / "link.png");
  for (const std::string ref :
       {"../secret.png", "/data/local-files/?d=../secret.png",
        "/data/local-files/?d=%2Fetc%2Fpasswd", "/data/upload/1/../../secret.png",
        "https://h/../../secret.png", "//etc/passwd", "link.png"}) {
    SCOPED_TRACE(ref);
    const std::string path = test::write_text(
        dir / "export.json", json::array({{{"id", 42}, {"data", {{"image", ref}}}}}).dump());
    EXPECT_THROW_WITH(read_label_studio(path, LabelStudioOptions().images_root(root.string())),
                      FormatError, "export.json", "task 42", "outside the image root");
  }
}

TEST(LabelStudioRead, AnnotationRules) {
  const auto dir = test::scratch("rules");
  const std::string path = test::write_text(dir / "export.json", R"([
    {"id": 1, "data": {"image": "a.png"}, "annotations": [
      {"id": 10, "was_cancelled": true, "result": [
        {"type": "choices", "from_name": "c", "to_name": "img", "value": {"choices": ["dog"]}}]}]},
    {"id": 2, "data": {"image": "b.png"}, "annotations": [
      {"id": 20, "ground_truth": true, "updated_at": "2020-01-01T00:00:00Z", "result": [
        {"type": "choices", "from_name": "c", "to_name": "img", "value": {"choices": ["cat"]}}]},
      {"id": 21, "updated_at": "2024-01-01T00:00:00Z", "result": [
        {"type": "choices", "from_name": "c", "to_name": "img", "value": {"choices": ["dog"]}}]}]},
    {"id": 3, "data": {"image": "c.png"}, "annotations": [
      {"id": 30, "updated_at": "2024-05-01T00:00:00Z", "result": [
        {"type": "choices", "from_name": "c", "to_name": "img", "value": {"choices": ["dog"]}}]},
      {"id": 31, "updated_at": "2023-01-01T00:00:00Z", "result": [
        {"type": "choices", "from_name": "c", "to_name": "img", "value": {"choices": ["cat"]}}]},
      {"id": 32, "was_cancelled": true, "updated_at": "2025-01-01T00:00:00Z", "result": []}]}
  ])");
  const auto ls = read_label_studio(path, no_image_check());
  const Pool& pool = ls.dataset.pool;
  ASSERT_EQ(pool.size(), 3);
  EXPECT_FALSE(pool.is_labeled(0));
  EXPECT_FALSE(ls.annotated[0]);
  EXPECT_TRUE(has_note(ls.dataset, "task 1: annotation 10 was cancelled"));
  EXPECT_EQ(pool.schema().name(pool.label(1)), "cat");  // ground truth wins
  EXPECT_TRUE(has_note(ls.dataset, "used annotation 20 (ground truth)"));
  EXPECT_EQ(pool.schema().name(pool.label(2)), "dog");  // most recent, cancelled 32 ignored
  EXPECT_TRUE(has_note(ls.dataset, "task 3: annotation 32 was cancelled"));
  EXPECT_EQ(ls.names.choices_from_name, "c");
  EXPECT_EQ(ls.names.to_name, "img");
}

TEST(LabelStudioRead, FixedClassesRefuseUnknownLabelNamingTaskAndLabel) {
  const auto ls_path = fixture(kLsSdk + "test_export_yolo/data.json");
  EXPECT_THROW_WITH(read_label_studio(ls_path, no_image_check().classes({"parasites"})),
                    FormatError, "data.json", "task 1", "unknown label 'white'", "'parasites'");
  const auto ls = read_label_studio(ls_path, no_image_check().classes({"white", "parasites", "x"}));
  EXPECT_EQ(ls.dataset.pool.schema().names(),
            (std::vector<std::string>{"white", "parasites", "x"}));
  EXPECT_EQ(ls.dataset.pool.objects(1)[0].label, 0);
}

TEST(LabelStudioRead, SeveralChoicesRefusedUnlessAllowed) {
  const auto dir = test::scratch("multi");
  const std::string path = test::write_text(dir / "export.json", R"([{"id": 5,
    "data": {"image": "a.png"}, "annotations": [{"id": 1, "result": [
      {"type": "choices", "from_name": "c", "to_name": "image", "value": {"choices": ["a", "b"]}}]}]}])");
  EXPECT_THROW_WITH(read_label_studio(path, no_image_check()), FormatError, "task 5",
                    "several labels", "'a'", "'b'");
  const auto ls = read_label_studio(path, no_image_check().allow_multiple_labels(true));
  EXPECT_EQ(ls.dataset.pool.schema().name(ls.dataset.pool.label(0)), "a");
  EXPECT_TRUE(has_note(ls.dataset, "kept 'a' and dropped 'b'"));
}

TEST(LabelStudioRead, BrokenInputsGiveClearMessages) {
  const auto dir = test::scratch("broken");
  EXPECT_THROW_WITH(read_label_studio((dir / "absent.json").string()), IoError, "absent.json");
  EXPECT_THROW_WITH(read_label_studio(test::write_text(dir / "empty.json", "[]")), FormatError,
                    "empty.json", "no tasks");
  EXPECT_THROW_WITH(read_label_studio(test::write_text(dir / "zero.json", "")), FormatError,
                    "zero.json", "not valid JSON");
  EXPECT_THROW_WITH(
      read_label_studio(
          test::write_text(dir / "cut.json",
                           R"([{"id": 1, "data": {"image": "a.png"}}, {"id": 2, "da)"),
          no_image_check()),
      FormatError, "cut.json", "not valid JSON", "after task 1");
  EXPECT_THROW_WITH(read_label_studio(test::write_text(dir / "nod.json",
                                                       R"([{"id": 3, "data": {"image":
                                                           "/data/local-files/a.png"}}])"),
                                      no_image_check()),
                    FormatError, "nod.json", "task 3", "without '?d=<path>'");
  // nlohmann refuses a number beyond double with out_of_range, not parse_error (fuzz finding)
  EXPECT_THROW_WITH(read_label_studio(test::write_text(dir / "huge.json",
                                                       R"([{"id": 1, "data": {"image": "a.png"}},
                                                           {"id": 63.302752293E57798}])"),
                                      no_image_check()),
                    FormatError, "huge.json", "after task 1", "a number JSON cannot hold");
  EXPECT_THROW_WITH(read_label_studio(test::write_text(dir / "scalar.json", "42")), FormatError,
                    "scalar.json", "list of tasks");
  EXPECT_THROW_WITH(read_label_studio(test::write_text(dir / "num.json", "[1]")), FormatError,
                    "num.json", "task 0", "expected an object");
  EXPECT_THROW_WITH(read_label_studio(test::write_text(dir / "dup.json",
                                                       R"([{"id": 1, "data": {"image": "a.png"}},
                                                               {"id": 2, "data": {"image": "a.png"}}])"),
                                      no_image_check()),
                    FormatError, "dup.json", "task 1 and task 2", "'a.png'");
  EXPECT_THROW_WITH(read_label_studio(test::write_text(dir / "nosize.json",
                                                       R"([{"id": 7, "data": {"image": "a.png"},
        "annotations": [{"id": 1, "result": [{"id": "r", "type": "rectanglelabels", "from_name": "l",
        "to_name": "image", "value": {"x": 1, "y": 1, "width": 2, "height": 2,
        "rectanglelabels": ["car"]}}]}]}])"),
                                      no_image_check()),
                    FormatError, "nosize.json", "task 7 annotation 1 result 'r'", "original_width");
  EXPECT_THROW_WITH(
      read_label_studio(test::write_text(dir / "nan.json", R"([{"id": 7, "data": {"image": "a.png"},
        "annotations": [{"id": 1, "result": [{"id": "r", "type": "polygonlabels", "from_name": "l",
        "to_name": "image", "original_width": 10, "original_height": 10,
        "value": {"points": [[1, 1], [2, "x"], [3, 3]], "polygonlabels": ["car"]}}]}]}])"),
                        no_image_check()),
      FormatError, "nan.json", "task 7", "[x, y]");
}

TEST(LabelStudioRead, PredictionsAndRotatedRectangles) {
  const auto dir = test::scratch("pred");
  const std::string path = test::write_text(dir / "export.json", R"([{"id": 9,
    "data": {"image": "a.png"},
    "annotations": [{"id": 1, "result": [{"type": "rectanglelabels", "from_name": "box",
       "to_name": "image", "original_width": 200, "original_height": 100,
       "value": {"x": 10, "y": 10, "width": 10, "height": 20, "rotation": 90,
                 "rectanglelabels": ["car"]}}]}],
    "predictions": [
      {"model_version": "old", "score": 0.1, "result": []},
      {"model_version": "owl-vit", "score": 0.7, "result": [
        {"type": "rectanglelabels", "from_name": "box", "to_name": "image", "score": 0.25,
         "original_width": 200, "original_height": 100,
         "value": {"x": 50, "y": 50, "width": 10, "height": 10, "rectanglelabels": ["car"]}},
        {"type": "rectanglelabels", "from_name": "box", "to_name": "image",
         "original_width": 200, "original_height": 100,
         "value": {"x": 0, "y": 0, "width": 10, "height": 10, "rectanglelabels": ["person"]}}]}]}])");
  const auto ls = read_label_studio(path, no_image_check());
  const Object& rotated = ls.dataset.pool.objects(0).at(0);
  // 20 px wide, 20 px high box at (20, 10), turned 90 degrees clockwise about (20, 10).
  EXPECT_NEAR(rotated.box.x1, 0.f, 1e-3);
  EXPECT_NEAR(rotated.box.x2, 20.f, 1e-3);
  EXPECT_NEAR(rotated.box.y1, 10.f, 1e-3);
  EXPECT_NEAR(rotated.box.y2, 30.f, 1e-3);
  EXPECT_TRUE(has_note(ls.dataset, "rotated by 90 degrees"));
  ASSERT_TRUE(ls.predictions[0].has_value());
  const LabelStudioPrediction& p = *ls.predictions[0];
  EXPECT_EQ(p.model_version, "owl-vit");
  EXPECT_DOUBLE_EQ(p.score.value(), 0.7);
  ASSERT_EQ(p.objects.size(), 2u);
  EXPECT_FLOAT_EQ(p.objects[0].score, 0.25f);  // the region's own score
  EXPECT_FLOAT_EQ(p.objects[1].score, 0.7f);   // else the prediction's
  EXPECT_NEAR(p.objects[0].box.x1, 100.f, 1e-3);
  EXPECT_EQ(ls.dataset.pool.schema().names(), (std::vector<std::string>{"car", "person"}));
  const auto older = read_label_studio(path, no_image_check().model_version("old"));
  EXPECT_TRUE(older.predictions[0]->objects.empty());
}

TEST(LabelStudioRead, LargeExportIsStreamed) {
  const auto dir = test::scratch("large");
  const std::string path = (dir / "large.json").string();
  {
    std::ofstream out(path);
    out << "[";
    for (int i = 0; i < 50000; ++i)
      out << (i ? "," : "") << R"({"id": )" << i << R"(, "data": {"image": "/data/upload/1/img)"
          << i << R"(.png"}, "annotations": [{"id": )" << i << R"(, "result": [{"type": "choices",
          "from_name": "choice", "to_name": "image", "value": {"choices": [")"
          << (i % 3 ? "shirt" : "boot") << R"("]}}]}], "predictions": []})";
    out << "]";
  }
  const auto ls = read_label_studio(path, no_image_check());
  EXPECT_EQ(ls.dataset.pool.size(), 50000);
  EXPECT_EQ(ls.dataset.pool.num_labeled(), 50000);
  EXPECT_EQ(ls.dataset.pool.id(49999), "img49999.png");
  EXPECT_EQ(ls.dataset.pool.counts_per_class(), (std::vector<int64_t>{16667, 33333}));
}

TEST(LabelStudioConfig, FixtureConfigsGiveNamesAndClasses) {
  const auto coco = read_label_studio_config(fixture(kLsSdk + "test_export_coco/label_config.xml"));
  EXPECT_EQ(coco.names.to_name, "image");
  EXPECT_EQ(coco.names.data_key, "image");
  EXPECT_EQ(coco.names.rectangle_from_name, "rectangle_label");
  EXPECT_EQ(coco.names.polygon_from_name, "polygon_label");
  EXPECT_EQ(coco.names.choices_from_name, "");  // no Choices: no class result is written
  EXPECT_EQ(coco.classes, (std::vector<std::string>{"rectangle_label", "polygon_label"}));
  const auto min =
      read_label_studio_config(fixture(kLsSdk + "test_export_json_min/label_config.xml"));
  EXPECT_EQ(min.classes, (std::vector<std::string>{"Airplane", "Car"}));
  EXPECT_EQ(min.names.polygon_from_name, "label");
  for (const char* f :
       {"test_export_yolo/label_config.xml", "test_export_yolo/label_config_polygons.xml"})
    EXPECT_NO_THROW(read_label_studio_config(fixture(kLsSdk + f))) << f;

  // With the config, its classes are fixed (order included) and its names are kept.
  const auto ls = read_label_studio(
      fixture(kLsSdk + "test_export_json_min/data.json"),
      no_image_check().label_config(fixture(kLsSdk + "test_export_json_min/label_config.xml")));
  EXPECT_EQ(ls.dataset.pool.schema().names(), (std::vector<std::string>{"Airplane", "Car"}));
  EXPECT_EQ(ls.names.choices_from_name, "");
  EXPECT_EQ(ls.names.polygon_from_name, "label");
}

TEST(LabelStudioConfig, NonImageConfigsAreRefused) {
  const auto dir = test::scratch("cfg");
  EXPECT_THROW_WITH(read_label_studio_config(test::write_text(dir / "text.xml", R"(<View>
      <Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="a"/></Choices>
    </View>)")),
                    FormatError, "text.xml", "no <Image>");
  EXPECT_THROW_WITH(read_label_studio_config(test::write_text(dir / "kp.xml", R"(<View>
      <Image name="img" value="$image"/><KeyPointLabels name="k" toName="img"><Label value="a"/>
      </KeyPointLabels></View>)")),
                    FormatError, "kp.xml", "toName=\"img\"");
  EXPECT_THROW_WITH(read_label_studio_config(test::write_text(dir / "cut.xml", "<View><Image")),
                    FormatError, "cut.xml", "not valid XML");
  EXPECT_THROW_WITH(read_label_studio_config((dir / "absent.xml").string()), IoError, "absent.xml");
}

TEST(LabelStudioOptions, ReadFromYaml) {
  const auto node = config::load_string(
      "images_root: /data/media\ncheck_images: false\nclasses: [cat, dog]\nlabel_config: c.xml\n",
      "run.yaml");
  const auto o = config::read<LabelStudioOptions>(node, {"run.yaml", "labelstudio"});
  EXPECT_EQ(o.images_root(), "/data/media");
  EXPECT_FALSE(o.check_images());
  EXPECT_EQ(o.classes(), (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(o.label_config(), "c.xml");
  EXPECT_THROW_WITH(
      config::read<LabelStudioOptions>(config::load_string("image_root: x\n", "run.yaml"),
                                       {"run.yaml", "labelstudio"}),
      ConfigError, "labelstudio.image_root", "images_root");
}

NextBatch sample_batch() {
  NextBatch batch;
  batch.schema = Schema({"cat", "dog", "bird"});
  batch.model_version = "round-3";
  BatchItem a;
  a.index = 4;
  a.id = "imgs/a.png";
  a.image = "/data/upload/2/a.png";
  a.rank = 0;
  a.uncertainty = 1.05;
  a.predicted_label = 1;
  a.confidence = 0.4;
  a.probabilities = {0.35f, 0.4f, 0.25f};
  BatchItem b;
  b.index = 0;
  b.id = "imgs/b.png";
  b.rank = 1;
  b.uncertainty = 0.5;
  b.predicted_label = 2;
  b.confidence = 0.8;
  b.size = {200, 100};
  Object box;
  box.label = 0;
  box.box = {20, 10, 60, 50};
  box.score = 0.3f;
  Object poly;
  poly.label = 2;
  poly.polygons = {{{10, 10}, {50, 10}, {30, 40}}};
  poly.box = {10, 10, 50, 40};
  poly.score = 0.9f;
  b.objects = {box, poly};
  batch.items = {a, b};
  return batch;
}

TEST(LabelStudioWrite, TasksWithPredictionsMatchTheImportFormat) {
  const auto dir = test::scratch("write");
  const std::string path = (dir / "next_batch.json").string();
  LabelStudioNames names;
  names.choices_from_name = "label";
  names.rectangle_from_name = "box";
  names.polygon_from_name = "poly";
  names.to_name = "img";
  names.data_key = "image";
  write_label_studio_tasks(path, sample_batch(), names);

  std::ifstream in(path);
  const json tasks = json::parse(in);
  ASSERT_TRUE(tasks.is_array());
  ASSERT_EQ(tasks.size(), 2u);
  for (const json& t : tasks) {
    ASSERT_TRUE(t["data"]["image"].is_string());
    ASSERT_TRUE(t["predictions"].is_array());
    ASSERT_EQ(t["predictions"].size(), 1u);
    const json& p = t["predictions"][0];
    EXPECT_EQ(p["model_version"], "round-3");
    ASSERT_TRUE(p["score"].is_number());
    ASSERT_TRUE(p["result"].is_array());
    const json& r0 = p["result"][0];
    EXPECT_EQ(r0["type"], "choices");
    EXPECT_EQ(r0["from_name"], "label");
    EXPECT_EQ(r0["to_name"], "img");
    ASSERT_EQ(r0["value"]["choices"].size(), 1u);
  }
  const json& a = tasks[0];
  EXPECT_EQ(a["data"]["image"], "/data/upload/2/a.png");  // the reference as Label Studio wrote it
  EXPECT_EQ(a["data"]["alx_id"], "imgs/a.png");
  EXPECT_EQ(a["data"]["alx_rank"], 0);
  EXPECT_DOUBLE_EQ(a["data"]["alx_uncertainty"].get<double>(), 1.05);
  EXPECT_EQ(a["data"]["alx_predicted"], "dog");
  EXPECT_NEAR(a["data"]["alx_probabilities"]["bird"].get<double>(), 0.25, 1e-6);
  EXPECT_FALSE(tasks[1]["data"].contains("alx_probabilities"));
  // Label Studio shows the LOWEST score first: the score is the confidence.
  EXPECT_DOUBLE_EQ(a["predictions"][0]["score"].get<double>(), 0.4);
  EXPECT_LT(tasks[0]["predictions"][0]["score"].get<double>(),
            tasks[1]["predictions"][0]["score"].get<double>());
  EXPECT_EQ(a["predictions"][0]["result"][0]["value"]["choices"][0], "dog");
  const json& b = tasks[1];
  EXPECT_EQ(b["data"]["image"], "imgs/b.png");  // no reference: the pool id
  const json& results = b["predictions"][0]["result"];
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[1]["type"], "rectanglelabels");
  EXPECT_EQ(results[1]["from_name"], "box");
  EXPECT_EQ(results[1]["original_width"], 200);
  EXPECT_DOUBLE_EQ(results[1]["value"]["x"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(results[1]["value"]["y"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(results[1]["value"]["width"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(results[1]["value"]["height"].get<double>(), 40.0);
  EXPECT_EQ(results[1]["value"]["rectanglelabels"][0], "cat");
  EXPECT_NEAR(results[1]["score"].get<double>(), 0.3, 1e-6);
  EXPECT_EQ(results[2]["type"], "polygonlabels");
  EXPECT_EQ(results[2]["from_name"], "poly");
  EXPECT_DOUBLE_EQ(results[2]["value"]["points"][2][1].get<double>(), 40.0);

  // Read back with our own reader: the tasks import format is also an export shape.
  const auto back = read_label_studio(path, no_image_check());
  EXPECT_EQ(back.dataset.pool.num_labeled(), 0);  // predictions are not labels
  ASSERT_TRUE(back.predictions[1].has_value());
  EXPECT_EQ(back.predictions[1]->objects.size(), 2u);
  EXPECT_NEAR(back.predictions[1]->objects[0].box.x2, 60.f, 1e-3);
  EXPECT_NEAR(back.predictions[1]->objects[1].polygons[0][2].y, 40.f, 1e-3);
  EXPECT_EQ(back.names.rectangle_from_name, "box");
}

TEST(LabelStudioWrite, OnlyControlsTheConfigHasGetResults) {
  const auto dir = test::scratch("names");
  const std::string path = (dir / "next_batch.json").string();
  LabelStudioNames names;  // a detection-only project: no Choices control
  names.choices_from_name = "";
  write_label_studio_tasks(path, sample_batch(), names);
  std::ifstream in(path);
  const json tasks = json::parse(in);
  EXPECT_FALSE(tasks[0].contains("predictions"));       // nothing to predict for it
  EXPECT_EQ(tasks[0]["data"]["alx_predicted"], "dog");  // still sortable in the data manager
  EXPECT_EQ(tasks[1]["predictions"][0]["result"].size(), 2u);
  EXPECT_EQ(tasks[1]["predictions"][0]["result"][0]["type"], "rectanglelabels");
  names.polygon_from_name = "";
  EXPECT_THROW_WITH(write_label_studio_tasks(path, sample_batch(), names), InvalidArgument,
                    "imgs/b.png", "PolygonLabels");
}

TEST(LabelStudioWrite, InvalidBatchWritesNothing) {
  const auto dir = test::scratch("invalid");
  const std::string path = test::write_text(dir / "next_batch.json", "old");
  auto batch = sample_batch();
  batch.items[1].rank = 5;
  EXPECT_THROW_WITH(write_label_studio_tasks(path, batch), InvalidArgument, "imgs/b.png", "rank");
  batch = sample_batch();
  batch.items[1].size = {};
  EXPECT_THROW_WITH(write_label_studio_tasks(path, batch), InvalidArgument, "imgs/b.png",
                    "image size");
  batch = sample_batch();
  batch.items[0].confidence = std::nan("");
  EXPECT_THROW_WITH(write_label_studio_tasks(path, batch), InvalidArgument, "imgs/a.png",
                    "confidence");
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);  // no temp file left
}

}  // namespace
}  // namespace alx::io
