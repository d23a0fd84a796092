// k-means, average-linkage HAC, and the two samplers built on them:
// cluster_margin (Citovsky et al. 2021) and typiclust (Hacohen et al. 2022).
#include "common.h"
#include "impl.h"
#include "nearest.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace alx::sampling {
namespace {

/// Index of the nearest row of `c` for every row of `x` (squared Euclidean), blocked.
at::Tensor nearest_rows(const at::Tensor& x, const at::Tensor& c) {
  const int64_t n = x.size(0);
  const at::Tensor cn = c.pow(2).sum(1).unsqueeze(0);
  at::Tensor out = at::empty({n}, at::kLong);
  constexpr int64_t kRows = 4096;
  for (int64_t r0 = 0; r0 < n; r0 += kRows) {
    const int64_t r1 = std::min(n, r0 + kRows);
    const at::Tensor xr = x.slice(0, r0, r1);
    const at::Tensor d2 = at::addmm(cn, xr, c.t(), 1, -2);  // ||x||² is constant per row
    out.slice(0, r0, r1).copy_(d2.argmin(1));
  }
  return out;
}

size_t condensed(int64_t i, int64_t j, int64_t m) {  // i < j
  return static_cast<size_t>(i * m - i * (i + 1) / 2 + (j - i - 1));
}

}  // namespace

KMeansResult kmeans(const at::Tensor& x_in, int64_t k, int64_t iters, uint64_t seed) {
  ALX_CHECK(x_in.defined() && x_in.dim() == 2, "kmeans: x must be [N, D]");
  const at::Tensor x = detail::cpu_contiguous(x_in, at::kFloat);
  const int64_t N = x.size(0);
  ALX_CHECK(k >= 1 && k <= N, "kmeans: k must be in [1, N = {}], got {}", N, k);
  // k-means++ seeding (D² sampling), O(N) memory.
  std::vector<int64_t> all(static_cast<size_t>(N));
  std::iota(all.begin(), all.end(), 0);
  detail::DenseRows rows;
  rows.x = x.data_ptr<float>();
  rows.d = x.size(1);
  auto rng = detail::make_rng(seed, 0x6b6d6561);
  const auto first = static_cast<int64_t>(rng() % static_cast<uint64_t>(N));
  detail::D2Sampler<detail::DenseRows> d2(rows, all, first);
  std::vector<int64_t> seeds = {first};
  while (static_cast<int64_t>(seeds.size()) < k) {
    int64_t pos = d2.draw(rng);
    if (pos < 0) {  // fewer distinct points than k: take unpicked in order
      pos = 0;
      while (d2.picked(pos)) ++pos;
      d2.take(pos);
    }
    seeds.push_back(pos);
  }
  at::Tensor centroids = x.index_select(0, at::tensor(seeds, at::kLong)).clone();
  at::Tensor assign = nearest_rows(x, centroids);
  for (int64_t it = 0; it < iters; ++it) {
    at::Tensor sums = at::zeros_like(centroids).index_add_(0, assign, x);
    at::Tensor counts = at::zeros({k}, at::kFloat).index_add_(0, assign, at::ones({N}, at::kFloat));
    const at::Tensor nonempty = counts > 0;
    centroids = at::where(nonempty.unsqueeze(1), sums / counts.clamp_min(1).unsqueeze(1), centroids);
    at::Tensor next = nearest_rows(x, centroids);
    const bool same = next.equal(assign);
    assign = next;
    if (same) break;
  }
  return {assign, centroids};
}

std::vector<int64_t> average_linkage(const at::Tensor& x_in, int64_t num_clusters,
                                     double distance_threshold) {
  ALX_CHECK(x_in.defined() && x_in.dim() == 2, "average_linkage: x must be [M, D]");
  const at::Tensor x = detail::cpu_contiguous(x_in, at::kFloat);
  const int64_t M = x.size(0);
  if (M == 0) return {};
  ALX_CHECK(distance_threshold > 0.0 || (num_clusters >= 1),
            "average_linkage: num_clusters must be >= 1, got {}", num_clusters);
  // Condensed Euclidean distance matrix.
  std::vector<float> dist(static_cast<size_t>(M) * static_cast<size_t>(M - 1) / 2);
  detail::DenseRows rows;
  rows.x = x.data_ptr<float>();
  rows.d = x.size(1);
  at::parallel_for(0, M, 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      for (int64_t j = i + 1; j < M; ++j) dist[condensed(i, j, M)] = std::sqrt(rows.dist2(i, j));
  });
  auto d = [&](int64_t i, int64_t j) -> float& {
    return i < j ? dist[condensed(i, j, M)] : dist[condensed(j, i, M)];
  };
  // Nearest-neighbour chain (average linkage is reducible, so the chain finds exact merges).
  struct Merge {
    int64_t a, b;
    float h;
  };
  std::vector<Merge> merges;
  std::vector<int64_t> size(static_cast<size_t>(M), 1);
  std::vector<bool> active(static_cast<size_t>(M), true);
  std::vector<int64_t> chain;
  int64_t next_start = 0;
  while (static_cast<int64_t>(merges.size()) < M - 1) {
    if (chain.empty()) {
      while (!active[next_start]) ++next_start;
      chain.push_back(next_start);
    }
    const int64_t a = chain.back();
    const int64_t prev = chain.size() >= 2 ? chain[chain.size() - 2] : -1;
    int64_t b = prev;
    float best = prev >= 0 ? d(a, prev) : std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < M; ++j) {
      if (!active[j] || j == a) continue;
      const float v = d(a, j);
      if (v < best) {  // strict: keeps `prev` on ties, which guarantees termination
        best = v;
        b = j;
      }
    }
    if (b == prev) {
      chain.pop_back();
      chain.pop_back();
      const int64_t keep = std::min(a, b), gone = std::max(a, b);
      merges.push_back({keep, gone, best});
      const double na = static_cast<double>(size[keep]), nb = static_cast<double>(size[gone]);
      for (int64_t j = 0; j < M; ++j) {
        if (!active[j] || j == keep || j == gone) continue;
        d(keep, j) = static_cast<float>((na * d(keep, j) + nb * d(gone, j)) / (na + nb));
      }
      active[gone] = false;
      size[keep] += size[gone];
    } else {
      chain.push_back(b);
    }
  }
  std::stable_sort(merges.begin(), merges.end(),
                   [](const Merge& l, const Merge& r) { return l.h < r.h; });
  std::vector<int64_t> parent(static_cast<size_t>(M));
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int64_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  int64_t clusters = M;
  for (const Merge& m : merges) {
    if (distance_threshold > 0.0 ? m.h > distance_threshold : clusters <= num_clusters) break;
    parent[find(m.b)] = find(m.a);
    --clusters;
  }
  std::vector<int64_t> id(static_cast<size_t>(M), -1), out(static_cast<size_t>(M));
  int64_t next_id = 0;
  for (int64_t i = 0; i < M; ++i) {
    const int64_t r = find(i);
    if (id[r] < 0) id[r] = next_id++;
    out[i] = id[r];
  }
  return out;
}

namespace detail {

// ---- cluster_margin -------------------------------------------------------------

std::vector<int64_t> ClusterMarginSampler::select(const SamplerInput& in, int64_t k,
                                                  uint64_t seed) const {
  PoolView pool = resolve(in, k, name());
  require(in.embeddings, "embeddings", 2, name(), "[N, D]");
  k = clamp_k(k, static_cast<int64_t>(pool.candidates.size()), name());
  if (k == 0) return {};
  const int64_t km = std::max<int64_t>(
      k, static_cast<int64_t>(std::ceil(opts_.margin_factor() * static_cast<double>(k))));
  // Lowest margins first (the margin scorer is 1 − margin).
  std::vector<int64_t> cand = top_k(item_scores(in, pool.candidates, "margin", name()),
                                    pool.candidates, km);
  if (static_cast<int64_t>(cand.size()) <= k) return cand;
  std::sort(cand.begin(), cand.end());
  const auto m = static_cast<int64_t>(cand.size());
  auto rng = make_rng(seed, 0x636d6172);
  const at::Tensor emb = cpu_contiguous(in.embeddings, at::kFloat);
  // Cluster at most max_cluster_items candidates; the rest join their nearest one's cluster.
  std::vector<int64_t> order(static_cast<size_t>(m));
  std::iota(order.begin(), order.end(), 0);
  const int64_t mc = std::min(m, opts_.max_cluster_items());
  if (mc < m) {
    for (int64_t i = 0; i < mc; ++i) std::swap(order[i], order[i + rng() % (m - i)]);
    std::sort(order.begin(), order.begin() + mc);
  }
  std::vector<int64_t> clustered_rows(static_cast<size_t>(mc));
  for (int64_t i = 0; i < mc; ++i) clustered_rows[i] = cand[order[i]];
  const at::Tensor xc = emb.index_select(0, at::tensor(clustered_rows, at::kLong));
  const int64_t want = std::min(mc, opts_.num_clusters() > 0 ? opts_.num_clusters() : k);
  const std::vector<int64_t> cid = average_linkage(xc, want, opts_.distance_threshold());
  std::vector<int64_t> cluster_of(static_cast<size_t>(m));
  for (int64_t i = 0; i < mc; ++i) cluster_of[order[i]] = cid[i];
  if (mc < m) {
    std::vector<int64_t> rest_pos(order.begin() + mc, order.end()), rest_rows;
    for (int64_t p : rest_pos) rest_rows.push_back(cand[p]);
    const at::Tensor nn =
        nearest_rows(emb.index_select(0, at::tensor(rest_rows, at::kLong)), xc).contiguous();
    for (size_t i = 0; i < rest_pos.size(); ++i) cluster_of[rest_pos[i]] = cid[nn.data_ptr<int64_t>()[i]];
  }
  const int64_t nclusters = *std::max_element(cluster_of.begin(), cluster_of.end()) + 1;
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(nclusters));
  for (int64_t i = 0; i < m; ++i) members[cluster_of[i]].push_back(cand[i]);
  for (auto& mem : members)  // a random order inside each cluster
    for (size_t i = mem.size(); i > 1; --i) std::swap(mem[i - 1], mem[rng() % i]);
  std::vector<int64_t> by_size(static_cast<size_t>(nclusters));
  std::iota(by_size.begin(), by_size.end(), 0);
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&](int64_t a, int64_t b) { return members[a].size() < members[b].size(); });
  // Round robin from the smallest cluster up.
  std::vector<int64_t> out;
  for (size_t round = 0; static_cast<int64_t>(out.size()) < k; ++round)
    for (int64_t c : by_size) {
      if (round < members[c].size()) out.push_back(members[c][round]);
      if (static_cast<int64_t>(out.size()) == k) break;
    }
  return out;
}

// ---- typiclust --------------------------------------------------------------------

std::vector<int64_t> TypiclustSampler::select(const SamplerInput& in, int64_t k,
                                              uint64_t seed) const {
  PoolView pool = resolve(in, k, name());
  require(in.embeddings, "embeddings", 2, name(), "[N, D]");
  k = clamp_k(k, static_cast<int64_t>(pool.candidates.size()), name());
  if (k == 0) return {};
  // Cluster the labeled items and the candidates together.
  std::vector<int64_t> items = pool.labeled;
  items.insert(items.end(), pool.candidates.begin(), pool.candidates.end());
  std::sort(items.begin(), items.end());
  const auto n = static_cast<int64_t>(items.size());
  const at::Tensor emb = cpu_contiguous(in.embeddings, at::kFloat);
  const at::Tensor x = emb.index_select(0, at::tensor(items, at::kLong)).contiguous();
  ALX_CHECK(at::isfinite(x).all().item<bool>(), "typiclust: embeddings contain non-finite values");
  const int64_t K = std::min<int64_t>(
      {static_cast<int64_t>(pool.labeled.size()) + k, opts_.max_clusters(), n});
  const KMeansResult km = kmeans(x, K, opts_.kmeans_iters(), seed);
  const at::Tensor assign_t = km.assignment.contiguous();
  const int64_t* assign = assign_t.data_ptr<int64_t>();
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(K));  // positions in items
  for (int64_t i = 0; i < n; ++i) members[assign[i]].push_back(i);
  std::vector<bool> is_labeled(static_cast<size_t>(n), false), taken(static_cast<size_t>(n), false);
  std::vector<int64_t> existing(static_cast<size_t>(K), 0), open(static_cast<size_t>(K), 0);
  {
    size_t li = 0;
    for (int64_t i = 0; i < n; ++i) {
      while (li < pool.labeled.size() && pool.labeled[li] < items[i]) ++li;
      is_labeled[i] = li < pool.labeled.size() && pool.labeled[li] == items[i];
      if (is_labeled[i]) ++existing[assign[i]];
      else ++open[assign[i]];
    }
  }
  std::vector<std::vector<double>> typicality(static_cast<size_t>(K));
  auto typicality_of = [&](int64_t c) -> const std::vector<double>& {
    auto& t = typicality[c];
    if (!t.empty() || members[c].empty()) return t;
    const auto s = static_cast<int64_t>(members[c].size());
    const int64_t knn = std::max<int64_t>(1, std::min(opts_.knn(), s / 2));
    const at::Tensor xc = x.index_select(0, at::tensor(members[c], at::kLong));
    const at::Tensor sq = xc.pow(2).sum(1);
    t.resize(static_cast<size_t>(s));
    constexpr int64_t kRows = 1024;
    for (int64_t r0 = 0; r0 < s; r0 += kRows) {
      const int64_t r1 = std::min(s, r0 + kRows);
      at::Tensor d2 = at::addmm(sq.slice(0, r0, r1).unsqueeze(1) + sq.unsqueeze(0),
                                xc.slice(0, r0, r1), xc.t(), 1, -2)
                          .clamp_min(0);
      // Nearest knn others: the knn+1 smallest include the point itself (distance 0).
      const int64_t kk = std::min(s, knn + 1);
      const at::Tensor nearest = std::get<0>(d2.topk(kk, 1, /*largest=*/false)).sqrt();
      const at::Tensor mean = ((nearest.sum(1) - nearest.select(1, 0)) /
                               static_cast<double>(std::max<int64_t>(1, kk - 1)))
                                  .contiguous();
      for (int64_t r = r0; r < r1; ++r)
        t[r] = 1.0 / (static_cast<double>(mean.data_ptr<float>()[r - r0]) + 1e-5);
    }
    return t;
  };
  std::vector<int64_t> out;
  while (static_cast<int64_t>(out.size()) < k) {
    // The cluster with the fewest labels, then the largest; small clusters only as a last resort.
    int64_t best = -1;
    for (int pass = 0; pass < 2 && best < 0; ++pass)
      for (int64_t c = 0; c < K; ++c) {
        if (open[c] == 0) continue;
        if (pass == 0 && static_cast<int64_t>(members[c].size()) <= opts_.min_cluster_size()) continue;
        if (best < 0 || existing[c] < existing[best] ||
            (existing[c] == existing[best] && members[c].size() > members[best].size()))
          best = c;
      }
    ALX_DCHECK(best >= 0);
    const auto& t = typicality_of(best);
    int64_t pick = -1;
    for (size_t j = 0; j < members[best].size(); ++j) {
      const int64_t i = members[best][j];
      if (is_labeled[i] || taken[i]) continue;
      if (pick < 0 || t[j] > t[pick]) pick = static_cast<int64_t>(j);
    }
    const int64_t i = members[best][pick];
    taken[i] = true;
    --open[best];
    ++existing[best];
    out.push_back(items[i]);
  }
  return out;
}

}  // namespace detail
}  // namespace alx::sampling
