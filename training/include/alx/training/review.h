// alx/training/review.h — label review: label statistics per round, suspected mislabels
// by cross-fitting and confident learning, near-duplicates and test leaks, and an
// embedding map. The tensor math lives in alx/sampling/review_tools.h; this file adds
// the model (cross-fitting needs the Trainer), the pool, the store and the outputs.
//
//   ReviewModel m{config.model(), config.trainer(), config.predictor(), train_pipe, eval_pipe};
//   ReviewInputs in{&store, images, m};
//   in.test_images = test_images; in.test_indices = test_indices;   // optional: leak check
//   ReviewResult r = run_review(in, ReviewOptions().folds(5), "out/review");
//   // out/review: label_stats.png, suspects.csv, review_tasks.json (Label Studio),
//   //             review_cvat.xml, duplicates.csv, leaks.csv, map_pca.png, map_tsne.png, map.csv
//
// Each step is also a function of its own (label_stats, cross_fit, rank_suspects, …).
#pragma once

#include <type_traits>  // before options.h, which uses std::void_t without including it
#include <utility>

#include <alx/core/image_source.h>
#include <alx/core/io/next_batch.h>
#include <alx/core/options.h>
#include <alx/core/pool.h>
#include <alx/core/store.h>
#include <alx/sampling/review_tools.h>
#include <alx/training/model.h>
#include <alx/training/predictor.h>
#include <alx/training/trainer.h>

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace alx::augment {
class Pipeline;
}

namespace alx::training {

// ------------------------------------------------------------------ label statistics

/// Labeled items per class, now and after every label round, with imbalance warnings.
struct LabelStats {
  std::vector<std::string> classes;
  int64_t pool_size = 0, labeled = 0, unlabeled = 0;
  std::vector<int64_t> counts;  ///< [C] labeled per class now
  std::vector<double> shares;   ///< [C] counts / labeled (0 when nothing is labeled)
  std::vector<int> rounds;      ///< the label rounds present, ascending (0 = initial labels)
  std::vector<std::vector<int64_t>> added;       ///< [R][C] labels that arrived in rounds[r]
  std::vector<std::vector<int64_t>> cumulative;  ///< [R][C] labeled per class after rounds[r]
  double min_share = 0.0;                        ///< the share under which a class is flagged
  std::vector<std::string> warnings;             ///< one line per under-represented class
};

/// `min_share` ≤ 0: half an even share, 0.5 / C. Labels relabeled later count in the round
/// of their last label (Pool::label_round).
LabelStats label_stats(const Pool& pool, double min_share = 0.0);
/// The table `alx status` prints: class, count, share, growth in the last round, warnings.
std::string format_label_stats(const LabelStats& stats);
/// Writes meta "review/label_stats" (the table) and arrays "review/label_counts"
/// [R, C] (cumulative counts per round) and "review/label_rounds" [R] into the store
/// (in memory; call Store::save()).
void save_label_stats(Store& store, const LabelStats& stats);
/// Bar chart PNG: labeled per class after the previous and the last label round.
void plot_label_stats(const LabelStats& stats, const std::string& png_path);

// ------------------------------------------------------------------ cross-fitting

/// What the review trains: a model, its trainer and predictor settings, and pipelines.
struct ReviewModel {
  ModelOptions model;
  TrainerOptions trainer;
  PredictorOptions predictor;
  std::shared_ptr<const augment::Pipeline> train_pipeline;  ///< null: no augmentation
  std::shared_ptr<const augment::Pipeline> eval_pipeline;   ///< null: conversion only
};

struct CrossFitResult {
  torch::Tensor probs;                ///< [N, C] out-of-sample probabilities, row i = indices[i]
  std::vector<int> fold;              ///< [N] the fold whose model scored item i
  std::vector<double> fold_accuracy;  ///< agreement with the given labels on each held-out fold
  /// The last fold's model, trained on (k − 1) / k of the labels: used for embeddings.
  std::unique_ptr<Model> model;
};

/// k-fold cross-fitting, stratified by label (seeded shuffle within each class): fold f's
/// model trains on the other folds and scores fold f, so no item is scored by a model
/// that saw it. Needs folds ≥ 2 and at least `folds` labeled items.
CrossFitResult cross_fit(const ReviewModel& m, std::shared_ptr<const ImageSource> images,
                         const std::vector<int64_t>& indices, const std::vector<int>& labels, int folds,
                         uint64_t seed);

// ------------------------------------------------------------------ mislabels

/// One labeled item in the review list.
struct Suspect {
  int64_t index = -1;  ///< pool index
  int given = -1;      ///< its label
  int suggested = -1;  ///< the model's best other class
  double p_given = 0.0, p_suggested = 0.0;
  double margin = 0.0;  ///< p_given − p_suggested (negative: the model disagrees)
  bool flagged = false; ///< confident learning calls it a label issue
};

/// Labeled items `indices` in the order of `cl.ranking` (flagged first, lowest margin first).
std::vector<Suspect> rank_suspects(const std::vector<int64_t>& indices, const std::vector<int>& labels,
                                   const torch::Tensor& probs, const sampling::ConfidentLearning& cl);
/// rank,id,index,given,suggested,p_given,p_suggested,margin,flagged
void write_suspects_csv(const std::string& path, const Pool& pool, const std::vector<Suspect>& suspects);
/// The first `max_items` flagged suspects as a batch for re-checking: the suggested label is
/// the prediction (Label Studio / CVAT pre-annotation), confidence = p_suggested,
/// uncertainty = (1 − margin) / 2. `image_refs` (per pool item, may be empty) as the tool wrote them.
io::NextBatch review_batch(const Pool& pool, const std::vector<Suspect>& suspects, int64_t max_items,
                           const std::string& model_version, const std::vector<std::string>& image_refs = {});

// ------------------------------------------------------------------ duplicates

/// index → pool index lists for the sampler: every item of a duplicate group except the
/// one kept (see sampling::duplicate_skip_mask), ascending. Remove these from the
/// candidates of a round (or AND sampling::duplicate_skip_mask into SamplerInput::candidates).
std::vector<int64_t> duplicates_to_skip(const Pool& pool, const std::vector<sampling::DuplicatePair>& pairs);
/// [M, side²] gray thumbnails (INTER_AREA resize, values 0..255) of `indices`.
torch::Tensor thumbnails(const ImageSource& images, const std::vector<int64_t>& indices, int side = 16);
/// a_id,b_id,a_index,b_index,cosine,a_label,b_label
void write_duplicates_csv(const std::string& path, const Pool& pool, const std::vector<sampling::DuplicatePair>& pairs);

// ------------------------------------------------------------------ embedding map

/// Scatter PNG of `coords` [M, 2] for pool items `indices` (M): colored by label (gray:
/// unlabeled), ring = flagged, cross = next batch.
void plot_embedding_map(const std::string& png_path, const std::string& title, const torch::Tensor& coords,
                        const Pool& pool, const std::vector<int64_t>& indices,
                        const std::vector<int64_t>& flagged, const std::vector<int64_t>& next_batch);

// ------------------------------------------------------------------ everything

struct ReviewOptions {
  ALX_ARG(int, folds) = 5;
  /// Imbalance warning under this share of the labels (≤ 0: 0.5 / C).
  ALX_ARG(double, min_share) = 0.0;
  /// Items of the review batch (flagged suspects, most suspicious first).
  ALX_ARG(int64_t, review_batch) = 200;
  ALX_ARG(sampling::DuplicateOptions, duplicates);
  /// "all" (labeled and unlabeled items) or "labeled".
  ALX_ARG(std::string, duplicate_scope) = "all";
  /// What duplicates are compared on: "both" (mean of the cosines of the centered model
  /// embedding and of a centered 16×16 gray thumbnail), "embeddings" or "thumbnails".
  /// A classifier's penultimate layer is built to ignore within-class differences, so on
  /// its own it calls many distinct items of a class duplicates; the thumbnail restores them.
  ALX_ARG(std::string, duplicate_features) = "both";
  ALX_ARG(bool, pca) = true;
  ALX_ARG(bool, tsne) = true;
  ALX_ARG(sampling::TsneOptions, tsne_options);
  /// Unlabeled items drawn into the map at most (random subset; labeled, flagged and
  /// next-batch items are always in it).
  ALX_ARG(int64_t, map_unlabeled) = 5000;
  ALX_ARG(uint64_t, seed) = 0;

 public:
  template <class V>
  void visit(V&& v) {
    v("folds", folds_, "cross-fitting folds", Range::at_least(2));
    v("min_share", min_share_, "imbalance warning under this share (<= 0: half an even share)");
    v("review_batch", review_batch_, "items sent back for re-checking", Range::at_least(0));
    v("duplicates", duplicates_, "near-duplicate search");
    v("duplicate_scope", duplicate_scope_, "all or labeled");
    v("duplicate_features", duplicate_features_, "both, embeddings or thumbnails");
    v("pca", pca_, "draw the PCA map");
    v("tsne", tsne_, "draw the t-SNE map");
    v("tsne_options", tsne_options_, "t-SNE settings");
    v("map_unlabeled", map_unlabeled_, "unlabeled items drawn into the maps at most", Range::at_least(0));
    v("seed", seed_, "seed of folds, subsets and t-SNE");
  }
};

struct ReviewInputs {
  Store* store = nullptr;  ///< pool, rounds (the last round's selection = next batch); results written back
  std::shared_ptr<const ImageSource> images;  ///< by pool index
  ReviewModel model;
  /// Optional held-out split: labeled ↔ test near-duplicates are reported as leaks.
  std::shared_ptr<const ImageSource> test_images;
  std::vector<int64_t> test_indices;
  /// Per pool item, the image reference the labeling tool wrote (empty: the ids).
  std::vector<std::string> image_refs;
  /// Items of the next batch to mark on the map (empty: the last round's selection).
  std::vector<int64_t> next_batch;
};

struct ReviewResult {
  LabelStats stats;
  std::vector<int64_t> labeled;   ///< pool indices cross-fitted, row order of `probs`
  torch::Tensor probs;            ///< [L, C] out-of-sample probabilities
  std::vector<double> fold_accuracy;
  sampling::ConfidentLearning cl;
  std::vector<Suspect> suspects;  ///< every labeled item, most suspicious first
  std::vector<sampling::DuplicatePair> duplicates;  ///< pool index pairs
  std::vector<sampling::DuplicatePair> leaks;       ///< (pool index, position in test_indices)
  std::vector<int64_t> skip;      ///< duplicates_to_skip
  std::vector<int64_t> map_indices;  ///< pool items on the maps
  torch::Tensor pca, tsne;        ///< [M, 2] each (undefined when off)
  std::vector<std::string> files; ///< everything written, in order
  std::map<std::string, double> seconds;  ///< per stage
};

/// Runs every step, writes the files listed in the file comment under `out_dir` and, with a
/// store, saves label statistics (save_label_stats), "review/suspects" [K, 4] (index, given,
/// suggested, margin of the flagged items), "review/duplicate_skip" [S] and meta
/// "review/summary" (one atomic save).
ReviewResult run_review(const ReviewInputs& in, const ReviewOptions& options, const std::string& out_dir);

/// The summary lines run_review prints and stores.
std::string format_review_summary(const ReviewResult& r, const Pool& pool);

}  // namespace alx::training
