// The subcommands of the `alx` program and what they share.
#pragma once

#include <alx/core/image_source.h>
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
  long long max_pixels = kDefaultMaxPixels;  ///< images claiming more pixels are refused
};

struct StatusArgs {
  std::string store;
};

struct ReviewArgs {
  std::string store;
  std::string out;
  std::string images;                 ///< image root of a store made by `alx round` ("" = re-load simulation data)
  int folds = 5;                      ///< cross-fitting folds
  int epochs = 0;                     ///< epochs per fold (0 = the store's config)
  int threads = -1;                   ///< LibTorch threads (-1 = keep)
  double threshold = 0.99;            ///< cosine similarity of near-duplicates
  double min_share = 0.0;             ///< imbalance warning under this share (0 = half an even share)
  long long map_unlabeled = 5000;     ///< unlabeled items drawn into the maps at most
  bool no_tsne = false;
};

int simulate(const SimulateArgs& args);
int round(const RoundArgs& args);
int status(const StatusArgs& args);
int review(const ReviewArgs& args);

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
