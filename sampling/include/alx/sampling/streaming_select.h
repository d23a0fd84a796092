// alx/sampling/streaming_select.h — selection over pools too large to hold at once:
// scores and embeddings arrive in chunks of rows, the state stays O(k) (top-k) or O(N)
// floats (k-center), never [N, T, C] or [N, D].
//
// Every key is a pure function of (value, global index, seed), so a pool split into
// chunks — or into shards on several processes (alx/training/distributed.h) — gives
// exactly the selection of one pass over the whole pool.
//
//   alx::sampling::TopKStream top(100);
//   for (int64_t b = 0; b < n; b += 65536)
//     top.push(score(read_probs(b, std::min(n, b + 65536)), "margin"), b);   // scores: [B]
//   std::vector<int64_t> batch = top.indices();
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace alx::sampling {

/// An item and its key. Order: higher key first, ties to the lower index.
struct Keyed {
  double key = 0.0;
  int64_t index = 0;
};
/// True when `a` ranks before `b` (higher key, then lower index).
inline bool ranks_before(const Keyed& a, const Keyed& b) {
  return a.key > b.key || (a.key == b.key && a.index < b.index);
}

/// Exact top-k over a stream of (key, index), O(k) memory (a bounded heap).
class TopKStream {
 public:
  explicit TopKStream(int64_t k);
  /// keys: [B] (any float type) of the items first … first + B − 1; `selectable`: [B] bool
  /// or undefined (all selectable). Non-finite keys are skipped (e.g. −inf from power on 0).
  void push(const at::Tensor& keys, int64_t first, const at::Tensor& selectable = {});
  void push(double key, int64_t index);
  void push(const std::vector<Keyed>& items);
  /// The k best, best first.
  std::vector<Keyed> result() const;
  std::vector<int64_t> indices() const;
  int64_t k() const noexcept { return k_; }

 private:
  int64_t k_;
  std::vector<Keyed> heap_;  ///< worst on top
};

/// Gumbel(0, 1) noise of item `index` for `seed`: a hash of (seed, index), so each item's
/// noise is the same on every process and in every chunking.
double gumbel_noise(uint64_t seed, int64_t index);

/// Keys of stochastic batch acquisition (Kirsch et al. 2023) as Gumbel-top-k keys:
/// log p_i + Gumbel_i with `mode` "power" (p ∝ s^β) or "softmax" (p ∝ exp(β s)); the k
/// highest keys are a draw of k items without replacement. ("softrank" needs global ranks
/// and is not streamable.) scores: [B] of the items first … first + B − 1 → [B] float64.
/// Note: the in-memory `power`/`softmax` samplers draw their noise in candidate order, so
/// their batches differ from these (equally distributed) ones.
at::Tensor stochastic_keys(const at::Tensor& scores, int64_t first, const std::string& mode, double beta,
                           uint64_t seed);

/// Reads embedding rows [begin, end) as float32 [end − begin, D] (from memory, HDF5 …).
using RowReader = std::function<at::Tensor(int64_t begin, int64_t end)>;

/// Squared Euclidean distance of two float rows, summed in one fixed order (8 lanes, then
/// the lanes in order), so the value never depends on where a row sits in a chunk.
float exact_dist2(const float* a, const float* b, int64_t d);

/// Greedy k-center state over the rows [lo, hi) of a pool: the distance of each row to its
/// nearest center so far (O(hi − lo) floats); rows are streamed from `read` in chunks.
/// Picking the next center is a (value, index) arg-max, which shards combine with a
/// max-reduction (alx/training/distributed.h).
class KCenterShard {
 public:
  /// `selectable`: one byte per row of [lo, hi) (1 = may be picked; labeled items are 0).
  KCenterShard(RowReader read, int64_t lo, int64_t hi, int64_t dim, std::vector<uint8_t> selectable,
               int64_t chunk_rows = 16384);
  /// Folds centers [L, D] (float32) into the nearest-center distances (one pass over the rows).
  void add_centers(const at::Tensor& centers);
  /// The selectable, not yet picked row farthest from every center: (d², global index);
  /// index −1 when none is left. Before any center every d² is +inf.
  Keyed farthest() const;
  /// Marks a global index picked (no-op when outside [lo, hi)).
  void mark_picked(int64_t index);
  /// Row `index` (must be in [lo, hi)) as float32 [D].
  at::Tensor row(int64_t index) const;
  int64_t lo() const noexcept { return lo_; }
  int64_t hi() const noexcept { return hi_; }
  int64_t selectable_count() const;
  /// Global indices of the selectable rows, ascending.
  std::vector<int64_t> selectable_indices() const;

 private:
  RowReader read_;
  int64_t lo_, hi_, dim_, chunk_;
  std::vector<uint8_t> selectable_;
  std::vector<float> min_d2_;
};

/// One-process greedy k-center over a stream of rows, the reference the distributed one
/// matches. `centers`: global indices of fixed centers (e.g. labeled items, which should not
/// be selectable). With no centers the first pick is the selectable item with the highest
/// gumbel_noise(seed, index) (a uniform draw that every sharding reproduces).
std::vector<int64_t> kcenter_streaming(const RowReader& read, int64_t n, int64_t dim,
                                       const std::vector<uint8_t>& selectable,
                                       const std::vector<int64_t>& centers, int64_t k, uint64_t seed,
                                       int64_t chunk_rows = 16384);

}  // namespace alx::sampling
