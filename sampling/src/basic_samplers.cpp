// random, topk, power/softmax/softrank, class_balanced, hybrid and the subsample wrapper.
#include "common.h"
#include "impl.h"

#include <alx/sampling/scorers.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace alx::sampling::detail {
namespace {

/// Unbiased enough for pools far below 2^64 items; the same on every platform.
uint64_t draw_below(std::mt19937_64& rng, uint64_t n) { return rng() % n; }

/// The first m of a seeded Fisher–Yates shuffle of `items`.
std::vector<int64_t> random_subset(std::vector<int64_t> items, int64_t m, std::mt19937_64& rng) {
  const auto n = static_cast<int64_t>(items.size());
  m = std::min(m, n);
  for (int64_t i = 0; i < m; ++i) {
    const auto j = i + static_cast<int64_t>(draw_below(rng, static_cast<uint64_t>(n - i)));
    std::swap(items[i], items[j]);
  }
  items.resize(static_cast<size_t>(m));
  return items;
}

/// Gumbel(0, 1) noise: -log(-log U), U in (0, 1).
double gumbel(std::mt19937_64& rng) {
  double u = uniform01(rng);
  if (u <= 0.0) u = std::numeric_limits<double>::min();
  return -std::log(-std::log(u));
}

Needs scorer_needs(const std::string& scorer) {
  Needs n;
  n.probs = true;
  n.mc_samples = scorer_needs_mc_samples(scorer);
  return n;
}

}  // namespace

// ---- random -------------------------------------------------------------------

std::vector<int64_t> RandomSampler::select(const SamplerInput& in, int64_t k,
                                           uint64_t seed) const {
  PoolView pool = resolve(in, k, name());
  k = clamp_k(k, static_cast<int64_t>(pool.candidates.size()), name());
  auto rng = make_rng(seed, 0x72616e64);
  return random_subset(std::move(pool.candidates), k, rng);
}

// ---- topk ---------------------------------------------------------------------

TopKSampler::TopKSampler(TopKOptions o) : opts_(std::move(o)) {
  ALX_CHECK(has_scorer(opts_.scorer()), "topk: unknown scorer '{}'", opts_.scorer());
}

Needs TopKSampler::needs() const { return scorer_needs(opts_.scorer()); }

std::vector<int64_t> TopKSampler::select(const SamplerInput& in, int64_t k, uint64_t) const {
  PoolView pool = resolve(in, k, name());
  k = clamp_k(k, static_cast<int64_t>(pool.candidates.size()), name());
  if (k == 0) return {};
  const std::vector<double> s = item_scores(in, pool.candidates, opts_.scorer(), name());
  return top_k(s, pool.candidates, k);
}

// ---- power / softmax / softrank (Kirsch et al. 2023) ----------------------------

StochasticSampler::StochasticSampler(Stochastic kind, StochasticOptions o)
    : kind_(kind), opts_(std::move(o)) {
  ALX_CHECK(has_scorer(opts_.scorer()), "{}: unknown scorer '{}'", name(), opts_.scorer());
  ALX_CHECK(opts_.beta() >= 0.0 && std::isfinite(opts_.beta()),
            "{}: beta must be finite and >= 0, got {}", name(), opts_.beta());
}

std::string StochasticSampler::name() const {
  switch (kind_) {
    case Stochastic::kPower: return "power";
    case Stochastic::kSoftmax: return "softmax";
    case Stochastic::kSoftrank: return "softrank";
  }
  return "?";
}

Needs StochasticSampler::needs() const { return scorer_needs(opts_.scorer()); }

std::vector<int64_t> StochasticSampler::select(const SamplerInput& in, int64_t k,
                                               uint64_t seed) const {
  PoolView pool = resolve(in, k, name());
  const auto n = static_cast<int64_t>(pool.candidates.size());
  k = clamp_k(k, n, name());
  if (k == 0) return {};
  const std::vector<double> s = item_scores(in, pool.candidates, opts_.scorer(), name());
  const double beta = opts_.beta();
  // log of the unnormalised probability of each item.
  std::vector<double> logp(static_cast<size_t>(n));
  if (kind_ == Stochastic::kSoftmax) {
    for (int64_t i = 0; i < n; ++i) logp[i] = beta * s[i];
  } else if (kind_ == Stochastic::kPower) {
    for (int64_t i = 0; i < n; ++i) {
      ALX_CHECK(s[i] >= 0.0, "power: score of item {} is {}; power sampling needs scores >= 0",
                pool.candidates[i], s[i]);
      logp[i] = beta == 0.0 ? 0.0
                : s[i] > 0.0 ? beta * std::log(s[i])
                             : -std::numeric_limits<double>::infinity();
    }
  } else {
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s[a] > s[b]; });
    for (int64_t r = 0; r < n; ++r) logp[order[r]] = -beta * std::log(static_cast<double>(r + 1));
  }
  // Gumbel-top-k draws k items without replacement with probability ∝ exp(logp).
  auto rng = make_rng(seed, 0x73746f63);
  std::vector<double> keys(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) keys[i] = logp[i] + gumbel(rng);
  return top_k(keys, pool.candidates, k);
}

// ---- class_balanced -------------------------------------------------------------

ClassBalancedSampler::ClassBalancedSampler(ClassBalancedOptions o) : opts_(std::move(o)) {
  ALX_CHECK(opts_.sampler() != "class_balanced", "class_balanced: cannot wrap itself");
  inner_ = make_sampler(opts_.sampler(), opts_.params(), {"<params>", "class_balanced.params"});
}

Needs ClassBalancedSampler::needs() const {
  Needs n = inner_->needs();
  n.probs = true;
  return n;
}

std::vector<int64_t> ClassBalancedSampler::select(const SamplerInput& in, int64_t k,
                                                  uint64_t seed) const {
  PoolView pool = resolve(in, k, name());
  k = clamp_k(k, static_cast<int64_t>(pool.candidates.size()), name());
  if (k == 0) return {};
  ALX_CHECK(in.probs.defined() && (in.probs.dim() == 2 || in.probs.dim() == 3),
            "sampler 'class_balanced' needs SamplerInput.probs [N, T, C] to predict classes");
  const int64_t C = in.probs.size(-1);
  const std::vector<int64_t> pred = predicted_classes(in.probs);
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(C));
  for (int64_t i : pool.candidates) by_class[pred[i]].push_back(i);
  // Equal quotas; the remainder goes to a seeded random choice of classes.
  std::vector<int64_t> quota(static_cast<size_t>(C), k / C);
  auto rng = make_rng(seed, 0x62616c61);
  std::vector<int64_t> classes(static_cast<size_t>(C));
  std::iota(classes.begin(), classes.end(), 0);
  classes = random_subset(classes, k % C, rng);
  for (int64_t c : classes) ++quota[c];

  std::vector<int64_t> out;
  std::vector<bool> taken(static_cast<size_t>(pool.n), false);
  for (int64_t c = 0; c < C; ++c) {
    const int64_t q = std::min<int64_t>(quota[c], static_cast<int64_t>(by_class[c].size()));
    if (q == 0) continue;
    const auto picks = inner_->select(restrict_to(in, by_class[c], pool.n), q,
                                      seed + static_cast<uint64_t>(c) + 1);
    for (int64_t i : picks) {
      if (!taken[i]) out.push_back(i);
      taken[i] = true;
    }
  }
  // Classes with too few items leave quota unused: fill from every remaining candidate.
  if (static_cast<int64_t>(out.size()) < k) {
    std::vector<int64_t> rest;
    for (int64_t i : pool.candidates)
      if (!taken[i]) rest.push_back(i);
    const auto picks = inner_->select(restrict_to(in, rest, pool.n),
                                      k - static_cast<int64_t>(out.size()), seed);
    for (int64_t i : picks)
      if (!taken[i]) {
        out.push_back(i);
        taken[i] = true;
      }
  }
  return out;
}

// ---- hybrid ---------------------------------------------------------------------

HybridSampler::HybridSampler(HybridOptions o) : opts_(std::move(o)) {
  ALX_CHECK(has_scorer(opts_.scorer()), "hybrid: unknown scorer '{}'", opts_.scorer());
  ALX_CHECK(opts_.diversity() != "hybrid", "hybrid: the diversity sampler cannot be hybrid");
  diversity_ = make_sampler(opts_.diversity(), opts_.params(), {"<params>", "hybrid.params"});
}

Needs HybridSampler::needs() const {
  Needs n = diversity_->needs();
  n |= scorer_needs(opts_.scorer());
  return n;
}

std::vector<int64_t> HybridSampler::select(const SamplerInput& in, int64_t k,
                                           uint64_t seed) const {
  PoolView pool = resolve(in, k, name());
  k = clamp_k(k, static_cast<int64_t>(pool.candidates.size()), name());
  if (k == 0) return {};
  const int64_t m =
      std::max(k, opts_.top_m() > 0
                      ? opts_.top_m()
                      : static_cast<int64_t>(std::ceil(opts_.prefilter_factor() * k)));
  const std::vector<double> s = item_scores(in, pool.candidates, opts_.scorer(), name());
  std::vector<int64_t> top = top_k(s, pool.candidates, m);
  std::sort(top.begin(), top.end());
  return diversity_->select(restrict_to(in, top, pool.n), k, seed);
}

// ---- subsample ------------------------------------------------------------------

std::vector<int64_t> SubsampleSampler::select(const SamplerInput& in, int64_t k,
                                              uint64_t seed) const {
  PoolView pool = resolve(in, k, name());
  const int64_t m = std::max(m_, k);  // never return fewer than k because of the subsample
  if (static_cast<int64_t>(pool.candidates.size()) <= m) return inner_->select(in, k, seed);
  auto rng = make_rng(seed, 0x73756273);
  std::vector<int64_t> subset = random_subset(std::move(pool.candidates), m, rng);
  std::sort(subset.begin(), subset.end());
  return inner_->select(restrict_to(in, subset, pool.n), k, seed);
}

}  // namespace alx::sampling::detail
