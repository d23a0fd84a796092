// Internal: rows with exact squared distances, and lazy k-means++ (D²) seeding over them,
// shared by BADGE and k-means. Nothing here forms an N×N matrix: memory is O(N).
#pragma once

#include "common.h"
#include "fastmath.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace alx::sampling::detail {

/// Rows of a dense float32 matrix [N, D]; exact squared distances from differences.
struct DenseRows {
  const float* x = nullptr;
  int64_t d = 0;

  float dist2(int64_t i, int64_t j) const { return squared_distance(x + i * d, x + j * d, d); }
  float sqnorm(int64_t i) const { return dot(x + i * d, x + i * d, d); }
};

/// BADGE gradient embeddings g_i = a_i ⊗ h_i without forming them:
/// ||g_i − g_j||² = |a_i|²|h_i|² + |a_j|²|h_j|² − 2 (a_i·a_j)(h_i·h_j).
struct FactoredRows {
  const float* a = nullptr;  // [N, C]
  int64_t c = 0;
  const float* h = nullptr;  // [N, D]
  int64_t d = 0;
  std::vector<double> norm2;  // |a_i|² |h_i|²

  float dist2(int64_t i, int64_t j) const {
    const double aa = dot(a + i * c, a + j * c, c);
    const double hh = dot(h + i * d, h + j * d, d);
    const double r = norm2[i] + norm2[j] - 2.0 * aa * hh;
    return r > 0.0 ? static_cast<float>(r) : 0.0f;
  }
  float sqnorm(int64_t i) const { return static_cast<float>(norm2[i]); }
};

/// Binary tree of partial sums over the candidates' weights: draws an item with
/// probability proportional to its weight, and changes one weight, in O(log n). Internal
/// sums are recomputed from their children (not updated by differences), so the total is
/// exactly 0 once every weight is.
class SumTree {
 public:
  explicit SumTree(const std::vector<double>& w) {
    while (size_ < static_cast<int64_t>(w.size())) size_ *= 2;
    sum_.assign(static_cast<size_t>(2 * size_), 0.0);
    std::copy(w.begin(), w.end(), sum_.begin() + size_);
    for (int64_t j = size_ - 1; j >= 1; --j) sum_[j] = sum_[2 * j] + sum_[2 * j + 1];
  }
  double total() const { return sum_[1]; }
  double weight(int64_t i) const { return sum_[size_ + i]; }
  void set(int64_t i, double w) {
    int64_t j = size_ + i;
    sum_[j] = w;
    for (j /= 2; j >= 1; j /= 2) sum_[j] = sum_[2 * j] + sum_[2 * j + 1];
  }
  /// The item whose slice of [0, total) holds r (rounding may give a weight-0 item).
  int64_t find(double r) const {
    int64_t j = 1;
    while (j < size_) {
      if (r < sum_[2 * j]) {
        j = 2 * j;
      } else {
        r -= sum_[2 * j];
        j = 2 * j + 1;
      }
    }
    return j - size_;
  }

 private:
  int64_t size_ = 1;
  std::vector<double> sum_;  // [1]: root; [size_, size_ + n): the weights
};

/// k-means++ seeding (D² sampling) with lazy distances.
///
/// Each candidate keeps its squared distance to the first `seen` centers, an upper bound u
/// of its true D² value t (more centers only lower it). A draw proposes i with probability
/// ∝ u and accepts it with probability t / u: every draw accepts i with probability
/// t_i / Σu, so the accepted item follows D² sampling exactly, while only proposed items
/// are ever compared with the new centers (each item–center pair at most once, and a
/// rejection stops at the first center that proves it) instead of all N at every pick.
template <class Rows>
class D2Sampler {
 public:
  /// Candidate position `first` is the first center.
  D2Sampler(const Rows& rows, const std::vector<int64_t>& cand, int64_t first)
      : rows_(rows),
        cand_(cand),
        seen_(cand.size(), 1),
        picked_(cand.size(), 0),
        centers_{cand[first]},
        tree_(first_distances(first)) {
    picked_[first] = 1;
    tree_.set(first, 0.0);
  }

  /// Draws the next center with probability ∝ D² and takes it; -1 (nothing taken) when
  /// every remaining candidate coincides with a center.
  int64_t draw(std::mt19937_64& rng) {
    const auto n = static_cast<int64_t>(cand_.size());
    while (tree_.total() > 0.0) {
      const int64_t i = tree_.find(uniform01(rng) * tree_.total());
      // Picked candidates weigh 0; so may a neighbour found by rounding at a boundary.
      if (i >= n || tree_.weight(i) <= 0.0) continue;
      // Accept when t > v = U·u: stop at the first new center closer than v (a rejection).
      const auto u = static_cast<float>(tree_.weight(i));  // a float stored as double
      const double v = uniform01(rng) * u;
      float t = u;
      size_t s = seen_[i];
      while (s < centers_.size() && t > v) t = std::min(t, rows_.dist2(cand_[i], centers_[s++]));
      seen_[i] = static_cast<uint32_t>(s);
      if (t < u) tree_.set(i, t);
      if (t > v) {
        take(i);
        return i;
      }
    }
    return -1;
  }
  /// Takes candidate position `pos` as the next center.
  void take(int64_t pos) {
    picked_[pos] = 1;
    tree_.set(pos, 0.0);
    centers_.push_back(cand_[pos]);
  }
  bool picked(int64_t pos) const { return picked_[pos] != 0; }

 private:
  std::vector<double> first_distances(int64_t first) const {
    std::vector<double> d2(cand_.size());
    at::parallel_for(0, static_cast<int64_t>(cand_.size()), 2048, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) d2[i] = rows_.dist2(cand_[i], cand_[first]);
    });
    return d2;
  }

  const Rows& rows_;
  const std::vector<int64_t>& cand_;
  std::vector<uint32_t> seen_;  // a candidate's weight is its D² to the centers [0, seen)
  std::vector<char> picked_;
  std::vector<int64_t> centers_;  // rows, in order of picking
  SumTree tree_;                  // D² bounds; 0 for picked candidates
};

}  // namespace alx::sampling::detail
