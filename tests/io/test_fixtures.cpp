// Every real JSON / XML export in tests/fixtures goes through its reader: it imports, or
// it is refused with a message that says why. A fixture added without an expectation
// here fails the suite, so no real file goes untested.
#include <alx/core/error.h>
#include <alx/core/io/coco.h>
#include <alx/core/io/cvat.h>
#include <alx/core/io/label_studio.h>

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "io_test_util.h"

namespace alx::io {
namespace {

namespace fs = std::filesystem;

struct Expectation {
  std::function<void(const std::string&)> read;
  const char* refusal = nullptr;  ///< a fragment of the FormatError, or nullptr: must import
};

std::map<std::string, Expectation> expectations() {
  const auto ls = [](const std::string& p) {
    const auto e = read_label_studio(p, LabelStudioOptions().check_images(false));
    EXPECT_GT(e.dataset.pool.size(), 0);
  };
  const auto ls_with_config = [](const std::string& config) {
    return [config](const std::string& p) {
      const auto e = read_label_studio(
          p, LabelStudioOptions().check_images(false).label_config(test::fixture(config)));
      EXPECT_GT(e.dataset.pool.size(), 0);
    };
  };
  const auto config = [](const std::string& p) {
    EXPECT_FALSE(read_label_studio_config(p).classes.empty());
  };
  const auto cvat = [](const std::string& p) {
    EXPECT_GT(read_cvat(p, CvatOptions().check_images(false)).dataset.pool.size(), 0);
  };
  const auto coco = [](const std::string& p) {
    EXPECT_GT(read_coco(p, CocoOptions().check_images(false)).dataset.pool.size(), 0);
  };
  const std::string sdk = "label-studio-sdk/tests/custom/converter/data/";
  const std::string dm = "datumaro/tests/assets/";
  return {
      {"cvat-docs/xml_format_example_annotation.xml", {cvat}},
      {dm + "coco_dataset/coco_instances/annotations/instances_train.json", {coco}},
      {dm + "coco_dataset/coco_instances/annotations/instances_val.json", {coco}},
      {dm + "coco_dataset/coco_labels/annotations/labels_train.json", {coco}},
      // Two classes on one image: alx holds one (allow_multiple_labels keeps the first).
      {dm + "coco_dataset/coco_labels/annotations/labels_val.json", {coco, "several image labels"}},
      {dm + "cvat_dataset/for_images/export_project/annotations.xml", {cvat}},
      {dm + "cvat_dataset/for_images/export_task/train.xml", {cvat}},
      {dm + "kaggle_dataset/relaxed_coco/annotations.json", {coco}},
      {sdk + "test_export_coco/data.json",
       {ls_with_config(sdk + "test_export_coco/label_config.xml")}},
      {sdk + "test_export_coco/label_config.xml", {config}},
      {sdk + "test_export_csv/csv_test2.json", {ls, "no image reference"}},
      {sdk + "test_export_json_min/data.json",
       {ls_with_config(sdk + "test_export_json_min/label_config.xml")}},
      {sdk + "test_export_json_min/label_config.xml", {config}},
      {sdk + "test_export_yolo/data.json",
       {ls_with_config(sdk + "test_export_yolo/label_config.xml")}},
      {sdk + "test_export_yolo/data_polygons.json",
       {ls_with_config(sdk + "test_export_yolo/label_config_polygons.xml")}},
      {sdk + "test_export_yolo/label_config.xml", {config}},
      {sdk + "test_export_yolo/label_config_polygons.xml", {config}},
      {sdk + "test_import_coco/coco_import_input.json", {coco}},
      {"label-studio/label_studio/tests/data_manager/tasks_annotations_predictions.json",
       {ls, "no image reference"}},
      {"label-studio/label_studio/tests/test_suites/samples/previous_export.json", {ls}},
  };
}

TEST(Fixtures, EveryRealExportImportsOrIsRefusedWithAReason) {
  const auto table = expectations();
  const fs::path root(ALX_FIXTURES_DIR);
  ASSERT_TRUE(fs::is_directory(root)) << root;
  int seen = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".json" && ext != ".xml")) continue;
    const std::string rel = entry.path().lexically_relative(root).generic_string();
    SCOPED_TRACE(rel);
    ++seen;
    auto it = table.find(rel);
    if (it == table.end()) {
      ADD_FAILURE() << "fixture " << rel << " has no reader expectation in test_fixtures.cpp";
      continue;
    }
    const Expectation& expect = it->second;
    if (expect.refusal == nullptr) {
      EXPECT_NO_THROW(expect.read(entry.path().string()));
    } else {
      EXPECT_THROW_WITH(expect.read(entry.path().string()), FormatError, expect.refusal,
                        rel.c_str());
    }
  }
  EXPECT_EQ(seen, static_cast<int>(table.size()));
}

}  // namespace
}  // namespace alx::io
