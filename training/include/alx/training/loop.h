// alx/training/loop.h — the active loop: train → predict → score → select → emit.
//
// One round:
//   1. fit the model on the labeled items of the pool (Trainer, train pipeline);
//   2. evaluate it on a held-out set when one is given (accuracy, macro-F1);
//   3. predict what the sampler needs over the candidates (a random `pool_subsample`
//      of the unlabeled items, or all of them) — probabilities, MC samples, embeddings;
//   4. select `batch_size` items with the registered sampler;
//   5. record the round in the Store (selected ids, scores, model version, metrics,
//      seconds per stage) — with an Oracle (simulation) the selected items are labeled
//      in the same atomic save.
// A run killed at any moment resumes from the last finished round: finished rounds are
// never recomputed, and the seeds of a round depend only on (seed, round), so a resumed
// run ends where an uninterrupted one does.
//
//   ActiveLoop loop(LoopOptions().sampler("topk").sampler_params(YAML::Load("{scorer: margin}")),
//                   std::move(parts));
//   loop.run([](const RoundResult& r) { fmt::print("{} {}\n", r.record.round, r.metrics.accuracy); });
#pragma once

#include <alx/core/image_source.h>
#include <alx/core/options.h>
#include <alx/core/store.h>
#include <alx/training/model.h>
#include <alx/training/predictor.h>
#include <alx/training/trainer.h>

#include <yaml-cpp/yaml.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace alx::augment {
class Pipeline;
}
namespace alx::sampling {
class Sampler;
}

namespace alx::training {

/// Stands in for the people who label: reveals the label of an item.
class Oracle {
 public:
  virtual ~Oracle() = default;
  /// Labels of `indices` (class indices of the pool's schema).
  virtual std::vector<int> reveal(const std::vector<int64_t>& indices) = 0;
};

/// An oracle that knows every label (simulation with hidden ground truth).
class TruthOracle : public Oracle {
 public:
  explicit TruthOracle(std::vector<int> truth) : truth_(std::move(truth)) {}
  std::vector<int> reveal(const std::vector<int64_t>& indices) override;
  const std::vector<int>& truth() const noexcept { return truth_; }

 private:
  std::vector<int> truth_;
};

struct LoopOptions {
  /// Registered sampler name (see alx::sampling::sampler_names()).
  ALX_ARG(std::string, sampler) = "topk";
  /// Its parameters, e.g. {scorer: entropy}.
  ALX_ARG(YAML::Node, sampler_params) = YAML::Node();
  /// Items acquired per round.
  ALX_ARG(int64_t, batch_size) = 100;
  /// Stop after this many rounds.
  ALX_ARG(int, rounds) = 10;
  /// Stop once this many items are labeled (0: no budget).
  ALX_ARG(int64_t, budget) = 0;
  /// Score only a random subset of this many unlabeled items per round (0: all).
  ALX_ARG(int64_t, pool_subsample) = 0;
  /// Stop when the held-out metric has not improved by plateau_delta for this many rounds (0: off).
  ALX_ARG(int, plateau_rounds) = 0;
  ALX_ARG(double, plateau_delta) = 0.0;
  /// accuracy or macro_f1.
  ALX_ARG(std::string, plateau_metric) = "accuracy";
  /// Scorer whose value is recorded (and emitted) as each selected item's uncertainty;
  /// "" = the sampler's scorer parameter, else entropy.
  ALX_ARG(std::string, uncertainty) = "";
  /// Seed of the whole run; round r uses seeds derived from (seed, r).
  ALX_ARG(uint64_t, seed) = 0;
  /// Folder for one checkpoint per round ("" = none); a warm-starting trainer resumes from it.
  ALX_ARG(std::string, checkpoint_dir) = "";

 public:
  template <class V>
  void visit(V&& v) {
    v("sampler", sampler_, "registered sampler name");
    v("sampler_params", sampler_params_, "sampler parameters, e.g. {scorer: entropy}");
    v("batch_size", batch_size_, "items acquired per round", Range::at_least(1));
    v("rounds", rounds_, "maximum number of rounds", Range::at_least(1));
    v("budget", budget_, "stop once this many items are labeled (0: no budget)", Range::at_least(0));
    v("pool_subsample", pool_subsample_, "unlabeled items scored per round (0: all)", Range::at_least(0));
    v("plateau_rounds", plateau_rounds_, "stop after this many rounds without improvement (0: off)",
      Range::at_least(0));
    v("plateau_delta", plateau_delta_, "improvement that counts for the plateau rule", Range::at_least(0));
    v("plateau_metric", plateau_metric_, "metric of the plateau rule: accuracy or macro_f1");
    v("uncertainty", uncertainty_, "scorer recorded as the uncertainty of selected items");
    v("seed", seed_, "seed of the run");
    v("checkpoint_dir", checkpoint_dir_, "folder for a checkpoint per round ('' = none)");
  }
};

/// Everything a loop works on. The store owns the pool; images are addressed by pool index.
struct LoopParts {
  std::unique_ptr<Model> model;
  TrainerOptions trainer;
  PredictorOptions predictor;
  std::shared_ptr<const augment::Pipeline> train_pipeline;  ///< null: no augmentation
  std::shared_ptr<const augment::Pipeline> eval_pipeline;   ///< null: conversion only
  std::shared_ptr<const ImageSource> images;
  Store* store = nullptr;
  /// Null for real labeling: selected items stay unlabeled until the next export.
  std::shared_ptr<Oracle> oracle;
  /// Optional held-out evaluation set.
  std::shared_ptr<const ImageSource> eval_images;
  std::vector<int64_t> eval_indices;
  std::vector<int> eval_labels;
};

/// What one round produced, beyond its RoundRecord.
struct RoundResult {
  RoundRecord record;
  Metrics metrics;                  ///< held-out metrics (n = 0 without a held-out set)
  TrainResult train;
  std::vector<float> uncertainty;   ///< per selected item (rank order)
  std::vector<int> predicted;       ///< predicted class per selected item
  std::vector<float> confidence;    ///< max class probability per selected item
  torch::Tensor probs;              ///< [k, C] class probabilities of the selected items
  std::vector<int64_t> candidates;  ///< pool indices the sampler could pick from this round
  std::vector<float> candidate_uncertainty;  ///< the uncertainty scorer's value per candidate
};

/// The `seed` of stage `stage` of round `round` (train, predict, select, initial).
uint64_t round_seed(uint64_t seed, int round, const char* stage);

class ActiveLoop {
 public:
  ActiveLoop(LoopOptions options, LoopParts parts);
  ~ActiveLoop();

  const LoopOptions& options() const noexcept { return options_; }
  Model& model() { return *parts_.model; }
  Store& store() { return *parts_.store; }
  /// The round step() will run next (last stored round + 1).
  int next_round() const { return parts_.store->last_round() + 1; }

  /// Why the loop should stop now, or nullopt to go on.
  std::optional<std::string> stop_reason() const;
  /// Runs one round and stores it (see the file comment).
  RoundResult step();
  /// Runs rounds until a stopping rule holds; calls `on_round` after each stored round.
  /// Returns the stop reason.
  std::string run(const std::function<void(const RoundResult&)>& on_round = {});

 private:
  LoopOptions options_;
  LoopParts parts_;
  std::unique_ptr<sampling::Sampler> sampler_;  ///< built from options_ once
};

}  // namespace alx::training
