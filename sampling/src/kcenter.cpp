// Core-set greedy k-center (Sener & Savarese 2018), O(N) memory.
#include "common.h"
#include "impl.h"
#include "nearest.h"

#include <ATen/Parallel.h>

#include <algorithm>

namespace alx::sampling {
namespace {

/// Nearest fixed center of every candidate: a blocked matmul finds the argmin
/// (||x||² − 2x·c + ||c||²), then the distance to it is recomputed exactly.
void nearest_fixed_centers(const detail::DenseRows& rows, const at::Tensor& x,
                           const std::vector<int64_t>& cand, const std::vector<int64_t>& centers,
                           std::vector<float>& min_d2, std::vector<int32_t>& owner) {
  const auto n = static_cast<int64_t>(cand.size());
  const auto L = static_cast<int64_t>(centers.size());
  const at::Tensor cidx = at::tensor(centers, at::kLong);
  const at::Tensor xc = x.index_select(0, cidx);       // [L, D]
  const at::Tensor cn = xc.pow(2).sum(1);              // [L]
  constexpr int64_t kRows = 2048, kCenters = 4096;
  std::vector<float> best(static_cast<size_t>(n), std::numeric_limits<float>::infinity());
  for (int64_t r0 = 0; r0 < n; r0 += kRows) {
    const int64_t r1 = std::min(n, r0 + kRows);
    const at::Tensor ridx =
        at::tensor(std::vector<int64_t>(cand.begin() + r0, cand.begin() + r1), at::kLong);
    const at::Tensor xr = x.index_select(0, ridx);  // [b, D]
    const at::Tensor rn = xr.pow(2).sum(1, /*keepdim=*/true);
    for (int64_t c0 = 0; c0 < L; c0 += kCenters) {
      const int64_t c1 = std::min(L, c0 + kCenters);
      const at::Tensor d2 = at::addmm(rn + cn.slice(0, c0, c1).unsqueeze(0), xr,
                                      xc.slice(0, c0, c1).t(), /*beta=*/1, /*alpha=*/-2);
      const auto mn = d2.min(1);
      const at::Tensor v = std::get<0>(mn).contiguous(), a = std::get<1>(mn).contiguous();
      const float* vp = v.data_ptr<float>();
      const int64_t* ap = a.data_ptr<int64_t>();
      for (int64_t i = r0; i < r1; ++i)
        if (vp[i - r0] < best[i]) {
          best[i] = vp[i - r0];
          owner[i] = static_cast<int32_t>(c0 + ap[i - r0]);
        }
    }
  }
  at::parallel_for(0, n, 1024, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) min_d2[i] = rows.dist2(cand[i], centers[owner[i]]);
  });
}

}  // namespace

std::vector<int64_t> kcenter_greedy(const at::Tensor& embeddings,
                                    const std::vector<int64_t>& centers,
                                    const std::vector<int64_t>& candidates, int64_t k,
                                    uint64_t seed, std::vector<double>* pick_distances) {
  ALX_CHECK(embeddings.defined() && embeddings.dim() == 2,
            "kcenter_greedy: embeddings must be [N, D]");
  const at::Tensor x = detail::cpu_contiguous(embeddings, at::kFloat);
  const int64_t N = x.size(0);
  for (int64_t i : candidates) ALX_CHECK(i >= 0 && i < N, "kcenter_greedy: index {} out of range", i);
  for (int64_t i : centers) ALX_CHECK(i >= 0 && i < N, "kcenter_greedy: center {} out of range", i);
  k = std::min<int64_t>(k, static_cast<int64_t>(candidates.size()));
  std::vector<int64_t> out;
  if (pick_distances) pick_distances->clear();
  if (k <= 0) return out;
  {
    const at::Tensor finite = at::isfinite(x).all(1);
    if (!finite.all().item<bool>()) {
      const int64_t row = (~finite).nonzero()[0][0].item<int64_t>();
      ALX_THROW(InvalidArgument, "kcenter: embeddings row {} is not finite", row);
    }
  }
  detail::DenseRows rows;
  rows.x = x.data_ptr<float>();
  rows.d = x.size(1);
  rows.attach_quantized(N);
  detail::NearestCenter<detail::DenseRows> nc(rows, candidates);
  const auto n = static_cast<int64_t>(candidates.size());
  int64_t next = -1;
  if (!centers.empty()) {
    std::vector<float> min_d2(static_cast<size_t>(n));
    std::vector<int32_t> owner(static_cast<size_t>(n), -1);
    nearest_fixed_centers(rows, x, candidates, centers, min_d2, owner);
    // The farthest candidate from the fixed centers (ties: lower index).
    float bv = -1.0f;
    for (int64_t i = 0; i < n; ++i)
      if (min_d2[i] > bv) {
        bv = min_d2[i];
        next = i;
      }
    nc.seed(std::move(min_d2), std::move(owner), centers);
  } else {
    auto rng = detail::make_rng(seed, 0x6b63656e);
    next = static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
  }
  while (static_cast<int64_t>(out.size()) < k) {
    if (pick_distances)
      pick_distances->push_back(out.empty() && centers.empty()
                                    ? -1.0
                                    : std::sqrt(static_cast<double>(nc.min_d2()[next])));
    out.push_back(candidates[next]);
    nc.mark_picked(next);
    if (static_cast<int64_t>(out.size()) == k) break;
    next = nc.add_center(candidates[next]);
  }
  return out;
}

namespace detail {

std::vector<int64_t> KCenterSampler::select(const SamplerInput& in, int64_t k,
                                            uint64_t seed) const {
  PoolView pool = resolve(in, k, name());
  require(in.embeddings, "embeddings", 2, name(), "[N, D]");
  k = clamp_k(k, static_cast<int64_t>(pool.candidates.size()), name());
  const std::vector<int64_t> none;
  return kcenter_greedy(in.embeddings, opts_.labeled_as_centers() ? pool.labeled : none,
                        pool.candidates, k, seed);
}

}  // namespace detail
}  // namespace alx::sampling
