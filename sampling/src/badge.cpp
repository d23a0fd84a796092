// BADGE (Ash et al. 2020): k-means++ seeding over gradient embeddings.
#include "common.h"
#include "impl.h"
#include "nearest.h"

#include <algorithm>

namespace alx::sampling {
namespace {

template <class Rows>
std::vector<int64_t> kmeanspp(const Rows& rows, const std::vector<int64_t>& cand, int64_t k,
                              uint64_t seed) {
  const auto n = static_cast<int64_t>(cand.size());
  std::vector<int64_t> out;
  if (k <= 0) return out;
  // First center: the largest gradient norm (the most uncertain and confident-wrong item).
  int64_t first = 0;
  float best = -1.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float s = rows.sqnorm(cand[i]);
    if (s > best) {
      best = s;
      first = i;
    }
  }
  auto rng = detail::make_rng(seed, 0x62616467);
  detail::D2Sampler<Rows> d2(rows, cand, first);
  out.push_back(cand[first]);
  while (static_cast<int64_t>(out.size()) < k) {
    int64_t pos = d2.draw(rng);
    if (pos < 0) {
      // Every remaining item coincides with a center: any unpicked one will do.
      std::vector<int64_t> rest;
      for (int64_t i = 0; i < n; ++i)
        if (!d2.picked(i)) rest.push_back(i);
      pos = rest[rng() % rest.size()];
      d2.take(pos);
    }
    out.push_back(cand[pos]);
  }
  return out;
}

}  // namespace

std::vector<int64_t> badge_select(const at::Tensor& grad_embeddings, const at::Tensor& probs,
                                  const at::Tensor& embeddings,
                                  const std::vector<int64_t>& candidates, int64_t k,
                                  uint64_t seed) {
  k = std::min<int64_t>(k, static_cast<int64_t>(candidates.size()));
  if (k <= 0) return {};
  if (grad_embeddings.defined()) {
    ALX_CHECK(grad_embeddings.dim() == 2, "badge: grad_embeddings must be [N, C*D]");
    const at::Tensor g = detail::cpu_contiguous(grad_embeddings, at::kFloat);
    ALX_CHECK(at::isfinite(g).all().item<bool>(), "badge: grad_embeddings contain non-finite values");
    detail::DenseRows rows;
    rows.x = g.data_ptr<float>();
    rows.d = g.size(1);
    return kmeanspp(rows, candidates, k, seed);
  }
  ALX_CHECK(probs.defined() && embeddings.defined(),
            "badge: needs grad_embeddings [N, C*D], or probs [N, C] and embeddings [N, D]");
  ALX_CHECK(embeddings.dim() == 2, "badge: embeddings must be [N, D]");
  ALX_CHECK(probs.dim() == 2 || probs.dim() == 3, "badge: probs must be [N, C] or [N, T, C]");
  at::Tensor p = probs.to(at::kCPU, at::kFloat);
  if (p.dim() == 3) p = p.mean(1);
  // a = p − onehot(argmax p): the gradient of the cross-entropy w.r.t. the logits at the
  // hypothesised label.
  at::Tensor a = p.clone();
  const at::Tensor am = p.argmax(1);
  a.scatter_add_(1, am.unsqueeze(1), at::full({p.size(0), 1}, -1.0f));
  a = a.contiguous();
  const at::Tensor h = detail::cpu_contiguous(embeddings, at::kFloat);
  ALX_CHECK(at::isfinite(h).all().item<bool>(), "badge: embeddings contain non-finite values");
  detail::FactoredRows rows;
  rows.a = a.data_ptr<float>();
  rows.c = a.size(1);
  rows.h = h.data_ptr<float>();
  rows.d = h.size(1);
  const at::Tensor n2 = (a.pow(2).sum(1).to(at::kDouble) * h.pow(2).sum(1).to(at::kDouble)).contiguous();
  rows.norm2.assign(n2.data_ptr<double>(), n2.data_ptr<double>() + n2.numel());
  return kmeanspp(rows, candidates, k, seed);
}

namespace detail {

Needs BadgeSampler::needs() const {
  if (opts_.use_grad_embeddings()) return {false, false, false, true};
  return {true, false, true, false};
}

std::vector<int64_t> BadgeSampler::select(const SamplerInput& in, int64_t k,
                                          uint64_t seed) const {
  PoolView pool = resolve(in, k, name());
  k = clamp_k(k, static_cast<int64_t>(pool.candidates.size()), name());
  if (opts_.use_grad_embeddings()) {
    require(in.grad_embeddings, "grad_embeddings", 2, name(), "[N, C*D]");
    return badge_select(in.grad_embeddings, {}, {}, pool.candidates, k, seed);
  }
  if (in.grad_embeddings.defined() && !(in.probs.defined() && in.embeddings.defined()))
    return badge_select(in.grad_embeddings, {}, {}, pool.candidates, k, seed);
  ALX_CHECK(in.probs.defined(), "sampler 'badge' needs SamplerInput.probs [N, C] (or "
                                "grad_embeddings with use_grad_embeddings: true)");
  require(in.embeddings, "embeddings", 2, name(), "[N, D]");
  return badge_select({}, in.probs, in.embeddings, pool.candidates, k, seed);
}

}  // namespace detail
}  // namespace alx::sampling
