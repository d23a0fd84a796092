// alx/sampling/sampler.h — the Sampler interface and the registry that builds
// samplers by name from YAML (or Python keyword arguments).
//
//   auto sampler = alx::sampling::make_sampler("topk", YAML::Load("{scorer: margin}"));
//   SamplerInput in;
//   in.probs = probs;        // [N, T, C]
//   in.labeled = labeled;    // [N] bool
//   std::vector<int64_t> batch = sampler->select(in, /*k=*/100, /*seed=*/7);
//
// Every sampler returns unique indices of unlabeled (and, when given, candidate)
// items, in the order it picked them; fewer than k only when fewer remain (then
// it logs a warning). The same input and seed always give the same batch, and
// ties go to the lower index.
//
// Every sampler also accepts `subsample: M` (M > 0): only a random M of the
// unlabeled pool are considered — and scored — which bounds the cost of one
// round on a huge pool.
#pragma once

#include <alx/core/config.h>

#include <ATen/ATen.h>
#include <torch/types.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace alx::sampling {

/// What a sampler reads. Tensors may live on any device; samplers copy to the CPU.
struct SamplerInput {
  /// [N, T, C] (T stochastic passes) or [N, C] class probabilities; may be undefined.
  torch::Tensor probs;
  /// [N, D] feature embeddings (e.g. the penultimate layer); may be undefined.
  torch::Tensor embeddings;
  /// [N, C*D] BADGE gradient embeddings; may be undefined (BADGE can factor them
  /// from probs and embeddings instead).
  torch::Tensor grad_embeddings;
  /// [N] precomputed scores (higher = more worth labeling); when defined,
  /// scorer-based samplers use them instead of scoring probs.
  torch::Tensor scores;
  /// [N] bool, required: true for items that already have a label.
  torch::Tensor labeled;
  /// [N] bool, optional: when defined, only items that are true here (and
  /// unlabeled) may be selected. Labeled items still count (e.g. as k-center
  /// centers). Used by wrappers (hybrid, class_balanced, subsample).
  torch::Tensor candidates;

  /// N, checked against every defined tensor (throws alx::InvalidArgument on a mismatch).
  int64_t size() const;
};

/// Which inputs a sampler uses, so the predictor computes only those.
struct Needs {
  bool probs = false;            ///< SamplerInput::probs
  bool mc_samples = false;       ///< probs with T > 1 passes
  bool embeddings = false;       ///< SamplerInput::embeddings
  bool grad_embeddings = false;  ///< SamplerInput::grad_embeddings

  Needs& operator|=(const Needs& o) {
    probs |= o.probs;
    mc_samples |= o.mc_samples;
    embeddings |= o.embeddings;
    grad_embeddings |= o.grad_embeddings;
    return *this;
  }
  /// "probs, embeddings" — for messages.
  std::string describe() const;
};

/// Picks a batch of items to label.
class Sampler {
 public:
  virtual ~Sampler() = default;
  /// Indices of up to k unlabeled items, unique, in selection order.
  /// Throws alx::InvalidArgument when an input it needs is missing or malformed.
  virtual std::vector<int64_t> select(const SamplerInput& in, int64_t k, uint64_t seed) const = 0;
  virtual Needs needs() const { return {}; }
  virtual std::string name() const = 0;
};

/// Builds a sampler from its parameters (a YAML mapping; null for defaults).
using SamplerFactory =
    std::function<std::unique_ptr<Sampler>(const YAML::Node& params, const config::Context& ctx)>;

/// A registry entry: the factory plus what `--help` and Python show.
struct SamplerInfo {
  std::string name;
  std::string summary;  ///< one line: what it does, and the paper
  SamplerFactory factory;
  /// One line per parameter: "key: help (type, default value)".
  std::function<std::vector<std::string>()> params_help;
};

/// Adds (or replaces) a sampler. Built-in names cannot be replaced.
void register_sampler(SamplerInfo info);

/// Registers a sampler whose parameters are an options struct `Opts` (ALX_ARG fields
/// with `visit`) and that is built as `S(opts)`. Unknown keys are errors naming them.
template <class S, class Opts>
void register_sampler(const std::string& name, const std::string& summary) {
  SamplerInfo info;
  info.name = name;
  info.summary = summary;
  info.factory = [](const YAML::Node& params, const config::Context& ctx) {
    return std::unique_ptr<Sampler>(std::make_unique<S>(config::read<Opts>(params, ctx)));
  };
  info.params_help = [] { return config::help<Opts>(); };
  register_sampler(std::move(info));
}

/// Builds a registered sampler; throws alx::InvalidArgument for an unknown name (listing
/// the known ones) and alx::ConfigError for an unknown or malformed parameter.
std::unique_ptr<Sampler> make_sampler(const std::string& name, const YAML::Node& params = {},
                                      const config::Context& ctx = {"<params>", ""});
/// Every registered name, sorted.
std::vector<std::string> sampler_names();
/// "key: help (type, default value)" for each parameter of a sampler (including `subsample`).
std::vector<std::string> sampler_params(const std::string& name);
/// The one-line summary of a sampler.
std::string sampler_summary(const std::string& name);

}  // namespace alx::sampling
