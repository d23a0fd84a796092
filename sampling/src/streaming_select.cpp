// Streaming top-k, per-item Gumbel keys and the k-center shard state.
#include <alx/core/error.h>
#include <alx/sampling/streaming_select.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace alx::sampling {
namespace {

// The heap keeps the worst of the k best on top.
bool worse(const Keyed& a, const Keyed& b) { return ranks_before(a, b); }

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

TopKStream::TopKStream(int64_t k) : k_(k) {
  ALX_CHECK(k >= 0, "TopKStream: k must be >= 0, got {}", k);
  heap_.reserve(static_cast<size_t>(k));
}

void TopKStream::push(double key, int64_t index) {
  if (k_ == 0 || !std::isfinite(key)) return;
  const Keyed item{key, index};
  if (static_cast<int64_t>(heap_.size()) < k_) {
    heap_.push_back(item);
    std::push_heap(heap_.begin(), heap_.end(), worse);
  } else if (ranks_before(item, heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), worse);
    heap_.back() = item;
    std::push_heap(heap_.begin(), heap_.end(), worse);
  }
}

void TopKStream::push(const std::vector<Keyed>& items) {
  for (const auto& it : items) push(it.key, it.index);
}

void TopKStream::push(const at::Tensor& keys, int64_t first, const at::Tensor& selectable) {
  ALX_CHECK(keys.defined() && keys.dim() == 1, "TopKStream::push: keys must be [B]");
  const at::Tensor v = keys.to(at::kCPU, at::kDouble).contiguous();
  const double* p = v.data_ptr<double>();
  const int64_t b = v.size(0);
  const bool* sel = nullptr;
  at::Tensor s;
  if (selectable.defined()) {
    ALX_CHECK(selectable.dim() == 1 && selectable.size(0) == b,
              "TopKStream::push: selectable must be [B] like keys");
    s = selectable.to(at::kCPU, at::kBool).contiguous();
    sel = s.data_ptr<bool>();
  }
  for (int64_t i = 0; i < b; ++i)
    if (!sel || sel[i]) push(p[i], first + i);
}

std::vector<Keyed> TopKStream::result() const {
  std::vector<Keyed> out = heap_;
  std::sort(out.begin(), out.end(), ranks_before);
  return out;
}

std::vector<int64_t> TopKStream::indices() const {
  std::vector<int64_t> out;
  for (const auto& it : result()) out.push_back(it.index);
  return out;
}

double gumbel_noise(uint64_t seed, int64_t index) {
  const uint64_t h = splitmix64(splitmix64(seed ^ 0x67756d62656cULL) + static_cast<uint64_t>(index));
  // 53 random bits → U in (0, 1), never 0 or 1.
  const double u = (static_cast<double>(h >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  return -std::log(-std::log(u));
}

at::Tensor stochastic_keys(const at::Tensor& scores, int64_t first, const std::string& mode, double beta,
                           uint64_t seed) {
  ALX_CHECK(scores.defined() && scores.dim() == 1, "stochastic_keys: scores must be [B]");
  ALX_CHECK(mode == "power" || mode == "softmax",
            "stochastic_keys: mode must be power or softmax, got '{}' (softrank is not streamable)",
            mode);
  ALX_CHECK(beta >= 0.0, "stochastic_keys: beta must be >= 0, got {}", beta);
  const at::Tensor s = scores.to(at::kCPU, at::kDouble).contiguous();
  at::Tensor out = at::empty_like(s);
  const double* sp = s.data_ptr<double>();
  double* op = out.data_ptr<double>();
  const int64_t b = s.size(0);
  for (int64_t i = 0; i < b; ++i) {
    double logp;
    if (mode == "softmax") {
      logp = beta * sp[i];
    } else {
      ALX_CHECK(sp[i] >= 0.0, "power: score of item {} is {}; power sampling needs scores >= 0",
                first + i, sp[i]);
      logp = beta == 0.0 ? 0.0 : sp[i] > 0.0 ? beta * std::log(sp[i]) : -std::numeric_limits<double>::infinity();
    }
    op[i] = logp + gumbel_noise(seed, first + i);
  }
  return out;
}

float exact_dist2(const float* a, const float* b, int64_t d) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= d; j += 8)
    for (int l = 0; l < 8; ++l) {
      const float t = a[j + l] - b[j + l];
      lane[l] += t * t;
    }
  for (int l = 0; j < d; ++j, ++l) {
    const float t = a[j] - b[j];
    lane[l] += t * t;
  }
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

KCenterShard::KCenterShard(RowReader read, int64_t lo, int64_t hi, int64_t dim, std::vector<uint8_t> selectable,
                           int64_t chunk_rows)
    : read_(std::move(read)), lo_(lo), hi_(hi), dim_(dim), chunk_(chunk_rows), selectable_(std::move(selectable)) {
  ALX_CHECK(lo >= 0 && hi >= lo, "KCenterShard: bad row range [{}, {})", lo, hi);
  ALX_CHECK(dim > 0 && chunk_rows > 0, "KCenterShard: dim and chunk_rows must be positive");
  ALX_CHECK(static_cast<int64_t>(selectable_.size()) == hi - lo,
            "KCenterShard: selectable has {} entries for {} rows", selectable_.size(), hi - lo);
  min_d2_.assign(static_cast<size_t>(hi - lo), std::numeric_limits<float>::infinity());
}

void KCenterShard::add_centers(const at::Tensor& centers) {
  ALX_CHECK(centers.dim() == 2 && centers.size(1) == dim_, "KCenterShard::add_centers: centers must be [L, {}]",
            dim_);
  const at::Tensor c = centers.to(at::kCPU, at::kFloat).contiguous();
  const int64_t L = c.size(0);
  if (L == 0) return;
  const float* cp = c.data_ptr<float>();
  for (int64_t b = lo_; b < hi_; b += chunk_) {
    const int64_t e = std::min(hi_, b + chunk_);
    const at::Tensor x = read_(b, e).to(at::kCPU, at::kFloat).contiguous();
    ALX_CHECK(x.dim() == 2 && x.size(0) == e - b && x.size(1) == dim_,
              "KCenterShard: the reader returned a wrong shape for rows [{}, {})", b, e);
    const float* xp = x.data_ptr<float>();
    at::parallel_for(0, e - b, 256, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        float& m = min_d2_[static_cast<size_t>(b - lo_ + r)];
        for (int64_t l = 0; l < L; ++l) m = std::min(m, exact_dist2(xp + r * dim_, cp + l * dim_, dim_));
      }
    });
  }
}

Keyed KCenterShard::farthest() const {
  Keyed best{-1.0, -1};
  for (int64_t i = 0; i < hi_ - lo_; ++i) {
    if (!selectable_[static_cast<size_t>(i)]) continue;
    const double v = min_d2_[static_cast<size_t>(i)];
    if (best.index < 0 || v > best.key) best = {v, lo_ + i};
  }
  return best;
}

void KCenterShard::mark_picked(int64_t index) {
  if (index >= lo_ && index < hi_) selectable_[static_cast<size_t>(index - lo_)] = 0;
}

at::Tensor KCenterShard::row(int64_t index) const {
  ALX_CHECK(index >= lo_ && index < hi_, "KCenterShard::row: {} outside [{}, {})", index, lo_, hi_);
  return read_(index, index + 1).to(at::kCPU, at::kFloat).reshape({dim_}).contiguous();
}

int64_t KCenterShard::selectable_count() const {
  return std::count(selectable_.begin(), selectable_.end(), uint8_t{1});
}

std::vector<int64_t> KCenterShard::selectable_indices() const {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < hi_ - lo_; ++i)
    if (selectable_[static_cast<size_t>(i)]) out.push_back(lo_ + i);
  return out;
}

std::vector<int64_t> kcenter_streaming(const RowReader& read, int64_t n, int64_t dim,
                                       const std::vector<uint8_t>& selectable,
                                       const std::vector<int64_t>& centers, int64_t k, uint64_t seed,
                                       int64_t chunk_rows) {
  KCenterShard shard(read, 0, n, dim, selectable, chunk_rows);
  std::vector<int64_t> out;
  if (k <= 0) return out;
  if (!centers.empty()) {
    std::vector<at::Tensor> rows;
    for (int64_t c : centers) {
      ALX_CHECK(c >= 0 && c < n, "kcenter_streaming: center {} out of range", c);
      rows.push_back(read(c, c + 1).to(at::kFloat).reshape({dim}));
    }
    shard.add_centers(at::stack(rows));
  } else {
    // First pick: the selectable item with the highest Gumbel noise (uniform).
    TopKStream first(1);
    for (int64_t i : shard.selectable_indices()) first.push(gumbel_noise(seed, i), i);
    if (first.result().empty()) return out;
    const int64_t i = first.result()[0].index;
    out.push_back(i);
    shard.mark_picked(i);
    shard.add_centers(shard.row(i).unsqueeze(0));
  }
  while (static_cast<int64_t>(out.size()) < k) {
    const Keyed next = shard.farthest();
    if (next.index < 0) break;
    out.push_back(next.index);
    shard.mark_picked(next.index);
    if (static_cast<int64_t>(out.size()) == k) break;
    shard.add_centers(shard.row(next.index).unsqueeze(0));
  }
  return out;
}

}  // namespace alx::sampling
