// metrics.h — the numbers a sampler benchmark reports, as plain functions of a learning
// curve (no LibTorch), so they can be checked against hand-computed values.
//
//   std::vector<double> labeled = {20, 120, 220}, acc = {0.50, 0.70, 0.80};
//   aubc(labeled, acc);                   // (0.5+0.7)/2*100 + (0.7+0.8)/2*100, / 200 = 0.675
//   labels_to_reach(labeled, acc, 0.7);   // 120
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace alx::bench {

/// Area under the budget curve, normalised to [0, 1] (Zhan et al. 2022, "A comparative
/// survey of deep active learning"): the trapezoid area under accuracy vs labels over the
/// labeled range, divided by that range. labeled: [R] strictly increasing; accuracy: [R] in
/// [0, 1]. One point gives its accuracy. Throws alx::InvalidArgument on empty or
/// mismatched input, or on labels that do not increase.
double aubc(const std::vector<double>& labeled, const std::vector<double>& accuracy);

/// The first labeled count at which accuracy >= target (curves move in batches, so no
/// interpolation), or nullopt when the curve never reaches it.
std::optional<double> labels_to_reach(const std::vector<double>& labeled, const std::vector<double>& accuracy,
                                      double target);

/// Mean and sample standard deviation (n − 1; 0 for one value, NaN for none).
struct MeanStd {
  double mean = std::numeric_limits<double>::quiet_NaN();
  double std = std::numeric_limits<double>::quiet_NaN();
  int n = 0;
};
MeanStd mean_std(const std::vector<double>& values);

/// "0.781 ± 0.004" (digits after the point), "-" when n == 0, no "±" when n == 1.
std::string format_mean_std(const MeanStd& m, int digits = 3);

}  // namespace alx::bench
