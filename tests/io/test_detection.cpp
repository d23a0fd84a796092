// Image uncertainty from per-object scores, and its use on COCO results.
#include <alx/core/error.h>
#include <alx/core/io/detection.h>

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
  EXPECT_EQ(image_uncertainty(objs, O().aggregation(Aggregation::kCountBelow).threshold(0.75)), 2.0);
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

}  // namespace
}  // namespace alx::io
