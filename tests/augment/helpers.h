// Test helpers of the augment suite.
#pragma once

#include <alx/augment/transform.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdint>
#include <random>

namespace alx::augment::testing {

/// An image with random pixel values (fixed seed), so that every transform changes it.
inline cv::Mat random_image(int w, int h, int type, uint64_t seed = 1) {
  cv::Mat m(h, w, type);
  cv::RNG rng(seed);
  if (CV_MAT_DEPTH(type) == CV_8U)
    rng.fill(m, cv::RNG::UNIFORM, cv::Scalar::all(0), cv::Scalar::all(256));
  else
    rng.fill(m, cv::RNG::UNIFORM, cv::Scalar::all(0), cv::Scalar::all(1));
  return m;
}

/// Bytes-equal (same size, type and every byte).
inline bool same_mat(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return false;
  if (a.empty()) return true;
  cv::Mat diff;
  cv::compare(a.reshape(1), b.reshape(1), diff, cv::CMP_NE);
  return cv::countNonZero(diff) == 0;
}

/// Bounding rectangle of the pixels above `threshold` (first channel), continuous xyxy.
inline alx::Box bright_box(const cv::Mat& image, double threshold = 127) {
  cv::Mat ch0;
  if (image.channels() > 1) cv::extractChannel(image, ch0, 0);
  else ch0 = image;
  cv::Mat mask = ch0 > threshold;
  if (cv::countNonZero(mask) == 0) return {};
  const cv::Rect r = cv::boundingRect(mask);
  return {static_cast<float>(r.x), static_cast<float>(r.y), static_cast<float>(r.x + r.width),
          static_cast<float>(r.y + r.height)};
}

}  // namespace alx::augment::testing
