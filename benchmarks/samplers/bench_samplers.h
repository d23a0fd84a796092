// bench_samplers.h — the sampler benchmark: a plan (one data set and protocol, a list of
// samplers, a number of seeds) run as simulated active-learning loops, one resumable store
// per (sampler, seed), summarised as learning curves, AUBC and labels-to-target.
//
// A plan file (the presets in presets/*.yaml are plan files):
//
//   name: quick
//   seeds: 3                       # seeds first_seed .. first_seed + seeds - 1
//   targets: [0.70, 0.75]          # report the labels needed to first reach these accuracies
//   samplers:
//     - random                     # a registered name, default parameters
//     - {label: bald, sampler: topk, params: {scorer: bald}}
//     - all                        # every registered sampler not named above
//   run:                           # a RunConfig (alx/training/experiment.h), without loop.sampler
//     data: {dataset: fashion_mnist, test_size: 3000}
//     loop: {batch_size: 50, rounds: 8}
//
// Samplers come from the registry (alx/sampling/sampler.h), so a program that registers its
// own sampler and calls alx::bench::samplers_main() benchmarks it next to the built-ins.
#pragma once

#include <alx/training/experiment.h>

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "metrics.h"

namespace alx::bench {

/// One contender: a registered sampler with its parameters, under a display label.
struct Arm {
  std::string label;    ///< unique within a plan; names the run folders
  std::string sampler;  ///< registered name
  YAML::Node params;    ///< its parameters (null: defaults)
  /// "topk {scorer: bald}"
  std::string describe() const;
};

struct Plan {
  std::string name;
  std::string description;
  std::string source;               ///< the file it came from
  std::vector<Arm> arms;
  std::vector<uint64_t> seeds;
  std::vector<double> targets;      ///< accuracy targets for labels-to-target
  training::RunConfig run = training::RunConfig::defaults();

  /// The run of one arm and seed: `run` with the arm's sampler and the seed.
  training::RunConfig config_for(const Arm& arm, uint64_t seed) const;
};

/// The arms of the `quick` preset: random, entropy, margin, BALD, k-center, BADGE.
std::vector<Arm> default_arms();

/// Reads a plan file. A file without `run:` and `samplers:` is read as a plain run config
/// (the format of `alx simulate --config`) with default_arms(). Errors name the key and file.
Plan load_plan(const std::string& path);
/// Path of a preset by name, searched in $ALX_BENCH_PRESETS, next to the program
/// (presets/), the install tree (share/alx/bench-presets) and the source tree.
std::string preset_path(const std::string& name);
/// Names of the presets found.
std::vector<std::string> preset_names();

/// Restricts a plan to `names`: each is an arm label of the plan, a registered sampler
/// (default parameters) or a scorer name (topk with that scorer). Unknown names are errors.
void select_arms(Plan& plan, const std::vector<std::string>& names);

/// One evaluated round of one run.
struct RoundRow {
  int round = 0;
  double labeled = 0, accuracy = 0, macro_f1 = 0;
  double s_train = 0, s_evaluate = 0, s_predict = 0, s_score = 0, s_select = 0, s_total = 0;
};

/// One (arm, seed) run, as stored.
struct RunResult {
  std::string arm;
  uint64_t seed = 0;
  std::vector<RoundRow> rounds;
  bool finished = false;   ///< its loop stopped by a rule (rounds, budget, plateau …)
  std::string status;      ///< the stop reason, "in progress" or the error
  bool failed = false;

  std::vector<double> labeled() const;
  std::vector<double> accuracy() const;
};

/// Labels needed to reach one target, over the seeds of an arm.
struct TargetStat {
  double target = 0;
  MeanStd labels;  ///< over the seeds that reached it
  int reached = 0, runs = 0;
};

/// Everything the report says about one arm.
struct ArmSummary {
  std::string label, describe;
  MeanStd aubc;
  MeanStd aubc_minus_random;  ///< paired by seed (same pool, initial labels and test set)
  MeanStd final_accuracy;
  double final_labeled = 0;
  std::vector<TargetStat> targets;
  TargetStat to_random_final;  ///< target = random's mean final accuracy (when random is an arm)
  MeanStd s_train, s_predict_select;  ///< per round, over every stored round
  int runs_finished = 0, runs_total = 0, runs_failed = 0;
  /// The mean curve: labeled → mean accuracy and std over the seeds that have the point.
  std::vector<double> x, mean, std;
  std::vector<int> n;
  /// Accuracy minus random's, paired by seed and label count: mean and std over seeds.
  std::vector<double> dx, dmean, dstd;
};

/// Summaries ranked by mean AUBC (best first; arms without data last).
std::vector<ArmSummary> summarise(const Plan& plan, const std::vector<RunResult>& runs);

/// What the report needs besides the results.
struct ReportContext {
  std::string command;
  double wall_seconds = 0;    ///< this invocation
  int runs_resumed = 0;       ///< runs found finished or partly done in the output folder
};

void write_results_csv(const std::vector<RunResult>& runs, const std::string& path);
void write_aubc_csv(const Plan& plan, const std::vector<RunResult>& runs, const std::string& path);
void write_summary_md(const Plan& plan, const std::vector<ArmSummary>& summary,
                      const std::vector<RunResult>& runs, const ReportContext& ctx, const std::string& path);
/// curves.png: mean accuracy with a ±std band per arm; and, when random is an arm,
/// curves_vs_random.png: mean accuracy minus random's mean at the same label count.
void write_curves_png(const Plan& plan, const std::vector<ArmSummary>& summary, const std::string& dir);

/// "Intel(R) Xeon(R) … , 2 cores, 7.8 GiB, LibTorch 1.13.0"
std::string machine_description();

struct RunOptions {
  std::string out;
  bool report_only = false;  ///< read the stores, run nothing
  /// Called after every stored round (arm, seed, result row) and at the end of each run.
  std::function<void(const std::string&)> print;
};

/// Runs every (seed, arm) of the plan — seed-major, so a stopped benchmark has every arm
/// for its first seeds — skipping finished runs and resuming partial ones, and rewrites the
/// reports after each run. Returns the results (failed runs carry their error).
std::vector<RunResult> run_plan(const Plan& plan, const RunOptions& options,
                                const std::function<void(const std::vector<RunResult>&)>& on_progress);

/// The `alx-bench` program (subcommand `samplers`); returns the exit status.
int samplers_main(int argc, char** argv);

}  // namespace alx::bench
