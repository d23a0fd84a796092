#include <alx/core/error.h>
#include <alx/core/io/detection.h>

#include <algorithm>
#include <cmath>

namespace alx::io {

Aggregation parse_aggregation(const std::string& name) {
  if (name == "max") return Aggregation::kMax;
  if (name == "mean") return Aggregation::kMean;
  if (name == "sum") return Aggregation::kSum;
  if (name == "count_below") return Aggregation::kCountBelow;
  ALX_THROW(InvalidArgument, "unknown aggregation '{}'; use max, mean, sum or count_below", name);
}

const char* aggregation_name(Aggregation aggregation) noexcept {
  switch (aggregation) {
    case Aggregation::kMax:
      return "max";
    case Aggregation::kMean:
      return "mean";
    case Aggregation::kSum:
      return "sum";
    case Aggregation::kCountBelow:
      return "count_below";
  }
  return "?";
}

double image_uncertainty(const std::vector<Object>& objects,
                         const DetectionAggregateOptions& options) {
  ALX_CHECK(std::isfinite(options.threshold()) && std::isfinite(options.min_score()) &&
                std::isfinite(options.empty_uncertainty()),
            "detection aggregation options must be finite");
  double max_doubt = 0.0, sum_doubt = 0.0;
  int64_t n = 0, below = 0;
  for (std::size_t k = 0; k < objects.size(); ++k) {
    const double s = objects[k].score;
    ALX_CHECK(std::isfinite(s) && s >= 0.0 && s <= 1.0, "object {}: score {} is outside [0, 1]", k,
              s);
    if (s < options.min_score()) continue;
    const double doubt = 1.0 - s;
    max_doubt = std::max(max_doubt, doubt);
    sum_doubt += doubt;
    if (s < options.threshold()) ++below;
    ++n;
  }
  if (n == 0) return options.empty_uncertainty();
  switch (options.aggregation()) {
    case Aggregation::kMax:
      return max_doubt;
    case Aggregation::kMean:
      return sum_doubt / static_cast<double>(n);
    case Aggregation::kSum:
      return sum_doubt;
    case Aggregation::kCountBelow:
      return static_cast<double>(below);
  }
  return 0.0;
}

std::vector<double> image_uncertainties(const std::vector<std::vector<Object>>& objects,
                                        const DetectionAggregateOptions& options) {
  std::vector<double> out;
  out.reserve(objects.size());
  for (std::size_t i = 0; i < objects.size(); ++i) {
    try {
      out.push_back(image_uncertainty(objects[i], options));
    } catch (const InvalidArgument& e) {
      ALX_THROW(InvalidArgument, "image {}: {}", i, e.what());
    }
  }
  return out;
}

}  // namespace alx::io
