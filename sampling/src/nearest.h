// Internal: nearest-center bookkeeping shared by k-center and BADGE (k-means++).
//
// For every candidate it keeps the squared distance to its nearest center and
// which center that is. Adding a center rescans the candidates in parallel, but
// skips every x whose current center o satisfies d(o, new) >= 2 d(x, o): by the
// triangle inequality the new center cannot be closer (Elkan 2003). Rows that pass are
// then bounded from an int8 copy (a quarter of the bytes) before any exact distance. No
// N×N matrix exists: memory is O(N) beyond the rows and their copy.
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

/// An int8 copy of the rows of a float32 matrix [N, D] (quantize_row): a quarter of the
/// bytes, so that a scan bound by memory bandwidth reads four times less.
struct QuantizedRows {
  int64_t d = 0;
  std::vector<int8_t> q;                 // [N, D]
  std::vector<float> scale, err, qnorm;  // per row

  void build(const float* x, int64_t n, int64_t dim) {
    d = dim;
    q.resize(static_cast<size_t>(n * d));
    scale.resize(n);
    err.resize(n);
    qnorm.resize(n);
    at::parallel_for(0, n, 1024, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        quantize_row(x + i * d, d, q.data() + i * d, scale[i], err[i], qnorm[i]);
    });
  }
  bool empty() const { return q.empty(); }
  const int8_t* row(int64_t i) const { return q.data() + i * d; }
};

/// Rows of a dense float32 matrix [N, D]; exact squared distances from differences.
///
/// With the int8 copy (`attach_quantized`), a scan first reads the 1-byte rows: since
/// d(x, c) ≥ d(x̃, c̃) − ||x − x̃|| − ||c − c̃||, a row whose lower bound already exceeds
/// its current distance cannot improve and its float32 row is never read. The dot product
/// of two int8 rows is exact in integers; the result stays exact.
struct DenseRows {
  const float* x = nullptr;
  int64_t d = 0;
  QuantizedRows quant;

  void attach_quantized(int64_t n) {
    if (d >= 8) quant.build(x, n, d);
  }
  /// Of the candidate positions pos[0, n) (rows cand[pos[t]]), writes to `out` those that
  /// may get closer to row j than their current distance (min_d2[pos[t]], its square root
  /// min_d[pos[t]]) and returns how many: the others provably cannot. Four rows per pass
  /// over row j.
  int64_t may_improve(const int64_t* cand, const int64_t* pos, int64_t n, int64_t j,
                      const float* /*min_d2*/, const float* min_d, int64_t* out) const {
    if (quant.empty()) return std::copy(pos, pos + n, out) - out;
    const int8_t* qc = quant.row(j);
    const float sc = quant.scale[j], ec = quant.err[j], cc = quant.qnorm[j] * quant.qnorm[j];
    int64_t m = 0;
    auto keep = [&](int64_t p, int32_t qq) {
      // ||x̃ − c̃||² = ||x̃||² − 2 s_x s_c (q_x·q_c) + ||c̃||², less the float rounding of the
      // sum; the row cannot improve when ||x̃ − c̃|| − err_x − err_c ≥ min_d, compared
      // squared so that no square root is taken per row.
      const int64_t i = cand[p];
      const float xx = quant.qnorm[i] * quant.qnorm[i];
      const float approx = xx - 2.0f * (quant.scale[i] * sc) * static_cast<float>(qq) + cc;
      const float reach = min_d[p] + quant.err[i] + ec;
      // Branch-free compaction: almost every row is dropped, in no predictable order.
      out[m] = p;
      m += !(approx - 2e-6f * (xx + cc) >= reach * reach);
    };
    int64_t t = 0;
    for (; t + 4 <= n; t += 4) {
      const int8_t* r[4];
      for (int k = 0; k < 4; ++k) r[k] = quant.row(cand[pos[t + k]]);
      int32_t qq[4];
      int8_dot4(r, qc, d, qq);
      for (int k = 0; k < 4; ++k) keep(pos[t + k], qq[k]);
    }
    for (; t < n; ++t) keep(pos[t], int8_dot(quant.row(cand[pos[t]]), qc, d));
    return m;
  }
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
  QuantizedRows quant;        // of h, the bulk of the bytes
  std::vector<float> hnorm;   // ||h_i||

  float dist2(int64_t i, int64_t j) const {
    const double aa = dot(a + i * c, a + j * c, c);
    const double hh = dot(h + i * d, h + j * d, d);
    const double r = norm2[i] + norm2[j] - 2.0 * aa * hh;
    return r > 0.0 ? static_cast<float>(r) : 0.0f;
  }
  float sqnorm(int64_t i) const { return static_cast<float>(norm2[i]); }

  void attach_quantized(int64_t n) {
    if (d < 8) return;
    quant.build(h, n, d);
    hnorm.resize(n);
    at::parallel_for(0, n, 4096, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hnorm[i] = std::sqrt(dot(h + i * d, h + i * d, d));
    });
  }
  /// As DenseRows::may_improve: |h_i·h_j − h̃_i·h̃_j| ≤ ||h_i − h̃_i|| ||h_j|| + ||h̃_i|| ||h_j − h̃_j||
  /// bounds the embedding factor; the class factor a_i·a_j is exact up to rounding.
  int64_t may_improve(const int64_t* cand, const int64_t* pos, int64_t n, int64_t j,
                      const float* min_d2, const float* /*min_d*/, int64_t* out) const {
    if (quant.empty()) return std::copy(pos, pos + n, out) - out;
    const float* aj = a + j * c;
    const int8_t* qj = quant.row(j);
    const double sj = quant.scale[j], ej = quant.err[j];
    int64_t m = 0;
    auto keep = [&](int64_t p, double aa, int32_t qq) {
      const int64_t i = cand[p];
      const double hh = static_cast<double>(quant.scale[i]) * sj * qq;
      const double slack = 2.0 * std::abs(aa) * (quant.err[i] * hnorm[j] + quant.qnorm[i] * ej);
      // Also leave room for the float rounding of the exact path's dot products.
      const double lower =
          norm2[i] + norm2[j] - 2.0 * aa * hh - slack - 1e-5 * (norm2[i] + norm2[j]);
      out[m] = p;
      m += !(lower >= static_cast<double>(min_d2[p]));
    };
    int64_t t = 0;
    for (; t + 4 <= n; t += 4) {
      const int8_t* r[4];
      int64_t i[4];
      for (int k = 0; k < 4; ++k) {
        i[k] = cand[pos[t + k]];
        r[k] = quant.row(i[k]);
      }
      int32_t qh[4];
      int8_dot4(r, qj, d, qh);
      float aa[4] = {0, 0, 0, 0};  // four independent sums over the C classes
      for (int64_t l = 0; l < c; ++l)
        for (int k = 0; k < 4; ++k) aa[k] += a[i[k] * c + l] * aj[l];
      for (int k = 0; k < 4; ++k) keep(pos[t + k], aa[k], qh[k]);
    }
    for (; t < n; ++t) {
      const int64_t i = cand[pos[t]];
      keep(pos[t], dot(a + i * c, aj, c), int8_dot(quant.row(i), qj, d));
    }
    return m;
  }
};

template <class Rows>
class NearestCenter {
 public:
  NearestCenter(const Rows& rows, const std::vector<int64_t>& candidates)
      : rows_(rows),
        cand_(candidates),
        min_d2_(candidates.size(), std::numeric_limits<float>::infinity()),
        min_d_(candidates.size(), std::numeric_limits<float>::infinity()),
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
    min_d_.resize(min_d2_.size());
    for (size_t i = 0; i < min_d2_.size(); ++i) min_d_[i] = std::sqrt(std::max(0.0f, min_d2_[i]));
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
      // Blocks of candidates: the free bounds first, then the int8 bound four rows at a
      // time, then exact distances for the few that may still improve.
      constexpr int64_t kBlock = 512;
      int64_t todo[kBlock], maybe[kBlock];
      for (int64_t b0 = b; b0 < e; b0 += kBlock) {
        const int64_t e0 = std::min(e, b0 + kBlock);
        int64_t nt = 0;
        for (int64_t i = b0; i < e0; ++i) {
          const float m = min_d2_[i];  // < 0: already picked
          const int32_t o = owner_[i];
          const bool skip = prune && o >= 0 && dcc_[o] >= 4.0f * m * (1.0f + 1e-5f);
          const float gap = std::abs(norm_[i] - row_norm) * (1.0f - 1e-5f);
          // Branch-free: whether a row passes is close to a coin flip early on.
          todo[nt] = i;
          nt += (m >= 0.0f) & !skip & (gap * gap < m);
        }
        const int64_t nm = rows_.may_improve(cand_.data(), todo, nt, row, min_d2_.data(), min_d_.data(), maybe);
        for (int64_t t = 0; t < nm; ++t) {
          const int64_t i = maybe[t];
          const float d = rows_.dist2(cand_[i], row);
          if (d < min_d2_[i]) {
            min_d2_[i] = d;
            min_d_[i] = std::sqrt(d);
            owner_[i] = slot;
          }
        }
        for (int64_t i = b0; i < e0; ++i)
          if (min_d2_[i] > bv) {
            bv = min_d2_[i];
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
  std::vector<float> min_d_;    // its square root (for the int8 bound)
  std::vector<int32_t> owner_;  // slot in centers_ of the nearest center, −1: none yet
  std::vector<float> norm_;     // ||x|| of each candidate
  std::vector<int64_t> centers_;
  std::vector<float> dcc_;
};

}  // namespace alx::sampling::detail
