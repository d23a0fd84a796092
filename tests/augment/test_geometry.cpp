// Geometry follows the image: a filled box (or polygon) drawn into the image and the
// box (polygon) itself, sent through the same transform, must agree.
#include "helpers.h"

#include <alx/augment/pipeline.h>
#include <alx/augment/transforms.h>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "../../augment/src/detail.h"

namespace aug = alx::augment;
using aug::testing::bright_box;

namespace {

struct Case {
  const char* yaml;
  double tolerance;  // pixels
};

// Each entry of the list is one geometric transform with random parameters.
const Case kCases[] = {
    {"{name: hflip, p: 1.0}", 0.01},
    {"{name: vflip, p: 1.0}", 0.01},
    {"{name: resize, height: 90, width: 200}", 1.01},
    {"{name: resize, size: 77}", 1.01},
    {"{name: center_crop, height: 100, width: 100}", 0.01},
    {"{name: center_crop, height: 150, width: 220, fill: 0}", 0.01},
    {"{name: random_crop, height: 80, width: 90}", 0.01},
    {"{name: pad, padding: [3, 5, 7, 9]}", 0.01},
    {"{name: random_resized_crop, height: 96, width: 96, scale: [0.2, 1.0]}", 1.6},
    {"{name: rotate, degrees: [-40, 40], interpolation: nearest}", 1.6},
    {"{name: rotate, degrees: [-180, 180], expand: true, interpolation: nearest}", 1.6},
    {"{name: affine, degrees: [-20, 20], translate: [0.2, 0.2], scale: [0.7, 1.3], shear: [-15, 15], "
     "interpolation: nearest}",
     1.6},
};

alx::Object box_object(alx::Box b) {
  alx::Object o;
  o.label = 1;
  o.box = b;
  return o;
}

double iou(const cv::Mat& a, const cv::Mat& b) {
  const int inter = cv::countNonZero(a & b), uni = cv::countNonZero(a | b);
  return uni == 0 ? 1.0 : static_cast<double>(inter) / uni;
}

}  // namespace

TEST(Geometry, DrawnBoxAndTransformedBoxAgree) {
  const alx::Box box{50, 30, 110, 80};  // inside a 160×120 image
  for (const Case& c : kCases) {
    const auto t = aug::make_transform(YAML::Load(c.yaml));
    for (uint64_t seed = 0; seed < 25; ++seed) {
      cv::Mat img(120, 160, CV_8UC1, cv::Scalar(0));
      cv::rectangle(img, cv::Rect(50, 30, 60, 50), cv::Scalar(255), cv::FILLED);
      aug::Sample s{img, {box_object(box)}};
      std::mt19937_64 rng(seed);
      t->apply(s, rng);
      const alx::Box drawn = bright_box(s.image);
      SCOPED_TRACE(std::string(c.yaml) + " seed " + std::to_string(seed));
      if (drawn.area() < 4) {  // the box left the image (or almost): the object must go
        EXPECT_LE(s.objects.size(), 1u);
        if (!s.objects.empty()) {
          EXPECT_LT(s.objects[0].box.area(), 8 + 8 * c.tolerance);
        }
        continue;
      }
      ASSERT_EQ(s.objects.size(), 1u);
      const alx::Box& b = s.objects[0].box;
      EXPECT_NEAR(b.x1, drawn.x1, c.tolerance);
      EXPECT_NEAR(b.y1, drawn.y1, c.tolerance);
      EXPECT_NEAR(b.x2, drawn.x2, c.tolerance);
      EXPECT_NEAR(b.y2, drawn.y2, c.tolerance);
      EXPECT_GE(b.x1, 0.f);
      EXPECT_GE(b.y1, 0.f);
      EXPECT_LE(b.x2, static_cast<float>(s.image.cols));
      EXPECT_LE(b.y2, static_cast<float>(s.image.rows));
    }
  }
}

TEST(Geometry, DrawnPolygonAndTransformedPolygonAgree) {
  // A pentagon; drawn with fillPoly at 16× sub-pixel precision so that continuous
  // coordinates match pixel coverage (pixel centers at +0.5).
  const alx::Polygon poly{{40, 30}, {120, 25}, {135, 80}, {80, 105}, {30, 70}};
  auto draw = [](const std::vector<alx::Polygon>& polys, cv::Size size) {
    cv::Mat m(size, CV_8UC1, cv::Scalar(0));
    std::vector<std::vector<cv::Point>> pts;
    for (const auto& p : polys) {
      pts.emplace_back();
      for (const auto& q : p)
        pts.back().emplace_back(cvRound((q.x - 0.5) * 16), cvRound((q.y - 0.5) * 16));
    }
    cv::fillPoly(m, pts, cv::Scalar(255), cv::LINE_8, 4);
    return m;
  };
  for (const Case& c : kCases) {
    const auto t = aug::make_transform(YAML::Load(c.yaml));
    for (uint64_t seed = 0; seed < 10; ++seed) {
      SCOPED_TRACE(std::string(c.yaml) + " seed " + std::to_string(seed));
      alx::Object obj;
      obj.polygons = {poly};
      obj.box = {30, 25, 135, 105};
      aug::Sample s{draw({poly}, {160, 120}), {obj}};
      std::mt19937_64 rng(seed);
      t->apply(s, rng);
      const cv::Mat pixels = s.image > 127;
      if (cv::countNonZero(pixels) < 20) continue;
      ASSERT_EQ(s.objects.size(), 1u);
      const cv::Mat redrawn = draw(s.objects[0].polygons, s.image.size());
      EXPECT_GT(iou(pixels, redrawn), 0.93);
      // The box of a polygon object is the bounding box of its (clipped) polygons
      // (fillPoly also paints pixels whose centers lie on an edge: up to 1 px more).
      const alx::Box drawn = bright_box(s.image);
      EXPECT_NEAR(s.objects[0].box.x1, drawn.x1, c.tolerance + 1.01);
      EXPECT_NEAR(s.objects[0].box.y2, drawn.y2, c.tolerance + 1.01);
    }
  }
}

TEST(Geometry, ObjectsLeavingTheImageAreDropped) {
  cv::Mat img(100, 100, CV_8UC1, cv::Scalar(0));
  alx::Object poly_obj;
  poly_obj.polygons = {{{70, 70}, {90, 70}, {90, 90}}};
  poly_obj.box = {70, 70, 90, 90};
  aug::Sample s{img, {box_object({5, 5, 20, 20}), box_object({60, 10, 95, 40}), poly_obj}};
  std::mt19937_64 rng(1);
  // Keep x ∈ [25, 75): the first box leaves, the second is clipped, the triangle is cut.
  aug::CenterCrop(aug::CropOptions().height(100).width(50)).apply(s, rng);
  ASSERT_EQ(s.objects.size(), 2u);
  EXPECT_EQ(s.objects[0].box, (alx::Box{35, 10, 50, 40}));
  const auto& cut = s.objects[1].polygons.at(0);
  EXPECT_EQ(cut.size(), 3u);  // (45, 70), (50, 70), (50, 75)
  EXPECT_NEAR(aug::detail::polygon_area(cut), 12.5, 1e-4);
  EXPECT_EQ(s.objects[1].box, (alx::Box{45, 70, 50, 75}));
}

TEST(Geometry, FilterObjectsDropsSmallRemnants) {
  aug::Sample s{cv::Mat(10, 10, CV_8UC1), {box_object({0, 0, 0.5f, 5}), box_object({1, 1, 4, 4})}};
  std::mt19937_64 rng(1);
  aug::FilterObjects().apply(s, rng);
  ASSERT_EQ(s.objects.size(), 1u);
  EXPECT_EQ(s.objects[0].box, (alx::Box{1, 1, 4, 4}));
  aug::FilterObjects(aug::FilterObjectsOptions().min_area(10)).apply(s, rng);
  EXPECT_TRUE(s.objects.empty());
}

TEST(Geometry, ClipPolygonKnownArea) {
  using aug::detail::clip_polygon;
  using aug::detail::polygon_area;
  const alx::Polygon square{{-5, -5}, {5, -5}, {5, 5}, {-5, 5}};
  const auto clipped = clip_polygon(square, 100, 100);
  EXPECT_DOUBLE_EQ(polygon_area(clipped), 25.0);
  EXPECT_TRUE(clip_polygon({{200, 200}, {210, 200}, {210, 210}}, 100, 100).empty());
  const alx::Polygon diamond{{50, -10}, {110, 50}, {50, 110}, {-10, 50}};  // corners cut off
  EXPECT_NEAR(polygon_area(clip_polygon(diamond, 100, 100)), 7200 - 4 * 100, 1e-3);  // 4 tips of 20×10/2
}

TEST(Geometry, MatrixConventionsRoundTrip) {
  const cv::Matx23d m(0.8, -0.3, 12, 0.2, 1.1, -7);
  const cv::Matx23d back = aug::detail::continuous_to_index(aug::detail::index_to_continuous(m));
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(back.val[i], m.val[i], 1e-12);
}
