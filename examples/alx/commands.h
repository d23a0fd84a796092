// The subcommands of the `alx` program and what they share.
#pragma once

#include <alx/core/store.h>
#include <alx/training/loop.h>

#include <string>
#include <vector>

namespace alx::cli {

struct SimulateArgs {
  std::string config;                 ///< YAML file ("" = built-in defaults)
  std::string sampler;                ///< overrides loop.sampler
  std::vector<std::string> params;    ///< key=value sampler parameters
  int rounds = 0;                     ///< overrides loop.rounds (0 = keep)
  long long seed = -1;                ///< overrides loop.seed (-1 = keep)
  long long batch = 0;                ///< overrides loop.batch_size (0 = keep)
  int threads = -1;                   ///< LibTorch threads (-1 = keep)
  std::string out;
};

struct RoundArgs {
  std::string export_file;
  std::string format;                 ///< labelstudio, cvat, coco, folder, csv ("" = detect)
  std::string images;                 ///< image root ("" = next to the export)
  std::string config;
  long long batch = 0;
  std::string out;
  std::string store;                  ///< "" = <out>/store.h5
  std::vector<std::string> classes;   ///< fixed class list (unknown labels are errors)
};

struct StatusArgs {
  std::string store;
};

int simulate(const SimulateArgs& args);
int round(const RoundArgs& args);
int status(const StatusArgs& args);

// ---- report helpers (report.cpp) ----

/// "round labeled accuracy macro_f1 seconds..." header and one row per round, aligned.
std::string round_table_header();
std::string round_table_row(const RoundRecord& r);
/// round,labeled,accuracy,macro_f1,seconds_* for every stored round.
void write_curve_csv(const Store& store, const std::string& path);
/// Accuracy (and macro-F1) against labels.
void write_curve_png(const Store& store, const std::string& title, const std::string& path);
/// Parses "key=value" pairs into a YAML mapping (values parsed as YAML scalars / lists).
YAML::Node parse_params(const std::vector<std::string>& pairs);

}  // namespace alx::cli
