// Internal: nearest-center bookkeeping shared by k-center and BADGE (k-means++).
//
// For every candidate it keeps the squared distance to its nearest center and
// which center that is. Adding a center rescans the candidates in parallel, but
// skips every x whose current center o satisfies d(o, new) >= 2 d(x, o): by the
// triangle inequality the new center cannot be closer (Elkan 2003). The rows are
// never copied and no N×N matrix exists: memory is O(N).
#pragma once

#include "fastmath.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <limits>
#include <mutex>
#include <vector>

namespace alx::sampling::detail {

/// Rows of a dense float32 matrix [N, D]; exact squared distances from differences.
///
/// With a half-precision copy (`attach_half`), a scan first reads the 2-byte copy: since
/// d(x, c) ≥ d(x̃, c) − ||x − x̃||, a row whose lower bound already exceeds its current
/// distance cannot improve and its float32 row is never read. The scan is bound by memory
/// bandwidth, so this halves it, and the result stays exact.
struct DenseRows {
  const float* x = nullptr;
  int64_t d = 0;
#ifdef ALX_HAVE_FLOAT16
  at::Tensor half;  // [N, D] float16 copy
  std::vector<float> err;  // ||x_i − x̃_i||, rounded up
  const _Float16* xh = nullptr;

  /// Builds the half copy when the CPU converts in hardware and the values fit in fp16.
  void attach_half(const at::Tensor& xf) {
    if (d < 8 || !fast_half_available()) return;
    if (xf.abs().max().item<float>() > 6.0e4f) return;
    half = xf.to(at::kHalf).contiguous();
    const at::Tensor e = (xf - half.to(at::kFloat)).norm(2, 1).contiguous();
    err.resize(static_cast<size_t>(e.numel()));
    const float* ep = e.data_ptr<float>();
    for (size_t i = 0; i < err.size(); ++i) err[i] = ep[i] * (1.0f + 1e-4f) + 1e-30f;
    xh = reinterpret_cast<const _Float16*>(half.data_ptr<at::Half>());
  }
  /// True when row i provably cannot get closer than min_d2 to row j.
  bool cannot_improve(int64_t i, int64_t j, float min_d2) const {
    if (!xh) return false;
    const float approx = std::sqrt(half_squared_distance(xh + i * d, x + j * d, d));
    const float lower = approx * (1.0f - 1e-5f) - err[i];
    return lower > 0.0f && lower * lower >= min_d2;
  }
#else
  void attach_half(const at::Tensor&) {}
  bool cannot_improve(int64_t, int64_t, float) const { return false; }
#endif
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

#ifdef ALX_HAVE_FLOAT16
  at::Tensor half;          // [N, D] float16 copy of h
  std::vector<float> err;   // ||h_i − h̃_i||, rounded up
  std::vector<float> hnorm; // ||h_i||
  const _Float16* hh_half = nullptr;

  /// As DenseRows::attach_half, for the embedding factor (the bulk of the bytes):
  /// |h_i·h_j − h̃_i·h_j| ≤ ||h_i − h̃_i|| ||h_j||.
  void attach_half(const at::Tensor& hf) {
    if (d < 8 || !fast_half_available()) return;
    if (hf.abs().max().item<float>() > 6.0e4f) return;
    half = hf.to(at::kHalf).contiguous();
    const at::Tensor e = (hf - half.to(at::kFloat)).norm(2, 1).contiguous();
    const at::Tensor hn = hf.norm(2, 1).contiguous();
    err.resize(static_cast<size_t>(e.numel()));
    hnorm.assign(hn.data_ptr<float>(), hn.data_ptr<float>() + hn.numel());
    for (size_t i = 0; i < err.size(); ++i) err[i] = e.data_ptr<float>()[i] * (1.0f + 1e-4f) + 1e-30f;
    hh_half = reinterpret_cast<const _Float16*>(half.data_ptr<at::Half>());
  }
  bool cannot_improve(int64_t i, int64_t j, float min_d2) const {
    if (!hh_half) return false;
    const double aa = dot(a + i * c, a + j * c, c);
    const double hh = half_dot(hh_half + i * d, h + j * d, d);
    const double slack = 2.0 * std::abs(aa) * err[i] * hnorm[j];
    // Also leave room for the float rounding of the exact path's dot products.
    const double lower = norm2[i] + norm2[j] - 2.0 * aa * hh - slack -
                         1e-5 * (norm2[i] + norm2[j]);
    return lower >= static_cast<double>(min_d2);
  }
#else
  void attach_half(const at::Tensor&) {}
  bool cannot_improve(int64_t, int64_t, float) const { return false; }
#endif
};

template <class Rows>
class NearestCenter {
 public:
  NearestCenter(const Rows& rows, const std::vector<int64_t>& candidates)
      : rows_(rows),
        cand_(candidates),
        min_d2_(candidates.size(), std::numeric_limits<float>::infinity()),
        owner_(candidates.size(), -1),
        norm_(candidates.size()) {
    // Row norms give a second free bound: d(x, c) ≥ | ||x|| − ||c|| |.
    at::parallel_for(0, static_cast<int64_t>(cand_.size()), 4096, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) norm_[i] = std::sqrt(std::max(0.0f, rows_.sqnorm(cand_[i])));
    });
  }

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
    const float row_norm = std::sqrt(std::max(0.0f, rows_.sqnorm(row)));
    // Each chunk reports its best (value, position); chunks are combined in order of their
    // first position so that ties resolve to the lowest position whatever the threading.
    struct Best {
      int64_t begin;
      float value;
      int64_t pos;
    };
    std::vector<Best> parts;
    std::mutex mu;
    at::parallel_for(0, n, 2048, [&](int64_t b, int64_t e) {
      float bv = -1.0f;
      int64_t bi = -1;
      for (int64_t i = b; i < e; ++i) {
        float m = min_d2_[i];
        if (m < 0.0f) continue;  // already picked
        const int32_t o = owner_[i];
        const bool skip = prune && o >= 0 && dcc_[o] >= 4.0f * m * (1.0f + 1e-5f);
        const float gap = std::abs(norm_[i] - row_norm) * (1.0f - 1e-5f);
        if (!skip && gap * gap < m && !rows_.cannot_improve(cand_[i], row, m)) {
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
      std::lock_guard<std::mutex> lock(mu);
      parts.push_back({b, bv, bi});
    });
    std::sort(parts.begin(), parts.end(),
              [](const Best& l, const Best& r) { return l.begin < r.begin; });
    float bv = -1.0f;
    int64_t bi = -1;
    for (const Best& p : parts)
      if (p.pos >= 0 && p.value > bv) {
        bv = p.value;
        bi = p.pos;
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
  std::vector<float> norm_;     // ||x|| of each candidate
  std::vector<int64_t> centers_;
  std::vector<float> dcc_;
};

}  // namespace alx::sampling::detail
