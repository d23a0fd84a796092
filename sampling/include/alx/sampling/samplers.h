// alx/sampling/samplers.h — the built-in samplers' parameters and the algorithms
// behind them, callable directly from C++ (tests, benchmarks, custom samplers).
//
// Registry names and what they need:
//   random          nothing                    uniform without replacement
//   topk            probs or scores            the k highest scores of a scorer
//   power/softmax/softrank  probs or scores    stochastic batch acquisition (Kirsch et al. 2023)
//   kcenter         embeddings                 core-set greedy k-center (Sener & Savarese 2018)
//   badge           probs + embeddings (or grad_embeddings)  k-means++ on gradient embeddings (Ash et al. 2020)
//   cluster_margin  probs + embeddings         margin candidates, round-robin over HAC clusters (Citovsky et al. 2021)
//   batchbald       probs [N, T, C], T > 1     greedy joint mutual information (Kirsch et al. 2019)
//   typiclust       embeddings                 most typical item of the largest uncovered cluster (Hacohen et al. 2022)
//   class_balanced  probs (+ the inner sampler's needs)  equal quota per predicted class
//   hybrid          probs + the diversity sampler's needs  top-M uncertain, then k diverse among them
#pragma once

#include <type_traits>  // before options.h, which uses std::void_t without including it
#include <utility>

#include <alx/core/options.h>
#include <alx/sampling/sampler.h>

#include <ATen/ATen.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

namespace alx::sampling {

struct RandomOptions {
  template <class V>
  void visit(V&&) {}
};

struct TopKOptions {
  ALX_ARG(std::string, scorer) = "margin";

 public:
  template <class V>
  void visit(V&& v) {
    v("scorer", scorer_, "uncertainty scorer (see scorer_names()); ignored when scores are given");
  }
};

/// power: p ∝ s^β; softmax: p ∝ exp(β s); softrank: p ∝ rank^−β (rank 1 = highest).
/// k items are drawn without replacement (Gumbel-top-k), β → ∞ approaches topk.
struct StochasticOptions {
  ALX_ARG(std::string, scorer) = "entropy";
  ALX_ARG(double, beta) = 1.0;

 public:
  template <class V>
  void visit(V&& v) {
    v("scorer", scorer_, "uncertainty scorer; ignored when scores are given");
    v("beta", beta_, "coldness β: 0 = uniform, large = close to topk", Range::at_least(0.0));
  }
};

struct KCenterOptions {
  ALX_ARG(bool, labeled_as_centers) = true;

 public:
  template <class V>
  void visit(V&& v) {
    v("labeled_as_centers", labeled_as_centers_,
      "count labeled items as centers (the core-set setting)");
  }
};

struct BadgeOptions {
  ALX_ARG(bool, use_grad_embeddings) = false;

 public:
  template <class V>
  void visit(V&& v) {
    v("use_grad_embeddings", use_grad_embeddings_,
      "read dense grad_embeddings [N, C*D] instead of factoring (p - onehot) ⊗ embedding");
  }
};

struct ClusterMarginOptions {
  ALX_ARG(double, margin_factor) = 10.0;
  ALX_ARG(int64_t, num_clusters) = 0;
  ALX_ARG(double, distance_threshold) = 0.0;
  ALX_ARG(int64_t, max_cluster_items) = 8192;

 public:
  template <class V>
  void visit(V&& v) {
    v("margin_factor", margin_factor_, "candidates = margin_factor * k lowest-margin items",
      Range::at_least(1.0));
    v("num_clusters", num_clusters_, "clusters cut from the average-linkage tree (0: k)",
      Range::at_least(0));
    v("distance_threshold", distance_threshold_,
      "if > 0, cut the tree at this Euclidean distance instead of num_clusters",
      Range::at_least(0.0));
    v("max_cluster_items", max_cluster_items_,
      "at most this many candidates go into the O(M^2) clustering; the rest join the "
      "cluster of their nearest clustered candidate",
      Range::at_least(2));
  }
};

struct BatchBaldOptions {
  ALX_ARG(int64_t, num_samples) = 1000;
  ALX_ARG(int64_t, prefilter) = 0;

 public:
  template <class V>
  void visit(V&& v) {
    v("num_samples", num_samples_,
      "joint configurations: exact while C^n <= num_samples, sampled beyond (as the paper)",
      Range::at_least(1));
    v("prefilter", prefilter_, "if > 0, consider only the top-BALD this many items",
      Range::at_least(0));
  }
};

struct TypiclustOptions {
  ALX_ARG(int64_t, max_clusters) = 500;
  ALX_ARG(int64_t, knn) = 20;
  ALX_ARG(int64_t, min_cluster_size) = 5;
  ALX_ARG(int64_t, kmeans_iters) = 50;

 public:
  template <class V>
  void visit(V&& v) {
    v("max_clusters", max_clusters_, "k-means clusters = min(labeled + k, max_clusters)",
      Range::at_least(1));
    v("knn", knn_, "neighbours in the typicality estimate", Range::at_least(1));
    v("min_cluster_size", min_cluster_size_, "clusters this small or smaller are skipped",
      Range::at_least(0));
    v("kmeans_iters", kmeans_iters_, "Lloyd iterations", Range::at_least(1));
  }
};

struct ClassBalancedOptions {
  ALX_ARG(std::string, sampler) = "topk";
  ALX_ARG(YAML::Node, params) = YAML::Node(YAML::NodeType::Map);

 public:
  template <class V>
  void visit(V&& v) {
    v("sampler", sampler_, "inner sampler run once per predicted class");
    v("params", params_, "parameters of the inner sampler");
  }
};

struct HybridOptions {
  ALX_ARG(std::string, scorer) = "margin";
  ALX_ARG(double, prefilter_factor) = 10.0;
  ALX_ARG(int64_t, top_m) = 0;
  ALX_ARG(std::string, diversity) = "kcenter";
  ALX_ARG(YAML::Node, params) = YAML::Node(YAML::NodeType::Map);

 public:
  template <class V>
  void visit(V&& v) {
    v("scorer", scorer_, "uncertainty scorer of the pre-filter");
    v("prefilter_factor", prefilter_factor_, "M = prefilter_factor * k most uncertain items",
      Range::at_least(1.0));
    v("top_m", top_m_, "if > 0, M itself (overrides prefilter_factor)", Range::at_least(0));
    v("diversity", diversity_, "sampler that picks k among the M (kcenter, badge, typiclust …)");
    v("params", params_, "parameters of the diversity sampler");
  }
};

// ---- the algorithms, for direct use -------------------------------------------

/// Greedy k-center (farthest-first traversal). embeddings: [N, D] (any float type; computed
/// in float32). `centers` are fixed centers (e.g. labeled items), `candidates` the selectable
/// items. With no centers the first pick is a uniformly random candidate drawn from
/// std::mt19937_64(seed). Memory O(N): never an N×N matrix. The farthest candidate is found
/// lazily (a heap of upper bounds, each caught up only as far as needed), so a pick costs
/// far less than a pass over the pool; the picks are exactly those of the plain greedy.
/// `pick_distances`, if given, receives for each pick its distance to the nearest earlier
/// center (−1 for the random first pick), which is the covering radius before the pick.
std::vector<int64_t> kcenter_greedy(const at::Tensor& embeddings,
                                    const std::vector<int64_t>& centers,
                                    const std::vector<int64_t>& candidates, int64_t k,
                                    uint64_t seed, std::vector<double>* pick_distances = nullptr);

/// BADGE: k-means++ seeding over gradient embeddings g_i = (p_i − onehot(argmax p_i)) ⊗ h_i.
/// Either dense `grad_embeddings` [N, E], or factored from probs [N, C] (or [N, T, C], averaged)
/// and embeddings [N, D] without forming g (distances cost O(C + D), not O(C·D)).
/// The first pick is the candidate with the largest gradient norm (as Ash et al.'s code).
/// D² sampling is exact but lazy: proposals from stale upper bounds, accepted with
/// probability true/bound, so only proposed items are compared with new centers.
std::vector<int64_t> badge_select(const at::Tensor& grad_embeddings, const at::Tensor& probs,
                                  const at::Tensor& embeddings,
                                  const std::vector<int64_t>& candidates, int64_t k,
                                  uint64_t seed);

/// Greedy BatchBALD. probs: [N, T, C]. Returns the picks and, for each prefix of the batch,
/// the estimated joint mutual information I(y_1..y_n; ω). Exact while C^(n−1) ≤ num_samples,
/// then estimated from num_samples configurations sampled from the joint (stratified over
/// the T passes, as batchbald_redux).
struct BatchBaldResult {
  std::vector<int64_t> indices;
  std::vector<double> joint_mi;
};
BatchBaldResult batchbald_greedy(const at::Tensor& probs, const std::vector<int64_t>& candidates,
                                 int64_t k, int64_t num_samples, uint64_t seed);

/// Lloyd's k-means with k-means++ seeding. x: [N, D] → assignment [N] (int64) and
/// centroids [k, D] (float32). Deterministic for a seed.
struct KMeansResult {
  at::Tensor assignment;
  at::Tensor centroids;
};
KMeansResult kmeans(const at::Tensor& x, int64_t k, int64_t iters, uint64_t seed);

/// Average-linkage agglomerative clustering of x: [M, D] (Euclidean), cut into
/// `num_clusters` clusters, or at `distance_threshold` when it is > 0. Returns a cluster id
/// per row, ids 0.. in order of first appearance. O(M²) time and M²/2 floats of memory.
std::vector<int64_t> average_linkage(const at::Tensor& x, int64_t num_clusters,
                                     double distance_threshold);

}  // namespace alx::sampling
