// Internal helpers shared by the transform implementations.
#pragma once

#include <alx/augment/transform.h>
#include <alx/core/error.h>

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace alx::augment::detail {

/// cv::INTER_* for an interpolation name; throws InvalidArgument listing the valid names.
int interpolation_flag(const std::string& name, const char* transform);

/// Checks that `image` is something the transforms handle (non-empty, 1/3/4 channels,
/// CV_8U or CV_32F); names the transform otherwise.
void check_image(const cv::Mat& image, const char* transform);

/// Checks a [min, max] option: two values, min <= max.
void check_range2(const std::vector<double>& v, const char* transform, const char* key);

/// Fill value for every channel.
inline cv::Scalar fill_scalar(double v) { return cv::Scalar::all(v); }

/// Converts a matrix for cv::warpAffine (pixel indices, pixel centers at integers) to
/// continuous coordinates (pixel (c, r) covers [c, c+1) × [r, r+1)), and back.
cv::Matx23d index_to_continuous(const cv::Matx23d& m);
cv::Matx23d continuous_to_index(const cv::Matx23d& m);

/// Moves every object by the affine map `m` (continuous coordinates), clips boxes and
/// polygons to an image of size `out` and drops objects left empty.
void warp_objects(std::vector<alx::Object>& objects, const cv::Matx23d& m, cv::Size out);

/// Sutherland–Hodgman clipping of a polygon to [0, w] × [0, h].
alx::Polygon clip_polygon(const alx::Polygon& poly, double w, double h);

/// Absolute area of a polygon (shoelace).
double polygon_area(const alx::Polygon& poly);

/// Pads `image` by (left, top, right, bottom) with a constant and moves the objects.
void pad_sample(Sample& s, int left, int top, int right, int bottom, double fill);

/// Crops `rect` (must lie inside the image) and moves/clips the objects.
void crop_sample(Sample& s, const cv::Rect& rect);

}  // namespace alx::augment::detail
