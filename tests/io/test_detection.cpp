// Image uncertainty from per-object scores, and its use on COCO results.
#include <alx/core/error.h>
#include <alx/core/io/coco.h>
#include <alx/core/io/detection.h>
#include <alx/core/io/label_studio.h>

#include <gtest/gtest.h>

#include <cmath>

#include "io_test_util.h"

namespace alx::io {
namespace {

std::vector<Object> scored(std::initializer_list<float> scores) {
  std::vector<Object> out;
  for (float s : scores) {
    Object o;
    o.label = 0;
    o.score = s;
    out.push_back(o);
  }
  return out;
}

TEST(Detection, AggregatesDoubtsOfObjects) {
  const auto objs = scored({0.9f, 0.4f, 0.7f});
  using O = DetectionAggregateOptions;
  EXPECT_NEAR(image_uncertainty(objs, O().aggregation(Aggregation::kMax)), 0.6, 1e-6);
  EXPECT_NEAR(image_uncertainty(objs, O().aggregation(Aggregation::kMean)), (0.1 + 0.6 + 0.3) / 3,
              1e-6);
  EXPECT_NEAR(image_uncertainty(objs, O().aggregation(Aggregation::kSum)), 1.0, 1e-6);
  EXPECT_EQ(image_uncertainty(objs, O().aggregation(Aggregation::kCountBelow).threshold(0.75)),
            2.0);
  // Noise below min_score is ignored; an image left empty gets empty_uncertainty.
  EXPECT_NEAR(image_uncertainty(objs, O().min_score(0.5)), 0.3, 1e-6);
  EXPECT_EQ(image_uncertainty({}, O()), 0.0);
  EXPECT_EQ(image_uncertainty(scored({0.01f}), O().min_score(0.05).empty_uncertainty(1.0)), 1.0);
}

TEST(Detection, PerImageAndNames) {
  const auto u = image_uncertainties({scored({0.9f}), scored({0.2f, 0.95f}), {}});
  ASSERT_EQ(u.size(), 3u);
  EXPECT_LT(u[0], u[1]);  // the image with a doubtful box comes first in a review queue
  EXPECT_EQ(u[2], 0.0);
  for (const char* name : {"max", "mean", "sum", "count_below"})
    EXPECT_STREQ(aggregation_name(parse_aggregation(name)), name);
  EXPECT_THROW_WITH(parse_aggregation("median"), InvalidArgument, "median", "count_below");
  EXPECT_THROW_WITH(image_uncertainties({scored({0.5f}), scored({1.5f})}), InvalidArgument,
                    "image 1", "object 0", "outside [0, 1]");
  EXPECT_THROW_WITH(image_uncertainty(scored({std::nanf("")})), InvalidArgument, "object 0");
}

TEST(Detection, ReviewQueueFromLabelStudioPredictions) {
  // Pre-labels from an open-vocabulary model, imported as Label Studio predictions.
  const auto dir = test::scratch("ls");
  auto region = [](double x, double score) {
    return "{\"type\": \"rectanglelabels\", \"from_name\": \"label\", \"to_name\": \"image\", "
           "\"original_width\": 100, \"original_height\": 100, \"score\": " +
           std::to_string(score) + ", \"value\": {\"x\": " + std::to_string(x) +
           ", \"y\": 0, \"width\": 5, \"height\": 5, \"rectanglelabels\": [\"car\"]}}";
  };
  const std::string path =
      test::write_text(dir / "preds.json",
                       "[{\"id\": 1, \"data\": {\"image\": \"a.png\"}, \"predictions\": "
                       "[{\"model_version\": \"owl\", "
                       "\"result\": [" +
                           region(0, 0.95) + "," + region(10, 0.9) +
                           "]}]},"
                           " {\"id\": 2, \"data\": {\"image\": \"b.png\"}, \"predictions\": "
                           "[{\"model_version\": \"owl\", "
                           "\"result\": [" +
                           region(0, 0.97) + "," + region(10, 0.3) + "," + region(20, 0.45) +
                           "]}]},"
                           " {\"id\": 3, \"data\": {\"image\": \"c.png\"}}]");
  const auto ls = read_label_studio(path, LabelStudioOptions().check_images(false));
  const auto objects = prediction_objects(ls);
  ASSERT_EQ(objects.size(), 3u);
  EXPECT_EQ(objects[1].size(), 3u);
  EXPECT_TRUE(objects[2].empty());
  using O = DetectionAggregateOptions;
  const auto worst = image_uncertainties(objects, O().aggregation(Aggregation::kMax));
  EXPECT_GT(worst[1], worst[0]);  // b.png holds a 0.3 box: review it first
  const auto count = image_uncertainties(objects, O().aggregation(Aggregation::kCountBelow));
  EXPECT_EQ(count, (std::vector<double>{0, 2, 0}));
}

TEST(Detection, ReviewQueueFromCocoResults) {
  const auto dir = test::scratch("coco");
  const CocoIds ids = CocoIds::dense(3, 1);
  const std::string path = test::write_text(dir / "results.json", R"([
    {"image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "score": 0.6},
    {"image_id": 3, "category_id": 1, "bbox": [0, 0, 2, 2], "score": 0.9},
    {"image_id": 3, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.8},
    {"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.02}])");
  const auto objects = read_coco_results(path, ids);
  const auto sum = image_uncertainties(objects, DetectionAggregateOptions()
                                                    .aggregation(Aggregation::kSum)
                                                    .min_score(0.05)
                                                    .empty_uncertainty(1.0));
  EXPECT_NEAR(sum[0], 0.4, 1e-6);  // the 0.02 detection is noise
  EXPECT_EQ(sum[1], 1.0);          // nothing detected: review
  EXPECT_NEAR(sum[2], 0.3, 1e-6);
}

}  // namespace
}  // namespace alx::io
