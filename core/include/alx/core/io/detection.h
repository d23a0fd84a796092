// alx/core/io/detection.h — one uncertainty per image from per-object scores.
//
// Detection and segmentation pre-labels (COCO results, Label Studio predictions, or a
// model of ours) come with a confidence per object. A review queue wants one number per
// image — how likely its pre-labels are to be wrong — so the objects' doubts
// (1 - score) are aggregated:
//
//   kMax         the most doubtful object decides (one bad box is enough to review)
//   kMean        average doubt over the objects
//   kSum         total doubt: images with many doubtful objects come first
//   kCountBelow  number of objects with score < threshold
//
//   auto u = alx::io::image_uncertainty(objects, DetectionAggregateOptions()
//                                            .aggregation(Aggregation::kCountBelow)
//                                            .threshold(0.5));
#pragma once

#include <alx/core/annotation.h>
#include <alx/core/options.h>

#include <string>
#include <vector>

namespace alx::io {

enum class Aggregation { kMax, kMean, kSum, kCountBelow };

/// "max", "mean", "sum", "count_below"; throws alx::InvalidArgument listing them otherwise.
Aggregation parse_aggregation(const std::string& name);
const char* aggregation_name(Aggregation aggregation) noexcept;

struct DetectionAggregateOptions {
  ALX_ARG(Aggregation, aggregation) = Aggregation::kMax;
  /// kCountBelow counts objects whose score is below this.
  ALX_ARG(double, threshold) = 0.5;
  /// Objects scoring below this are noise and ignored (COCO results often carry
  /// hundreds of near-zero detections per image).
  ALX_ARG(double, min_score) = 0.0;
  /// Uncertainty of an image with no (remaining) objects. 0 puts such images last;
  /// set it to 1 when an empty prediction should itself be reviewed (missed objects).
  ALX_ARG(double, empty_uncertainty) = 0.0;
};

/// Uncertainty of one image from its objects' scores. Throws alx::InvalidArgument
/// when a score is not finite or lies outside [0, 1].
double image_uncertainty(const std::vector<Object>& objects,
                         const DetectionAggregateOptions& options = {});

/// One uncertainty per image: [N] from N object lists.
std::vector<double> image_uncertainties(const std::vector<std::vector<Object>>& objects,
                                        const DetectionAggregateOptions& options = {});

}  // namespace alx::io
