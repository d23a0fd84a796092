// Internal helpers shared by the samplers: input checks, candidate sets, top-k.
#pragma once

#include <alx/core/error.h>
#include <alx/core/log.h>
#include <alx/sampling/sampler.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace alx::sampling::detail {

/// The resolved pool of one select() call.
struct PoolView {
  int64_t n = 0;
  std::vector<int64_t> candidates;  ///< selectable: unlabeled (∧ candidates mask), ascending
  std::vector<int64_t> labeled;     ///< labeled, ascending
};

/// Checks k and the shapes of `in`, and lists the selectable and labeled items.
PoolView resolve(const SamplerInput& in, int64_t k, const std::string& who);

/// Contiguous CPU float32 (or keep float64 when `keep_double`) copy-free when possible.
at::Tensor cpu_contiguous(const at::Tensor& t, at::ScalarType type);

/// Requires `t` defined with `dims` dimensions; names the field and the sampler otherwise.
void require(const at::Tensor& t, const char* field, int64_t dims, const std::string& who,
             const char* shape);

/// Scores of `items` (precomputed in.scores, or scorer over in.probs rows of `items`).
std::vector<double> item_scores(const SamplerInput& in, const std::vector<int64_t>& items,
                                const std::string& scorer, const std::string& who);

/// The k items with the highest score (ties: lower index first), in that order.
/// `scores[i]` belongs to `items[i]`.
std::vector<int64_t> top_k(const std::vector<double>& scores, const std::vector<int64_t>& items,
                           int64_t k);

/// Logs the "fewer remain" warning when needed; returns min(k, available).
int64_t clamp_k(int64_t k, int64_t available, const std::string& who);

/// A copy of `in` whose candidate mask is `items` (which must be unlabeled).
SamplerInput restrict_to(const SamplerInput& in, const std::vector<int64_t>& items, int64_t n);

/// Per-row argmax of p̄ (mean over passes). probs: [N, T, C] or [N, C] → [N].
std::vector<int64_t> predicted_classes(const at::Tensor& probs);

/// Random generator for one call: the seed mixed with a per-sampler salt.
inline std::mt19937_64 make_rng(uint64_t seed, uint64_t salt) {
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(salt), static_cast<uint32_t>(salt >> 32)};
  return std::mt19937_64(seq);
}

/// Uniform double in [0, 1) from a 64-bit generator, identical on every platform.
inline double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace alx::sampling::detail
