// alx/sampling/scorers.h — uncertainty scores: probabilities [N, T, C] → [N].
//
// T is the number of stochastic passes (MC dropout, ensemble members, TTA); a
// plain [N, C] tensor is read as T = 1. With p̄ = mean over T, higher is more
// worth labeling:
//
//   least_confidence  1 − max_c p̄
//   margin            1 − (p̄₍₁₎ − p̄₍₂₎)
//   ratio             p̄₍₂₎ / p̄₍₁₎
//   entropy           −Σ_c p̄ log p̄                       (nats; 0 log 0 = 0)
//   bald              entropy(p̄) − mean_t entropy(p_t)   (≥ 0, clamped at 0)
//   variation_ratios  1 − (#passes whose argmax is the modal class) / T   (0 when T = 1)
//   mean_std          mean_c of the standard deviation over passes (population, ÷T)
//
//   torch::Tensor s = alx::sampling::score(probs, "bald");          // probs: [N, 20, 10]
//   auto s2 = alx::sampling::score(logits, "entropy", ScoreOptions().from_logits(true));
//
// The built-in scorers run as one fused pass over the input memory on
// at::get_num_threads() threads; validation of the rows happens in that same pass.
#pragma once

#include <type_traits>  // before options.h, which uses std::void_t without including it
#include <utility>

#include <alx/core/options.h>

#include <ATen/ATen.h>
#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace alx::sampling {

/// How `score` reads its input.
struct ScoreOptions {
  /// The input holds logits (softmax over the last dimension is applied first).
  ALX_ARG(bool, from_logits) = false;
  /// Check that every row is a probability vector (finite, ≥ −tolerance, sums to 1 ± tolerance).
  ALX_ARG(bool, validate) = true;
  /// Absolute tolerance of the row-sum and non-negativity checks.
  ALX_ARG(double, tolerance) = 1e-3;

 public:
  template <class V>
  void visit(V&& v) {
    v("from_logits", from_logits_, "input holds logits; apply softmax over classes first");
    v("validate", validate_, "check that rows are probability vectors", Range::any());
    v("tolerance", tolerance_, "absolute tolerance of the probability checks", Range::positive());
  }
};

/// One uncertainty measure. Implementations must be stateless and thread-safe.
class Scorer {
 public:
  virtual ~Scorer() = default;
  /// probs: [N, T, C] or [N, C] probabilities → [N] scores (float32 or float64, higher =
  /// more worth labeling). Inputs reach a registered scorer already validated (and
  /// softmaxed when the caller passed logits).
  virtual torch::Tensor score(const torch::Tensor& probs) const = 0;
  virtual std::string name() const = 0;
  /// True when the score is only meaningful with T > 1 passes (BALD, variation ratios …).
  virtual bool needs_mc_samples() const { return false; }
};

using ScorerFactory = std::function<std::unique_ptr<Scorer>()>;

/// Scores every row. probs: [N, T, C] or [N, C], float32 or float64 → [N] of the same dtype.
/// Throws alx::InvalidArgument for an unknown method, a bad shape, or (with validate) a
/// row that is not a probability vector — the message names the row and pass.
torch::Tensor score(const torch::Tensor& probs, const std::string& method,
                    const ScoreOptions& opts = {});

/// Adds (or replaces) a scorer under `name`; built-in names cannot be replaced.
void register_scorer(const std::string& name, ScorerFactory factory);
/// A fresh scorer by name; throws alx::InvalidArgument listing the known names.
std::unique_ptr<Scorer> make_scorer(const std::string& name);
/// Every registered name, sorted.
std::vector<std::string> scorer_names();
/// True for a known scorer name.
bool has_scorer(const std::string& name);
/// True when the named scorer needs T > 1 passes to be informative.
bool scorer_needs_mc_samples(const std::string& name);

/// Checks that probs ([N, T, C] or [N, C]) holds probability vectors; throws
/// alx::InvalidArgument naming the first bad row (and pass) otherwise.
void validate_probabilities(const torch::Tensor& probs, double tolerance = 1e-3);

}  // namespace alx::sampling
