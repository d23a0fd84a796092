// Label review on tensors: confident learning, blocked near-duplicate search, the skip
// mask, PCA and Barnes-Hut t-SNE. See alx/sampling/review_tools.h.
#include <alx/core/error.h>
#include <alx/sampling/review_tools.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <queue>
#include <random>
#include <tuple>

namespace alx::sampling {
namespace {

at::Tensor float_matrix(const at::Tensor& t, const char* what) {
  ALX_CHECK(t.defined() && t.dim() == 2, "{} must be a [N, D] matrix, got {}", what,
            t.defined() ? std::to_string(t.dim()) + " dimensions" : std::string("an undefined tensor"));
  return t.to(at::kCPU, at::kFloat).contiguous();
}

/// Rows scaled to unit length (zero rows stay zero: similarity 0 with everything).
at::Tensor unit_rows(const at::Tensor& x) { return x / x.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12); }

/// Keeps the `cap` most similar pairs seen so far; ties broken by (a, b) so the result
/// does not depend on the block order.
class TopPairs {
 public:
  explicit TopPairs(int64_t cap) : cap_(static_cast<std::size_t>(cap)) {}
  void push(const DuplicatePair& p) {
    if (heap_.size() < cap_) {
      heap_.push_back(p);
      std::push_heap(heap_.begin(), heap_.end(), worse_first);
    } else if (better(p, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), worse_first);
      heap_.back() = p;
      std::push_heap(heap_.begin(), heap_.end(), worse_first);
    }
  }
  std::vector<DuplicatePair> sorted() && {
    std::sort(heap_.begin(), heap_.end(), better);
    return std::move(heap_);
  }

 private:
  static bool better(const DuplicatePair& x, const DuplicatePair& y) {
    if (x.cosine != y.cosine) return x.cosine > y.cosine;
    if (x.a != y.a) return x.a < y.a;
    return x.b < y.b;
  }
  // A max-heap on "worse": the front is the worst pair kept.
  static bool worse_first(const DuplicatePair& x, const DuplicatePair& y) { return better(x, y); }
  std::size_t cap_;
  std::vector<DuplicatePair> heap_;
};

/// Similarities of blocks of `a` against blocks of `b`; `same` = a and b are one set
/// (only pairs a < b).
std::vector<DuplicatePair> blocked_pairs(const at::Tensor& a, const at::Tensor& b, bool same,
                                         const DuplicateOptions& o) {
  const int64_t na = a.size(0), nb = b.size(0), B = o.block();
  // Float rounding puts an exact copy at 1 − 1e-7; a threshold of 1 still means "identical".
  const float thr = static_cast<float>(o.threshold()) - 1e-5f;
  TopPairs top(o.max_pairs());
  for (int64_t i0 = 0; i0 < na; i0 += B) {
    const int64_t i1 = std::min(na, i0 + B);
    const at::Tensor ai = a.slice(0, i0, i1);
    for (int64_t j0 = same ? i0 : 0; j0 < nb; j0 += B) {
      const int64_t j1 = std::min(nb, j0 + B);
      at::Tensor s = at::mm(ai, b.slice(0, j0, j1).t());
      at::Tensor hit = s.ge(thr);
      if (same && i0 == j0) hit = hit.triu(1);
      const at::Tensor where = hit.nonzero().contiguous();  // [M, 2]
      if (where.size(0) == 0) continue;
      const auto w = where.accessor<int64_t, 2>();
      const auto sv = s.accessor<float, 2>();
      for (int64_t m = 0; m < where.size(0); ++m)
        top.push({i0 + w[m][0], j0 + w[m][1], std::min(1.0f, sv[w[m][0]][w[m][1]])});
    }
  }
  return std::move(top).sorted();
}

struct UnionFind {
  std::vector<int64_t> parent;
  explicit UnionFind(int64_t n) : parent(static_cast<std::size_t>(n)) { std::iota(parent.begin(), parent.end(), 0); }
  int64_t find(int64_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void join(int64_t x, int64_t y) {
    x = find(x), y = find(y);
    if (x != y) parent[std::max(x, y)] = std::min(x, y);
  }
};

/// [N, D] → [N, k] projection on the k leading principal components, signs fixed.
at::Tensor pca_project(const at::Tensor& x, int64_t k) {
  const int64_t n = x.size(0), d = x.size(1);
  at::Tensor xc = x.to(at::kDouble);
  xc = xc - xc.mean(0, /*keepdim=*/true);
  const at::Tensor cov = at::mm(xc.t(), xc) / static_cast<double>(std::max<int64_t>(n - 1, 1));
  at::Tensor evals, evecs;
  std::tie(evals, evecs) = at::linalg_eigh(cov);          // ascending
  const int64_t kk = std::min(k, d);
  at::Tensor v = evecs.slice(1, d - kk, d).flip({1});  // [D, kk], leading first
  // Deterministic signs: the largest loading of each component is positive.
  const at::Tensor arg = v.abs().argmax(0);
  const at::Tensor sign = v.gather(0, arg.unsqueeze(0)).sign();
  v = v * at::where(sign.eq(0), at::ones_like(sign), sign);
  at::Tensor y = at::mm(xc, v);
  if (kk < k) y = at::cat({y, at::zeros({n, k - kk}, y.options())}, 1);
  return y.to(at::kFloat).contiguous();
}

// ------------------------------------------------------------------ t-SNE internals

/// Quadtree over 2-D points for the Barnes-Hut repulsion.
class QuadTree {
 public:
  struct Node {
    double cx = 0, cy = 0, hw = 0;  // cell center and half width
    double mx = 0, my = 0;          // center of mass
    int64_t count = 0;
    int64_t first_child = -1;  // four children from here; -1 = leaf
  };

  QuadTree(const double* y, int64_t n) {
    double lo_x = std::numeric_limits<double>::infinity(), lo_y = lo_x, hi_x = -lo_x, hi_y = -lo_x;
    for (int64_t i = 0; i < n; ++i) {
      lo_x = std::min(lo_x, y[2 * i]), hi_x = std::max(hi_x, y[2 * i]);
      lo_y = std::min(lo_y, y[2 * i + 1]), hi_y = std::max(hi_y, y[2 * i + 1]);
    }
    nodes_.reserve(static_cast<std::size_t>(4 * n + 8));
    Node root;
    root.cx = 0.5 * (lo_x + hi_x), root.cy = 0.5 * (lo_y + hi_y);
    root.hw = 0.5 * std::max(hi_x - lo_x, hi_y - lo_y) * (1 + 1e-9) + 1e-12;
    nodes_.push_back(root);
    for (int64_t i = 0; i < n; ++i) insert(y[2 * i], y[2 * i + 1]);
  }

  /// Adds the repulsion on point (x, y): rep += Σ q² (p − com) and z += Σ q over cells,
  /// excluding the point itself.
  void repulsion(double x, double y, double theta2, double& rx, double& ry, double& z) const {
    int64_t stack[256];
    int top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const Node& nd = nodes_[static_cast<std::size_t>(stack[--top])];
      if (nd.count == 0) continue;
      const double dx = x - nd.mx, dy = y - nd.my, d2 = dx * dx + dy * dy;
      const double width = 2 * nd.hw;
      if (nd.first_child < 0 || width * width < theta2 * d2) {
        // A leaf (all its points coincide; the point itself is among them when d2 == 0),
        // or a cell far enough away to count as its center of mass.
        const double cnt = static_cast<double>(nd.count) - (nd.first_child < 0 && d2 == 0.0 ? 1.0 : 0.0);
        if (cnt <= 0) continue;
        const double q = 1.0 / (1.0 + d2);
        z += cnt * q;
        rx += cnt * q * q * dx;
        ry += cnt * q * q * dy;
      } else {
        for (int c = 0; c < 4; ++c) stack[top++] = nd.first_child + c;
      }
    }
  }

 private:
  static constexpr int kMaxDepth = 50;  // deeper points coincide: they share a leaf

  int quadrant(const Node& nd, double x, double y) const { return (x > nd.cx ? 1 : 0) + (y > nd.cy ? 2 : 0); }

  void split(int64_t at) {
    const int64_t first = static_cast<int64_t>(nodes_.size());
    const Node parent = nodes_[static_cast<std::size_t>(at)];
    for (int c = 0; c < 4; ++c) {
      Node ch;
      ch.hw = parent.hw / 2;
      ch.cx = parent.cx + ((c & 1) ? ch.hw : -ch.hw);
      ch.cy = parent.cy + ((c & 2) ? ch.hw : -ch.hw);
      nodes_.push_back(ch);
    }
    nodes_[static_cast<std::size_t>(at)].first_child = first;
    // The single point the leaf held moves down (its center of mass is its position).
    Node& p = nodes_[static_cast<std::size_t>(at)];
    Node& ch = nodes_[static_cast<std::size_t>(first + quadrant(p, p.mx, p.my))];
    ch.mx = p.mx, ch.my = p.my, ch.count = p.count;
  }

  void insert(double x, double y) {
    int64_t at = 0;
    for (int depth = 0;; ++depth) {
      Node& nd = nodes_[static_cast<std::size_t>(at)];
      const double c = static_cast<double>(nd.count);
      if (nd.first_child < 0) {
        if (nd.count == 0 || depth >= kMaxDepth || (nd.mx == x && nd.my == y)) {
          nd.mx = (nd.mx * c + x) / (c + 1), nd.my = (nd.my * c + y) / (c + 1);
          ++nd.count;
          return;
        }
        split(at);  // invalidates nd
        continue;   // same node, now internal
      }
      nd.mx = (nd.mx * c + x) / (c + 1), nd.my = (nd.my * c + y) / (c + 1);
      ++nd.count;
      at = nd.first_child + quadrant(nd, x, y);
    }
  }

  std::vector<Node> nodes_;
};

/// Sparse symmetric input affinities P (CSR), summing to 1.
struct SparseP {
  std::vector<int64_t> row_ptr, col;
  std::vector<double> val;
};

SparseP input_affinities(const at::Tensor& x, double perplexity) {
  const int64_t n = x.size(0);
  const int64_t k = std::min<int64_t>(n - 1, static_cast<int64_t>(std::floor(3 * perplexity)));
  // Exact k nearest neighbours, block by block: never an N×N matrix.
  std::vector<int64_t> nn(static_cast<std::size_t>(n * k));
  std::vector<double> nd2(static_cast<std::size_t>(n * k));
  const at::Tensor sq = (x * x).sum(1);
  const int64_t block = std::max<int64_t>(1, std::min<int64_t>(n, (int64_t{1} << 24) / n));
  for (int64_t i0 = 0; i0 < n; i0 += block) {
    const int64_t i1 = std::min(n, i0 + block);
    at::Tensor d2 = sq.slice(0, i0, i1).unsqueeze(1) + sq.unsqueeze(0) - 2 * at::mm(x.slice(0, i0, i1), x.t());
    for (int64_t r = 0; r < i1 - i0; ++r) d2[r][i0 + r] = std::numeric_limits<float>::infinity();
    at::Tensor vals, idx;
    std::tie(vals, idx) = d2.topk(k, 1, /*largest=*/false, /*sorted=*/true);
    vals = vals.clamp_min(0).to(at::kDouble).contiguous();
    idx = idx.contiguous();
    std::copy(idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + idx.numel(), nn.begin() + i0 * k);
    std::copy(vals.data_ptr<double>(), vals.data_ptr<double>() + vals.numel(), nd2.begin() + i0 * k);
  }
  // Conditional P_{j|i} with the bandwidth that gives the perplexity (binary search on β).
  std::vector<double> cond(static_cast<std::size_t>(n * k));
  const double target = std::log(perplexity);
  at::parallel_for(0, n, 64, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const double* d = &nd2[static_cast<std::size_t>(i * k)];
      double* p = &cond[static_cast<std::size_t>(i * k)];
      double beta = 1.0, lo = 0.0, hi = std::numeric_limits<double>::infinity();
      const double dmin = d[0];
      for (int it = 0; it < 200; ++it) {
        double sum = 0, dsum = 0;
        for (int64_t j = 0; j < k; ++j) {
          p[j] = std::exp(-beta * (d[j] - dmin));
          sum += p[j];
          dsum += (d[j] - dmin) * p[j];
        }
        const double h = std::log(sum) + beta * dsum / sum;
        for (int64_t j = 0; j < k; ++j) p[j] /= sum;
        if (std::abs(h - target) < 1e-5) break;
        if (h > target) {
          lo = beta;
          beta = std::isinf(hi) ? beta * 2 : 0.5 * (beta + hi);
        } else {
          hi = beta;
          beta = 0.5 * (beta + lo);
        }
      }
    }
  });
  // Symmetrise: P_ij = (P_{j|i} + P_{i|j}) / 2N.
  std::vector<std::tuple<int64_t, int64_t, double>> e;
  e.reserve(static_cast<std::size_t>(2 * n * k));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) {
      const auto at = static_cast<std::size_t>(i * k + j);
      e.emplace_back(i, nn[at], cond[at]);
      e.emplace_back(nn[at], i, cond[at]);
    }
  std::sort(e.begin(), e.end(), [](const auto& a, const auto& b) {
    return std::get<0>(a) != std::get<0>(b) ? std::get<0>(a) < std::get<0>(b) : std::get<1>(a) < std::get<1>(b);
  });
  SparseP P;
  P.row_ptr.assign(static_cast<std::size_t>(n + 1), 0);
  for (std::size_t a = 0; a < e.size();) {
    std::size_t b = a;
    double v = 0;
    while (b < e.size() && std::get<0>(e[b]) == std::get<0>(e[a]) && std::get<1>(e[b]) == std::get<1>(e[a]))
      v += std::get<2>(e[b++]);
    P.col.push_back(std::get<1>(e[a]));
    P.val.push_back(v / (2.0 * static_cast<double>(n)));
    ++P.row_ptr[static_cast<std::size_t>(std::get<0>(e[a]) + 1)];
    a = b;
  }
  for (int64_t i = 0; i < n; ++i) P.row_ptr[static_cast<std::size_t>(i + 1)] += P.row_ptr[static_cast<std::size_t>(i)];
  return P;
}

}  // namespace

// ------------------------------------------------------------------ confident learning

ConfidentLearning confident_learning(const at::Tensor& probs, const std::vector<int>& labels) {
  const at::Tensor p = float_matrix(probs, "probs");
  const int64_t n = p.size(0), c = p.size(1);
  ALX_CHECK(static_cast<int64_t>(labels.size()) == n, "confident_learning: {} labels for {} rows of probs",
            labels.size(), n);
  ALX_CHECK(c >= 2, "confident_learning needs at least 2 classes, got {}", c);
  const auto pa = p.accessor<float, 2>();
  ConfidentLearning r;
  r.thresholds.assign(static_cast<std::size_t>(c), 0.0);
  std::vector<int64_t> count(static_cast<std::size_t>(c), 0);
  for (int64_t i = 0; i < n; ++i) {
    const int y = labels[static_cast<std::size_t>(i)];
    ALX_CHECK(y >= 0 && y < c, "confident_learning: label {} of row {} is outside [0, {})", y, i, c);
    r.thresholds[static_cast<std::size_t>(y)] += pa[i][y];
    ++count[static_cast<std::size_t>(y)];
  }
  for (int64_t j = 0; j < c; ++j)
    r.thresholds[static_cast<std::size_t>(j)] = count[static_cast<std::size_t>(j)]
                                                    ? r.thresholds[static_cast<std::size_t>(j)] / count[static_cast<std::size_t>(j)]
                                                    : std::numeric_limits<double>::quiet_NaN();
  r.joint.assign(static_cast<std::size_t>(c), std::vector<int64_t>(static_cast<std::size_t>(c), 0));
  r.flagged.assign(static_cast<std::size_t>(n), false);
  r.margin.resize(static_cast<std::size_t>(n));
  r.suggested.resize(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int y = labels[static_cast<std::size_t>(i)];
    int confident = -1, other = -1;
    for (int j = 0; j < c; ++j) {
      const double t = r.thresholds[static_cast<std::size_t>(j)];
      if (!std::isnan(t) && pa[i][j] >= t && (confident < 0 || pa[i][j] > pa[i][confident])) confident = j;
      if (j != y && (other < 0 || pa[i][j] > pa[i][other])) other = j;
    }
    r.margin[static_cast<std::size_t>(i)] = static_cast<double>(pa[i][y]) - pa[i][other];
    r.suggested[static_cast<std::size_t>(i)] = other;
    if (confident >= 0) {
      ++r.joint[static_cast<std::size_t>(y)][static_cast<std::size_t>(confident)];
      if (confident != y) r.flagged[static_cast<std::size_t>(i)] = true, ++r.num_flagged;
    }
  }
  r.ranking.resize(static_cast<std::size_t>(n));
  std::iota(r.ranking.begin(), r.ranking.end(), 0);
  std::stable_sort(r.ranking.begin(), r.ranking.end(), [&](int64_t a, int64_t b) {
    const bool fa = r.flagged[static_cast<std::size_t>(a)], fb = r.flagged[static_cast<std::size_t>(b)];
    if (fa != fb) return fa;
    return r.margin[static_cast<std::size_t>(a)] < r.margin[static_cast<std::size_t>(b)];
  });
  return r;
}

// ------------------------------------------------------------------ duplicates

std::vector<DuplicatePair> near_duplicates(const at::Tensor& embeddings, const DuplicateOptions& options) {
  at::Tensor x = float_matrix(embeddings, "embeddings");
  if (x.size(0) < 2) return {};
  if (options.center()) x = x - x.mean(0, /*keepdim=*/true);
  x = unit_rows(x).contiguous();
  return blocked_pairs(x, x, /*same=*/true, options);
}

std::vector<DuplicatePair> cross_duplicates(const at::Tensor& a, const at::Tensor& b, const DuplicateOptions& options) {
  at::Tensor xa = float_matrix(a, "a"), xb = float_matrix(b, "b");
  ALX_CHECK(xa.size(1) == xb.size(1), "cross_duplicates: a has {} dimensions, b has {}", xa.size(1), xb.size(1));
  if (xa.size(0) == 0 || xb.size(0) == 0) return {};
  if (options.center()) {
    const at::Tensor mean = at::cat({xa, xb}, 0).mean(0, /*keepdim=*/true);
    xa = xa - mean, xb = xb - mean;
  }
  return blocked_pairs(unit_rows(xa).contiguous(), unit_rows(xb).contiguous(), /*same=*/false, options);
}

std::vector<std::vector<int64_t>> duplicate_groups(int64_t n, const std::vector<DuplicatePair>& pairs) {
  UnionFind uf(n);
  std::vector<bool> seen(static_cast<std::size_t>(n), false);
  for (const auto& p : pairs) {
    ALX_CHECK(p.a >= 0 && p.a < n && p.b >= 0 && p.b < n, "duplicate pair ({}, {}) outside [0, {})", p.a, p.b, n);
    uf.join(p.a, p.b);
    seen[static_cast<std::size_t>(p.a)] = seen[static_cast<std::size_t>(p.b)] = true;
  }
  std::vector<std::vector<int64_t>> groups;
  std::vector<int64_t> slot(static_cast<std::size_t>(n), -1);
  for (int64_t i = 0; i < n; ++i) {
    if (!seen[static_cast<std::size_t>(i)]) continue;
    const int64_t root = uf.find(i);  // the smallest member, seen first
    if (slot[static_cast<std::size_t>(root)] < 0) {
      slot[static_cast<std::size_t>(root)] = static_cast<int64_t>(groups.size());
      groups.emplace_back();
    }
    groups[static_cast<std::size_t>(slot[static_cast<std::size_t>(root)])].push_back(i);
  }
  return groups;
}

at::Tensor duplicate_skip_mask(int64_t n, const std::vector<DuplicatePair>& pairs, const std::vector<bool>& labeled) {
  ALX_CHECK(labeled.empty() || static_cast<int64_t>(labeled.size()) == n,
            "duplicate_skip_mask: labeled has {} entries for {} items", labeled.size(), n);
  at::Tensor mask = at::ones({n}, at::kBool);
  auto m = mask.accessor<bool, 1>();
  for (const auto& g : duplicate_groups(n, pairs)) {
    const bool covered = !labeled.empty() && std::any_of(g.begin(), g.end(), [&](int64_t i) {
      return labeled[static_cast<std::size_t>(i)];
    });
    for (std::size_t j = covered ? 0 : 1; j < g.size(); ++j) m[g[j]] = false;
  }
  return mask;
}

// ------------------------------------------------------------------ maps

at::Tensor pca_2d(const at::Tensor& embeddings) {
  const at::Tensor x = float_matrix(embeddings, "embeddings");
  ALX_CHECK(x.size(0) >= 2, "pca_2d needs at least 2 rows, got {}", x.size(0));
  return pca_project(x, 2);
}

at::Tensor tsne_2d(const at::Tensor& embeddings, const TsneOptions& o) {
  at::Tensor x = float_matrix(embeddings, "embeddings");
  const int64_t n = x.size(0);
  ALX_CHECK(n >= 4, "tsne_2d needs at least 4 rows, got {}", n);
  ALX_CHECK(o.init() == "pca" || o.init() == "random", "tsne_2d: init must be pca or random, got '{}'", o.init());
  ALX_CHECK(bool(at::isfinite(x).all().item<bool>()), "tsne_2d: embeddings hold NaN or infinite values");
  if (o.pca_dims() > 0 && x.size(1) > o.pca_dims()) x = pca_project(x, o.pca_dims());
  const double perplexity = std::min(o.perplexity(), (static_cast<double>(n) - 1) / 3.0);
  const SparseP P = input_affinities(x, perplexity);

  // Initial layout.
  std::vector<double> y(static_cast<std::size_t>(2 * n));
  if (o.init() == "pca") {
    at::Tensor init = pca_project(x, 2).to(at::kDouble);
    const double sd = init.select(1, 0).std().item<double>();
    init = (init * (1e-4 / (sd > 0 ? sd : 1.0))).contiguous();
    std::copy(init.data_ptr<double>(), init.data_ptr<double>() + 2 * n, y.begin());
  } else {
    std::mt19937_64 rng(o.seed());
    std::normal_distribution<double> g(0.0, 1e-4);
    for (auto& v : y) v = g(rng);
  }

  const double lr = o.learning_rate() > 0 ? o.learning_rate()
                                          : std::max(static_cast<double>(n) / o.exaggeration() / 4.0, 50.0);
  const double theta2 = o.theta() * o.theta();
  const auto m = static_cast<std::size_t>(2 * n);
  std::vector<double> attr(m), rep(m), update(m, 0.0), gains(m, 1.0), z(static_cast<std::size_t>(n));
  for (int it = 0; it < o.iterations(); ++it) {
    const bool early = it < o.exaggeration_iterations();
    const double exag = early ? o.exaggeration() : 1.0, momentum = early ? 0.5 : 0.8;
    const QuadTree tree(y.data(), n);
    at::parallel_for(0, n, 128, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const double yx = y[2 * i], yy = y[2 * i + 1];
        double ax = 0, ay = 0;  // Σ_j p_ij q_ij (y_i − y_j)
        for (int64_t a = P.row_ptr[i]; a < P.row_ptr[i + 1]; ++a) {
          const int64_t j = P.col[static_cast<std::size_t>(a)];
          const double dx = yx - y[2 * j], dy = yy - y[2 * j + 1];
          const double pq = P.val[static_cast<std::size_t>(a)] / (1.0 + dx * dx + dy * dy);
          ax += pq * dx, ay += pq * dy;
        }
        double rx = 0, ry = 0, zi = 0;  // Σ_j q_ij² (y_i − y_j), Σ_j q_ij (unnormalised)
        tree.repulsion(yx, yy, theta2, rx, ry, zi);
        attr[2 * i] = ax, attr[2 * i + 1] = ay;
        rep[2 * i] = rx, rep[2 * i + 1] = ry;
        z[static_cast<std::size_t>(i)] = zi;
      }
    });
    const double Z = std::max(std::accumulate(z.begin(), z.end(), 0.0), 1e-300);
    // Gradient 4 (exag · attraction − repulsion / Z); gains and momentum as in the paper.
    for (std::size_t a = 0; a < m; ++a) {
      const double g = 4.0 * (exag * attr[a] - rep[a] / Z);
      gains[a] = (g > 0) != (update[a] > 0) ? gains[a] + 0.2 : std::max(gains[a] * 0.8, 0.01);
      update[a] = momentum * update[a] - lr * gains[a] * g;
      y[a] += update[a];
    }
    double mx = 0, my = 0;
    for (int64_t i = 0; i < n; ++i) mx += y[2 * i], my += y[2 * i + 1];
    mx /= static_cast<double>(n), my /= static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i) y[2 * i] -= mx, y[2 * i + 1] -= my;
  }
  return at::from_blob(y.data(), {n, 2}, at::kDouble).to(at::kFloat).clone();
}

}  // namespace alx::sampling
