// The algorithms behind the samplers, checked against brute force and known answers.
#include <alx/core/error.h>
#include <alx/sampling/samplers.h>
#include <alx/sampling/scorers.h>

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <numeric>
#include <set>

using namespace alx::sampling;

namespace {

std::vector<int64_t> range(int64_t a, int64_t b) {
  std::vector<int64_t> v(static_cast<size_t>(b - a));
  std::iota(v.begin(), v.end(), a);
  return v;
}

double dist(const at::Tensor& x, int64_t i, int64_t j) {
  const at::Tensor xd = x.scalar_type() == at::kDouble && x.is_contiguous() ? x : x.to(at::kDouble).contiguous();
  const double* a = xd.data_ptr<double>() + i * xd.size(1);
  const double* b = xd.data_ptr<double>() + j * xd.size(1);
  double s = 0;
  for (int64_t d = 0; d < xd.size(1); ++d) s += (a[d] - b[d]) * (a[d] - b[d]);
  return std::sqrt(s);
}

/// Brute-force greedy k-center in double precision, starting from `first` (or from the
/// farthest point when there are fixed centers).
std::vector<int64_t> brute_kcenter(const at::Tensor& xf, const std::vector<int64_t>& centers,
                                   const std::vector<int64_t>& cand, int64_t k, int64_t first) {
  const at::Tensor x = xf.to(at::kDouble).contiguous();
  std::vector<int64_t> chosen = centers, out;
  std::set<int64_t> picked;
  while (static_cast<int64_t>(out.size()) < k) {
    int64_t best = -1;
    double bv = -1;
    if (chosen.empty()) {
      best = first;
    } else {
      for (int64_t i : cand) {
        if (picked.count(i)) continue;
        double m = 1e300;
        for (int64_t c : chosen) m = std::min(m, dist(x, i, c));
        if (m > bv) {
          bv = m;
          best = i;
        }
      }
    }
    out.push_back(best);
    picked.insert(best);
    chosen.push_back(best);
  }
  return out;
}

double covering_radius(const at::Tensor& xf, const std::vector<int64_t>& centers) {
  const at::Tensor x = xf.to(at::kDouble).contiguous();
  double r = 0;
  for (int64_t i = 0; i < x.size(0); ++i) {
    double m = 1e300;
    for (int64_t c : centers) m = std::min(m, dist(x, i, c));
    r = std::max(r, m);
  }
  return r;
}

/// Exact joint mutual information I(y_batch; ω) by enumerating all C^n label configurations.
double brute_joint_mi(const at::Tensor& probs, const std::vector<int64_t>& batch) {
  const at::Tensor pt = probs.to(at::kDouble).contiguous();
  const int64_t T = pt.size(1), C = pt.size(2), n = batch.size();
  auto p = pt.accessor<double, 3>();
  int64_t configs = 1;
  for (int64_t j = 0; j < n; ++j) configs *= C;
  double h = 0;
  std::vector<int64_t> y(n);
  for (int64_t m = 0; m < configs; ++m) {
    int64_t r = m;
    for (int64_t j = 0; j < n; ++j) {
      y[j] = r % C;
      r /= C;
    }
    double pm = 0;
    for (int64_t t = 0; t < T; ++t) {
      double prod = 1;
      for (int64_t j = 0; j < n; ++j) prod *= p[batch[j]][t][y[j]];
      pm += prod / T;
    }
    if (pm > 0) h -= pm * std::log(pm);
  }
  double cond = 0;
  for (int64_t i : batch)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < C; ++c) {
        const double v = p[i][t][c];
        if (v > 0) cond -= v * std::log(v) / T;
      }
  return h - cond;
}

at::Tensor blobs(int64_t per, int64_t D, const std::vector<double>& offsets, double spread,
                 uint64_t seed) {
  at::manual_seed(static_cast<int64_t>(seed));
  std::vector<at::Tensor> parts;
  for (double o : offsets) parts.push_back(at::randn({per, D}) * spread + o);
  return at::cat(parts);
}

}  // namespace

TEST(KCenter, MatchesBruteForceGreedy) {
  at::manual_seed(0);
  const at::Tensor x = at::randn({60, 5});
  const std::vector<int64_t> labeled = {3, 17, 40, 41, 59};
  std::vector<int64_t> cand;
  for (int64_t i = 0; i < 60; ++i)
    if (std::find(labeled.begin(), labeled.end(), i) == labeled.end()) cand.push_back(i);
  std::vector<double> d;
  const auto got = kcenter_greedy(x, labeled, cand, 12, 1, &d);
  EXPECT_EQ(got, brute_kcenter(x, labeled, cand, 12, -1));
  // Reported distances are the (non-increasing) covering radii before each pick.
  for (size_t i = 1; i < d.size(); ++i) EXPECT_LE(d[i], d[i - 1] + 1e-6);
  std::vector<int64_t> before = labeled;
  before.insert(before.end(), got.begin(), got.begin() + 3);
  EXPECT_NEAR(d[3], covering_radius(x, before), 1e-5);
  // Without fixed centers the first pick is seeded; the rest follow the greedy rule.
  const auto free = kcenter_greedy(x, {}, range(0, 60), 10, 77);
  EXPECT_EQ(free, brute_kcenter(x, {}, range(0, 60), 10, free[0]));
  EXPECT_EQ(free, kcenter_greedy(x, {}, range(0, 60), 10, 77));
}

TEST(KCenter, MatchesBruteForceOnClusters) {
  // Clustered data, many steps: a new center in a blob lowers the stale distances of many
  // candidates at once, so the lazy search pushes many back before it finds the pick.
  at::set_num_threads(2);
  const at::Tensor x = blobs(300, 8, {-20, -5, 0, 7, 30}, 1.0, 4);
  const auto got = kcenter_greedy(x, {0, 400}, range(1, 1500), 40, 0);
  std::vector<int64_t> cand = range(1, 1500);
  cand.erase(std::find(cand.begin(), cand.end(), 400));
  EXPECT_EQ(got, brute_kcenter(x, {0, 400}, cand, 40, -1));
}

TEST(KCenter, MatchesBruteForceOnNoise) {
  // Gaussian noise with rows of very different scales: distances concentrate, so nearly
  // every candidate is popped and caught up part-way at some pick. D = 40 and 13 leave
  // tails past the 16-wide steps of the distance loop.
  for (const int64_t D : {96, 40, 13}) {
    SCOPED_TRACE("D = " + std::to_string(D));
    at::manual_seed(11);
    const at::Tensor x = at::randn({2500, D}) * at::exp(at::randn({2500, 1}));
    const std::vector<int64_t> cand = range(0, 2500);
    const auto got = kcenter_greedy(x, {3}, cand, 30, 0);
    std::vector<int64_t> rest = cand;
    rest.erase(rest.begin() + 3);
    EXPECT_EQ(got, brute_kcenter(x, {3}, rest, 30, -1));
    const auto free = kcenter_greedy(x, {}, cand, 30, 2);
    EXPECT_EQ(free, brute_kcenter(x, {}, cand, 30, free[0]));
  }
}

TEST(KCenter, SameResultOnAnyThreadCount) {
  // Pool sizes around the parallel grain of the first pass (distances to the first center).
  for (int64_t n : {1500, 2100, 4097, 9000}) {
    const at::Tensor x = blobs(n / 3, 12, {-4, 0, 4}, 1.0, static_cast<uint64_t>(n));
    const std::vector<int64_t> cand = range(0, x.size(0));
    at::set_num_threads(1);
    const auto one = kcenter_greedy(x, {}, cand, 30, 5);
    const auto bd1 = badge_select(x, {}, {}, cand, 30, 5);
    at::set_num_threads(2);
    EXPECT_EQ(one, kcenter_greedy(x, {}, cand, 30, 5)) << "n = " << n;
    EXPECT_EQ(bd1, badge_select(x, {}, {}, cand, 30, 5)) << "n = " << n;
    if (n == 1500) {
      EXPECT_EQ(one, brute_kcenter(x, {}, cand, 30, one[0]));
    }
  }
}

TEST(KCenter, TwoApproximation) {
  // Greedy k-center is a 2-approximation of the optimal covering radius (Gonzalez 1985).
  for (uint64_t seed = 0; seed < 8; ++seed) {
    at::manual_seed(static_cast<int64_t>(seed));
    const at::Tensor x = at::randn({12, 2});
    const int64_t k = 3;
    double opt = 1e300;
    for (int a = 0; a < 12; ++a)
      for (int b = a + 1; b < 12; ++b)
        for (int c = b + 1; c < 12; ++c) opt = std::min(opt, covering_radius(x, {a, b, c}));
    const auto got = kcenter_greedy(x, {}, range(0, 12), k, seed);
    EXPECT_LE(covering_radius(x, got), 2 * opt + 1e-9) << "seed " << seed;
  }
}

TEST(KCenter, DuplicatesAndErrors) {
  // All points identical: still k unique picks.
  const at::Tensor x = at::ones({10, 3});
  const auto got = kcenter_greedy(x, {}, range(0, 10), 10, 3);
  EXPECT_EQ(std::set<int64_t>(got.begin(), got.end()).size(), 10u);
  // Ties go to the lower index, as in the brute-force rule (strict >, ascending scan).
  EXPECT_EQ(got, brute_kcenter(x, {}, range(0, 10), 10, got[0]));
  // A 5 x 5 integer grid around a fixed center at its middle: many exactly equal distances.
  std::vector<float> grid;
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j) grid.insert(grid.end(), {float(i), float(j)});
  const at::Tensor g = at::tensor(grid).view({25, 2});
  std::vector<int64_t> rest = range(0, 25);
  rest.erase(rest.begin() + 12);
  EXPECT_EQ(kcenter_greedy(g, {12}, rest, 12, 0), brute_kcenter(g, {12}, rest, 12, -1));
  at::Tensor bad = at::randn({10, 3});
  bad[6][1] = NAN;
  try {
    kcenter_greedy(bad, {}, range(0, 10), 3, 0);
    ADD_FAILURE();
  } catch (const alx::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("row 6"), std::string::npos) << e.what();
  }
}

TEST(Badge, FactoredEqualsDenseAndStartsAtLargestNorm) {
  at::manual_seed(3);
  const int64_t N = 300, C = 4, D = 16;
  const at::Tensor probs = at::softmax(at::randn({N, C}) * 3, -1);
  const at::Tensor h = at::randn({N, D});
  const at::Tensor a = probs - at::one_hot(probs.argmax(1), C).to(at::kFloat);
  const at::Tensor g = (a.unsqueeze(2) * h.unsqueeze(1)).reshape({N, C * D});
  const auto dense = badge_select(g, {}, {}, range(0, N), 25, 9);
  const auto fact = badge_select({}, probs, h, range(0, N), 25, 9);
  EXPECT_EQ(dense, fact);
  EXPECT_EQ(dense[0], g.norm(2, 1).argmax().item<int64_t>());
  EXPECT_EQ(std::set<int64_t>(dense.begin(), dense.end()).size(), 25u);
  EXPECT_NE(dense, badge_select(g, {}, {}, range(0, N), 25, 10));  // the seed matters
}

TEST(Badge, SamplesProportionalToSquaredDistance) {
  // The largest norm goes first (x = 3, item 0); then D² weights 1 : 4 : 9 for items 1, 2, 3.
  at::Tensor g = at::tensor({3.0f, 2.0f, 1.0f, 0.0f}).view({4, 1});
  std::map<int64_t, int> counts;
  const int trials = 6000;
  for (int s = 0; s < trials; ++s) ++counts[badge_select(g, {}, {}, range(0, 4), 2, s)[1]];
  EXPECT_EQ(counts[0], 0);
  EXPECT_NEAR(counts[1] / double(trials), 1.0 / 14, 0.02);
  EXPECT_NEAR(counts[2] / double(trials), 4.0 / 14, 0.03);
  EXPECT_NEAR(counts[3] / double(trials), 9.0 / 14, 0.03);
}

TEST(Badge, ThirdPickFollowsTheDistanceToBothCenters) {
  // Points 0, 1, 2, 3, 10 on a line: 10 goes first, the second pick s ∝ (x − 10)², the
  // third ∝ min((x − 10)², (x − x_s)²). The lazy sampler must compare a proposal with the
  // second center too: with the first one alone, items 1, 2, 3 would come third 27%, 24%,
  // 20% of the time instead of 11%, 16%, 44%.
  const std::vector<float> x = {0, 1, 2, 3, 10};
  const at::Tensor g = at::tensor(x).view({5, 1});
  std::vector<double> want(5, 0.0);
  double second_total = 0;
  for (int s = 0; s < 4; ++s) second_total += (x[s] - 10) * (x[s] - 10);
  for (int s = 0; s < 4; ++s) {
    std::vector<double> w(5, 0.0);
    double total = 0;
    for (int j = 0; j < 4; ++j)
      if (j != s) total += w[j] = std::min((x[j] - 10) * (x[j] - 10), (x[j] - x[s]) * (x[j] - x[s]));
    for (int j = 0; j < 4; ++j) want[j] += (x[s] - 10) * (x[s] - 10) / second_total * w[j] / total;
  }
  std::vector<int> counts(5, 0);
  const int trials = 8000;
  for (int t = 0; t < trials; ++t) {
    const auto got = badge_select(g, {}, {}, range(0, 5), 3, t);
    ASSERT_EQ(got[0], 4);
    ++counts[static_cast<size_t>(got[2])];
  }
  EXPECT_EQ(counts[4], 0);
  for (int j = 0; j < 4; ++j)
    EXPECT_NEAR(counts[j] / double(trials), want[j], 0.025) << "item " << j << " third";
}

TEST(BatchBald, ExactMatchesBruteForceEnumeration) {
  at::manual_seed(5);
  const int64_t N = 7, T = 3, C = 3, k = 4;
  const at::Tensor probs = at::softmax(at::randn({N, T, C}, at::kDouble) * 2, -1);
  const auto res = batchbald_greedy(probs, range(0, N), k, 100000, 0);
  ASSERT_EQ(res.indices.size(), size_t(k));
  std::vector<int64_t> batch;
  for (int64_t step = 0; step < k; ++step) {
    // Brute force: the next item maximises the joint MI of the enlarged batch.
    int64_t best = -1;
    double bv = -1e300;
    for (int64_t i = 0; i < N; ++i) {
      if (std::find(batch.begin(), batch.end(), i) != batch.end()) continue;
      auto b = batch;
      b.push_back(i);
      const double mi = brute_joint_mi(probs, b);
      if (mi > bv) {
        bv = mi;
        best = i;
      }
    }
    EXPECT_EQ(res.indices[step], best) << "step " << step;
    EXPECT_NEAR(res.joint_mi[step], bv, 2e-5) << "step " << step;
    batch.push_back(best);
  }
  // The first pick is plain BALD's best.
  EXPECT_EQ(res.indices[0], score(probs, "bald").argmax().item<int64_t>());
}

TEST(BatchBald, SampledEstimateIsClose) {
  at::manual_seed(6);
  const int64_t N = 12, T = 5, C = 4, k = 8;
  const at::Tensor probs = at::softmax(at::randn({N, T, C}, at::kDouble) * 2, -1);
  // Exact while 4^n <= 4000 (n <= 5), sampled for the last steps.
  const auto res = batchbald_greedy(probs, range(0, N), k, 4000, 1);
  for (int64_t n = 6; n <= k; ++n) {
    const std::vector<int64_t> b(res.indices.begin(), res.indices.begin() + n);
    EXPECT_NEAR(res.joint_mi[n - 1], brute_joint_mi(probs, b), 0.06) << "batch size " << n;
  }
}

TEST(BatchBald, AvoidsDuplicates) {
  // Item 3 duplicates item 0 (the top BALD item): BatchBALD gains nothing from it.
  at::manual_seed(7);
  at::Tensor probs = at::softmax(at::randn({6, 8, 3}, at::kDouble) * 2, -1);
  const int64_t top = score(probs, "bald").argmax().item<int64_t>();
  const int64_t dup = top == 5 ? 4 : 5;
  probs[dup] = probs[top];
  const auto res = batchbald_greedy(probs, range(0, 6), 2, 1000, 0);
  EXPECT_EQ(res.indices[0], std::min(top, dup));  // equal scores: lower index first
  EXPECT_NE(res.indices[1], std::max(top, dup));
}

TEST(Clustering, AverageLinkageKnownAnswer) {
  const at::Tensor x = at::tensor({0.0f, 1.0f, 10.0f, 11.0f, 30.0f, 12.0f}).view({6, 1});
  EXPECT_EQ(average_linkage(x, 3, 0), (std::vector<int64_t>{0, 0, 1, 1, 2, 1}));
  EXPECT_EQ(average_linkage(x, 1, 0), (std::vector<int64_t>(6, 0)));
  EXPECT_EQ(average_linkage(x, 6, 0), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  // Threshold cut: {0,1} merge at 1, {10,11,12} at ≤ 1.5; average link between them ≈ 11 > 5.
  EXPECT_EQ(average_linkage(x, 0, 5.0), (std::vector<int64_t>{0, 0, 1, 1, 2, 1}));
}

TEST(Clustering, KMeansFindsBlobs) {
  const at::Tensor x = blobs(50, 4, {-10, 0, 10}, 0.5, 1);
  const auto km = kmeans(x, 3, 50, 2);
  const at::Tensor a = km.assignment;
  for (int b = 0; b < 3; ++b) {
    const at::Tensor part = a.slice(0, b * 50, (b + 1) * 50);
    EXPECT_TRUE((part == part[0]).all().item<bool>()) << "blob " << b;
  }
  EXPECT_EQ(std::set<int64_t>({a[0].item<int64_t>(), a[50].item<int64_t>(), a[100].item<int64_t>()}).size(), 3u);
  EXPECT_TRUE(km.assignment.equal(kmeans(x, 3, 50, 2).assignment));
}

TEST(Typiclust, ColdStartTakesOneTypicalItemPerBlob) {
  const at::Tensor x = blobs(40, 3, {-20, 0, 20}, 1.0, 2);
  SamplerInput in;
  in.embeddings = x;
  in.labeled = at::zeros({120}, at::kBool);
  const auto got = make_sampler("typiclust")->select(in, 3, 0);
  std::set<int64_t> blobs_hit;
  for (int64_t i : got) {
    blobs_hit.insert(i / 40);
    // Typical = close to its blob's centre.
    const at::Tensor centre = x.slice(0, (i / 40) * 40, (i / 40 + 1) * 40).mean(0);
    EXPECT_LT((x[i] - centre).norm().item<float>(), 1.5f);
  }
  EXPECT_EQ(blobs_hit.size(), 3u);
  // With blob 0 labeled, the next pick comes from an unlabeled blob.
  in.labeled.slice(0, 0, 5).fill_(true);
  const auto next = make_sampler("typiclust")->select(in, 2, 0);
  for (int64_t i : next) EXPECT_GE(i, 40);
}

TEST(ClusterMargin, LowMarginAndDiverse) {
  // Items 0..9 have low margins in two tight groups; 10..59 are confident.
  const int64_t N = 60;
  at::Tensor probs = at::zeros({N, 2});
  probs.select(1, 0).fill_(0.99f);
  probs.select(1, 1).fill_(0.01f);
  probs.slice(0, 0, 10).fill_(0.5f);
  at::Tensor emb = at::randn({N, 2}) * 0.01;
  emb.slice(0, 0, 5) += 10;
  SamplerInput in;
  in.probs = probs;
  in.embeddings = emb;
  in.labeled = at::zeros({N}, at::kBool);
  const auto got =
      make_sampler("cluster_margin", YAML::Load("{margin_factor: 5}"))->select(in, 2, 1);
  ASSERT_EQ(got.size(), 2u);
  for (int64_t i : got) EXPECT_LT(i, 10);
  EXPECT_NE(got[0] < 5, got[1] < 5);  // one from each group
}

TEST(TopK, HighestScoresTiesToLowerIndex) {
  SamplerInput in;
  in.scores = at::tensor({0.5f, 0.9f, 0.9f, 0.1f, 0.9f, 0.7f});
  in.labeled = at::zeros({6}, at::kBool);
  in.labeled[2] = true;
  EXPECT_EQ(make_sampler("topk")->select(in, 3, 0), (std::vector<int64_t>{1, 4, 5}));
  // From probs through a scorer.
  SamplerInput p;
  p.probs = at::tensor({0.9f, 0.1f, 0.55f, 0.45f, 0.7f, 0.3f}).view({3, 2});
  p.labeled = at::zeros({3}, at::kBool);
  EXPECT_EQ(make_sampler("topk", YAML::Load("{scorer: margin}"))->select(p, 2, 0),
            (std::vector<int64_t>{1, 2}));
  SamplerInput nan = in;
  nan.scores = at::tensor({0.5f, NAN, 0.1f, 0.1f, 0.1f, 0.1f});
  EXPECT_THROW(make_sampler("topk")->select(nan, 2, 0), alx::InvalidArgument);
}

TEST(Stochastic, SoftmaxFrequenciesFollowScores) {
  SamplerInput in;
  in.scores = at::tensor({0.0f, std::log(2.0f), std::log(5.0f)});
  in.labeled = at::zeros({3}, at::kBool);
  auto s = make_sampler("softmax", YAML::Load("{beta: 1}"));
  std::vector<int> counts(3);
  const int trials = 8000;
  for (int t = 0; t < trials; ++t) ++counts[s->select(in, 1, t)[0]];
  EXPECT_NEAR(counts[0] / double(trials), 1.0 / 8, 0.02);
  EXPECT_NEAR(counts[1] / double(trials), 2.0 / 8, 0.02);
  EXPECT_NEAR(counts[2] / double(trials), 5.0 / 8, 0.02);
  // power: p ∝ s^β; softrank: p ∝ rank^-β.
  in.scores = at::tensor({1.0f, 3.0f, 0.0f});
  auto pw = make_sampler("power", YAML::Load("{beta: 1}"));
  auto sr = make_sampler("softrank", YAML::Load("{beta: 1}"));
  std::vector<int> pc(3), rc(3);
  for (int t = 0; t < trials; ++t) {
    ++pc[pw->select(in, 1, t)[0]];
    ++rc[sr->select(in, 1, t)[0]];
  }
  EXPECT_EQ(pc[2], 0);  // score 0 has probability 0
  EXPECT_NEAR(pc[1] / double(trials), 0.75, 0.02);
  // ranks: item 1 → 1, item 0 → 2, item 2 → 3; weights 1, 1/2, 1/3 → 6/11, 3/11, 2/11.
  EXPECT_NEAR(rc[1] / double(trials), 6.0 / 11, 0.02);
  EXPECT_NEAR(rc[0] / double(trials), 3.0 / 11, 0.02);
  // A very cold softmax is topk.
  in.scores = at::rand({50});
  in.labeled = at::zeros({50}, at::kBool);
  EXPECT_EQ(make_sampler("softmax", YAML::Load("{beta: 1e6}"))->select(in, 5, 3),
            make_sampler("topk")->select(in, 5, 3));
  in.scores = at::tensor({1.0f, -1.0f, 0.5f});
  in.labeled = at::zeros({3}, at::kBool);
  EXPECT_THROW(pw->select(in, 1, 0), alx::InvalidArgument);
}

TEST(ClassBalanced, EqualQuotaPerPredictedClass) {
  // 3 predicted classes with 30, 10 and 2 items.
  const int64_t N = 42;
  at::Tensor probs = at::zeros({N, 3});
  for (int64_t i = 0; i < N; ++i) {
    const int64_t c = i < 30 ? 0 : i < 40 ? 1 : 2;
    probs[i][c] = 0.6f;
    probs[i][(c + 1) % 3] = 0.4f - 0.01f * static_cast<float>(i % 7);
    probs[i][(c + 2) % 3] = 0.01f * static_cast<float>(i % 7);
  }
  SamplerInput in;
  in.probs = probs;
  in.labeled = at::zeros({N}, at::kBool);
  auto s = make_sampler("class_balanced", YAML::Load("{sampler: topk, params: {scorer: margin}}"));
  const auto got = s->select(in, 9, 0);
  ASSERT_EQ(got.size(), 9u);
  std::vector<int> per(3);
  for (int64_t i : got) ++per[i < 30 ? 0 : i < 40 ? 1 : 2];
  EXPECT_EQ(per[2], 2);             // everything there is
  EXPECT_GE(per[1], 3);             // its quota
  EXPECT_GE(per[0], 3);
  EXPECT_TRUE(s->needs().probs);
}

TEST(Hybrid, DiversePicksAmongTheMostUncertain) {
  at::manual_seed(8);
  const int64_t N = 200;
  SamplerInput in;
  in.scores = at::arange(N, at::kFloat);  // the top 40 are 160..199
  in.embeddings = at::randn({N, 4});
  in.labeled = at::zeros({N}, at::kBool);
  auto s = make_sampler("hybrid", YAML::Load("{top_m: 40, diversity: kcenter}"));
  const auto got = s->select(in, 8, 0);
  ASSERT_EQ(got.size(), 8u);
  for (int64_t i : got) EXPECT_GE(i, 160);
  EXPECT_TRUE(s->needs().embeddings);
}
