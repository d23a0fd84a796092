// Internal: nearest-center bookkeeping shared by k-center and BADGE (k-means++).
//
// For every candidate it keeps the squared distance to its nearest center and
// which center that is. Adding a center rescans the candidates in parallel, but
// skips every x whose current center o satisfies d(o, new) >= 2 d(x, o): by the
// triangle inequality the new center cannot be closer (Elkan 2003). The rows are
// never copied and no N×N matrix exists: memory is O(N).
#pragma once

#include <ATen/Parallel.h>
#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace alx::sampling::detail {

/// Rows of a dense float32 matrix [N, D]; exact squared distances from differences.
struct DenseRows {
  const float* x = nullptr;
  int64_t d = 0;
  float dist2(int64_t i, int64_t j) const {
    using V = Eigen::Map<const Eigen::VectorXf>;
    return (V(x + i * d, d) - V(x + j * d, d)).squaredNorm();
  }
  float sqnorm(int64_t i) const {
    return Eigen::Map<const Eigen::VectorXf>(x + i * d, d).squaredNorm();
  }
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
    using V = Eigen::Map<const Eigen::VectorXf>;
    const double aa = V(a + i * c, c).dot(V(a + j * c, c));
    const double hh = V(h + i * d, d).dot(V(h + j * d, d));
    const double r = norm2[i] + norm2[j] - 2.0 * aa * hh;
    return r > 0.0 ? static_cast<float>(r) : 0.0f;
  }
  float sqnorm(int64_t i) const { return static_cast<float>(norm2[i]); }
};

template <class Rows>
class NearestCenter {
 public:
  NearestCenter(const Rows& rows, const std::vector<int64_t>& candidates)
      : rows_(rows),
        cand_(candidates),
        min_d2_(candidates.size(), std::numeric_limits<float>::infinity()),
        owner_(candidates.size(), -1) {}

  /// Seeds min distances from precomputed values (e.g. from a blocked matmul search).
  void seed(std::vector<float> min_d2, std::vector<int32_t> owner,
            std::vector<int64_t> center_rows) {
    min_d2_ = std::move(min_d2);
    owner_ = std::move(owner);
    centers_ = std::move(center_rows);
  }

  /// Adds `row` as a center and returns the candidate position with the largest distance
  /// to its nearest center afterwards (ties: lower position; -1 if none remain).
  int64_t add_center(int64_t row) {
    const auto slot = static_cast<int32_t>(centers_.size());
    centers_.push_back(row);
    // Center-to-center distances for pruning, unless there are so many centers that
    // computing them costs as much as the scan they would save.
    const auto n = static_cast<int64_t>(cand_.size());
    const bool prune = static_cast<int64_t>(centers_.size()) * 4 <= n;
    if (prune) {
      dcc_.resize(centers_.size());
      at::parallel_for(0, static_cast<int64_t>(centers_.size()), 64, [&](int64_t b, int64_t e) {
        for (int64_t s = b; s < e; ++s) dcc_[s] = rows_.dist2(centers_[s], row);
      });
    }
    const int nthreads = at::get_num_threads();
    // Chunks are combined in order of their first position, so ties resolve to the lowest.
    const int64_t grain = std::max<int64_t>(1024, (n + nthreads - 1) / std::max(1, nthreads));
    std::vector<float> part_v((n + grain - 1) / grain + 1, -1.0f);
    std::vector<int64_t> part_i(part_v.size(), -1);
    at::parallel_for(0, n, grain, [&](int64_t b, int64_t e) {
      float bv = -1.0f;
      int64_t bi = -1;
      for (int64_t i = b; i < e; ++i) {
        float m = min_d2_[i];
        if (m < 0.0f) continue;  // already picked
        const int32_t o = owner_[i];
        const bool skip = prune && o >= 0 && dcc_[o] >= 4.0f * m * (1.0f + 1e-5f);
        if (!skip) {
          const float d = rows_.dist2(cand_[i], row);
          if (d < m) {
            m = d;
            min_d2_[i] = d;
            owner_[i] = slot;
          }
        }
        if (m > bv) {
          bv = m;
          bi = i;
        }
      }
      part_v[b / grain] = bv;
      part_i[b / grain] = bi;
    });
    float bv = -1.0f;
    int64_t bi = -1;
    for (size_t p = 0; p < part_v.size(); ++p)
      if (part_i[p] >= 0 && part_v[p] > bv) {
        bv = part_v[p];
        bi = part_i[p];
      }
    return bi;
  }

  /// Marks a candidate position as chosen: it is never returned again.
  void mark_picked(int64_t pos) { min_d2_[pos] = -1.0f; }
  const std::vector<float>& min_d2() const { return min_d2_; }

 private:
  const Rows& rows_;
  const std::vector<int64_t>& cand_;
  std::vector<float> min_d2_;   // −1 marks a picked candidate
  std::vector<int32_t> owner_;  // slot in centers_ of the nearest center, −1: none yet
  std::vector<int64_t> centers_;
  std::vector<float> dcc_;
};

}  // namespace alx::sampling::detail
