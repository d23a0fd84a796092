// alx/sampling/review_tools.h — label review on tensors: confident-learning flags,
// near-duplicate search in bounded memory, a skip mask for samplers, and 2-D maps of
// embeddings (PCA, Barnes-Hut t-SNE). Pure functions of tensors, no model.
//
//   // probs: [N, C] out-of-sample probabilities of the labeled items (cross-fitted)
//   auto flags = alx::sampling::confident_learning(probs, given_labels);
//   // flags.ranking: most suspicious first (given label's probability − best other class)
//
//   auto pairs = alx::sampling::near_duplicates(embeddings, DuplicateOptions().threshold(0.99));
//   in.candidates = alx::sampling::duplicate_skip_mask(n, pairs, is_labeled);  // SamplerInput
//
//   at::Tensor xy = alx::sampling::tsne_2d(embeddings, TsneOptions().perplexity(30).seed(7));
#pragma once

#include <type_traits>  // before options.h, which uses std::void_t without including it
#include <utility>

#include <alx/core/options.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace alx::sampling {

// ------------------------------------------------------------------ mislabels

/// Confident learning (Northcutt, Jiang & Chuang 2021) on out-of-sample probabilities.
struct ConfidentLearning {
  /// [C] per-class threshold t_c: mean p_c over the items labeled c (NaN: class absent).
  std::vector<double> thresholds;
  /// [N] true where the item's confident class (argmax of p_j over classes with p_j ≥ t_j)
  /// exists and differs from its given label: an off-diagonal entry of the confident joint.
  std::vector<bool> flagged;
  /// [N] p_given − max_{j ≠ given} p_j ("normalized margin"; negative: the model prefers
  /// another class).
  std::vector<double> margin;
  /// [N] the best other class, the model's suggested label.
  std::vector<int> suggested;
  /// Row indices 0..N-1, flagged items first, each part by ascending margin (ties: lower
  /// index first). Its top rows are the review list.
  std::vector<int64_t> ranking;
  /// [C, C] confident joint counts: rows = given label, columns = confident class.
  std::vector<std::vector<int64_t>> joint;
  int64_t num_flagged = 0;
};

/// probs: [N, C] (rows sum to 1), labels: [N] in [0, C). Throws alx::InvalidArgument on
/// mismatched shapes or a label out of range.
ConfidentLearning confident_learning(const at::Tensor& probs, const std::vector<int>& labels);

// ------------------------------------------------------------------ duplicates

struct DuplicateOptions {
  /// Pairs with cosine similarity ≥ threshold are reported.
  ALX_ARG(double, threshold) = 0.99;
  /// Subtract the mean embedding first. Post-ReLU features share one large positive
  /// direction that makes unrelated items look alike; centering removes it.
  ALX_ARG(bool, center) = true;
  /// Rows per block of the blocked similarity product: memory is block² floats.
  ALX_ARG(int64_t, block) = 2048;
  /// Keep at most this many pairs (the most similar ones: a running top list).
  ALX_ARG(int64_t, max_pairs) = 100000;

 public:
  template <class V>
  void visit(V&& v) {
    v("threshold", threshold_, "cosine similarity at or above which two items are duplicates",
      Range::between(-1, 1));
    v("center", center_, "subtract the mean embedding before comparing");
    v("block", block_, "rows per block of the similarity product", Range::at_least(1));
    v("max_pairs", max_pairs_, "most similar pairs kept", Range::at_least(1));
  }
};

struct DuplicatePair {
  int64_t a = 0;  ///< row in the first set
  int64_t b = 0;  ///< row in the second set (the same set for near_duplicates: a < b)
  float cosine = 0.0f;
};

/// Pairs of rows of `embeddings` [N, D] whose cosine ≥ threshold, most similar first
/// (ties: lower a, then lower b). Never holds an N×N matrix: blocks of block × block.
std::vector<DuplicatePair> near_duplicates(const at::Tensor& embeddings, const DuplicateOptions& options = {});

/// Pairs (row of `a` [Na, D], row of `b` [Nb, D]) with cosine ≥ threshold, e.g. labeled
/// items against the test split (a leak). With `center`, both sets are centered by the
/// mean of their union.
std::vector<DuplicatePair> cross_duplicates(const at::Tensor& a, const at::Tensor& b,
                                            const DuplicateOptions& options = {});

/// Groups of duplicates (connected components of the pairs), each ascending, groups
/// ordered by their first member. Items in no pair are not listed.
std::vector<std::vector<int64_t>> duplicate_groups(int64_t n, const std::vector<DuplicatePair>& pairs);

/// A SamplerInput::candidates mask [N] (bool) that lets a sampler pick at most one item
/// of each duplicate group: a group with a labeled member keeps none of its unlabeled
/// members (already covered), otherwise its lowest index stays. Items outside any group
/// stay candidates. `labeled`: [N] (empty = nothing labeled). AND it with an existing mask.
at::Tensor duplicate_skip_mask(int64_t n, const std::vector<DuplicatePair>& pairs,
                               const std::vector<bool>& labeled = {});

// ------------------------------------------------------------------ 2-D maps

/// [N, D] → [N, 2]: the two leading principal components (deterministic signs: the
/// largest loading of each component is positive).
at::Tensor pca_2d(const at::Tensor& embeddings);

/// Barnes-Hut t-SNE (van der Maaten 2014): input affinities from the 3·perplexity exact
/// nearest neighbours (blocked search, no N×N matrix), a quadtree with opening angle
/// `theta` for the repulsion, early exaggeration, momentum and gains as in the paper.
/// Cost per iteration O(N log N); the neighbour search is O(N² D) multiply-adds in blocks.
struct TsneOptions {
  ALX_ARG(double, perplexity) = 30.0;
  ALX_ARG(int, iterations) = 750;
  ALX_ARG(int, exaggeration_iterations) = 250;
  ALX_ARG(double, exaggeration) = 12.0;
  /// Barnes-Hut opening angle; 0 = exact repulsion (O(N²), for tests).
  ALX_ARG(double, theta) = 0.5;
  /// ≤ 0: max(N / exaggeration / 4, 50) (Belkina et al. 2019).
  ALX_ARG(double, learning_rate) = 0.0;
  /// Inputs with more dimensions are first reduced to this many by PCA (0: never).
  ALX_ARG(int64_t, pca_dims) = 50;
  /// Initialisation: "pca" (deterministic, scaled to std 1e-4) or "random".
  ALX_ARG(std::string, init) = "pca";
  ALX_ARG(uint64_t, seed) = 0;

 public:
  template <class V>
  void visit(V&& v) {
    v("perplexity", perplexity_, "effective number of neighbours", Range::positive());
    v("iterations", iterations_, "gradient steps", Range::at_least(1));
    v("exaggeration_iterations", exaggeration_iterations_, "steps with early exaggeration", Range::at_least(0));
    v("exaggeration", exaggeration_, "early exaggeration factor", Range::at_least(1));
    v("theta", theta_, "Barnes-Hut opening angle (0: exact)", Range::between(0, 2));
    v("learning_rate", learning_rate_, "step size (<= 0: automatic)");
    v("pca_dims", pca_dims_, "reduce inputs to this many dimensions first (0: never)", Range::at_least(0));
    v("init", init_, "pca or random");
    v("seed", seed_, "seed of the random initialisation");
  }
};

/// [N, D] → [N, 2] t-SNE coordinates. Needs N ≥ 4; perplexity is lowered to (N − 1) / 3
/// when larger. Same input and seed → same output. Uses LibTorch's intra-op threads.
at::Tensor tsne_2d(const at::Tensor& embeddings, const TsneOptions& options = {});

}  // namespace alx::sampling
