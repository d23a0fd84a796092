#include "metrics.h"

#include <alx/core/error.h>

#include <fmt/format.h>

#include <cmath>

namespace alx::bench {

double aubc(const std::vector<double>& labeled, const std::vector<double>& accuracy) {
  ALX_CHECK(!labeled.empty(), "aubc: empty learning curve");
  ALX_CHECK(labeled.size() == accuracy.size(), "aubc: {} label counts but {} accuracies", labeled.size(),
            accuracy.size());
  if (labeled.size() == 1) return accuracy[0];
  double area = 0;
  for (std::size_t i = 1; i < labeled.size(); ++i) {
    const double dx = labeled[i] - labeled[i - 1];
    ALX_CHECK(dx > 0, "aubc: label counts must increase, got {} after {}", labeled[i], labeled[i - 1]);
    area += 0.5 * (accuracy[i] + accuracy[i - 1]) * dx;
  }
  return area / (labeled.back() - labeled.front());
}

std::optional<double> labels_to_reach(const std::vector<double>& labeled, const std::vector<double>& accuracy,
                                      double target) {
  ALX_CHECK(labeled.size() == accuracy.size(), "labels_to_reach: {} label counts but {} accuracies",
            labeled.size(), accuracy.size());
  for (std::size_t i = 0; i < labeled.size(); ++i)
    if (accuracy[i] >= target) return labeled[i];
  return std::nullopt;
}

MeanStd mean_std(const std::vector<double>& values) {
  MeanStd m;
  m.n = static_cast<int>(values.size());
  if (values.empty()) return m;
  double sum = 0;
  for (double v : values) sum += v;
  m.mean = sum / m.n;
  double ss = 0;
  for (double v : values) ss += (v - m.mean) * (v - m.mean);
  m.std = m.n > 1 ? std::sqrt(ss / (m.n - 1)) : 0.0;
  return m;
}

std::string format_mean_std(const MeanStd& m, int digits) {
  if (m.n == 0) return "-";
  if (m.n == 1) return fmt::format("{:.{}f}", m.mean, digits);
  return fmt::format("{:.{}f} ± {:.{}f}", m.mean, digits, m.std, digits);
}

}  // namespace alx::bench
