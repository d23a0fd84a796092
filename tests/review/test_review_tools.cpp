// alx/sampling/review_tools.h and the pool-level helpers of alx/training/review.h on
// synthetic data, with brute-force references.
#include <alx/sampling/review_tools.h>
#include <alx/training/review.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

namespace alx::sampling {
namespace {

TEST(ConfidentLearning, FlagsTheConfidentOffDiagonalItems) {
  // Three classes; row 3 is labeled 0 but the model is confident it is class 2.
  const auto probs = torch::tensor({0.8f, 0.1f, 0.1f, 0.7f, 0.2f, 0.1f, 0.1f, 0.8f, 0.1f, 0.05f, 0.05f, 0.9f,
                                    0.1f, 0.1f, 0.8f, 0.2f, 0.7f, 0.1f})
                         .reshape({6, 3});
  const std::vector<int> labels = {0, 0, 1, 0, 2, 1};
  const auto cl = confident_learning(probs, labels);
  // t_0 = mean(0.8, 0.7, 0.05), t_1 = mean(0.8, 0.7), t_2 = 0.8
  EXPECT_NEAR(cl.thresholds[0], (0.8 + 0.7 + 0.05) / 3, 1e-6);
  EXPECT_NEAR(cl.thresholds[1], 0.75, 1e-6);
  EXPECT_NEAR(cl.thresholds[2], 0.8, 1e-6);
  EXPECT_EQ(cl.num_flagged, 1);
  EXPECT_TRUE(cl.flagged[3]);
  EXPECT_EQ(cl.suggested[3], 2);
  EXPECT_NEAR(cl.margin[3], 0.05 - 0.9, 1e-6);
  EXPECT_EQ(cl.ranking.front(), 3);
  EXPECT_EQ(cl.joint[0][2], 1);
  EXPECT_EQ(cl.joint[0][0], 2);
  EXPECT_THROW(confident_learning(probs, {0, 1}), std::invalid_argument);
  EXPECT_THROW(confident_learning(probs, {0, 1, 2, 3, 0, 0}), std::invalid_argument);
}

std::set<std::pair<int64_t, int64_t>> brute_pairs(const at::Tensor& x, double thr, bool center) {
  at::Tensor y = x.to(at::kDouble);
  if (center) y = y - y.mean(0, true);
  y = y / y.norm(2, 1, true).clamp_min(1e-12);
  const at::Tensor s = at::mm(y, y.t());
  std::set<std::pair<int64_t, int64_t>> out;
  for (int64_t i = 0; i < x.size(0); ++i)
    for (int64_t j = i + 1; j < x.size(0); ++j)
      if (s[i][j].item<double>() >= thr) out.insert({i, j});
  return out;
}

TEST(NearDuplicates, BlockedSearchMatchesBruteForce) {
  torch::manual_seed(3);
  at::Tensor x = torch::randn({203, 8});
  // Plant copies and near copies.
  x[50] = x[3];
  x[120] = x[7] + 0.01 * torch::randn({8});
  x[202] = x[120];
  for (bool center : {true, false}) {
    const auto want = brute_pairs(x, 0.95, center);
    for (int64_t block : {7, 64, 4096}) {
      const auto got = near_duplicates(x, DuplicateOptions().threshold(0.95).block(block).center(center));
      std::set<std::pair<int64_t, int64_t>> have;
      for (const auto& p : got) {
        EXPECT_LT(p.a, p.b);
        have.insert({p.a, p.b});
      }
      EXPECT_EQ(have, want) << "block " << block << " center " << center;
      for (std::size_t k = 1; k < got.size(); ++k) EXPECT_GE(got[k - 1].cosine, got[k].cosine);
    }
  }
  const auto top = near_duplicates(x, DuplicateOptions().threshold(0.95).max_pairs(2).block(5));
  ASSERT_EQ(top.size(), 2u);
  EXPECT_GT(top[0].cosine, 0.9999f);  // the exact copies come first
}

TEST(NearDuplicates, CrossSetsAndSkipMask) {
  torch::manual_seed(4);
  const at::Tensor a = torch::randn({40, 6});
  at::Tensor b = torch::randn({30, 6});
  b[4] = a[11];
  b[9] = a[0] * 3;  // same direction, other length
  const auto pairs = cross_duplicates(a, b, DuplicateOptions().threshold(0.999).center(false).block(8));
  ASSERT_EQ(pairs.size(), 2u);
  std::set<std::pair<int64_t, int64_t>> have;
  for (const auto& p : pairs) have.insert({p.a, p.b});
  EXPECT_TRUE(have.count({11, 4}));
  EXPECT_TRUE(have.count({0, 9}));

  // Groups {1, 4, 6} (4 labeled) and {2, 8}: the labeled group skips all its unlabeled
  // members, the other keeps its lowest index.
  const std::vector<DuplicatePair> dup = {{1, 4, 1.f}, {4, 6, 1.f}, {2, 8, 1.f}};
  const auto groups = duplicate_groups(10, dup);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0], (std::vector<int64_t>{1, 4, 6}));
  EXPECT_EQ(groups[1], (std::vector<int64_t>{2, 8}));
  std::vector<bool> labeled(10, false);
  labeled[4] = true;
  const auto mask = duplicate_skip_mask(10, dup, labeled);
  const std::vector<bool> want = {true, false, true, true, false, true, false, true, false, true};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(mask[i].item<bool>(), want[static_cast<std::size_t>(i)]) << i;
}

/// Fraction of points whose nearest neighbour in `xy` has the same class.
double neighbour_agreement(const at::Tensor& xy, const std::vector<int>& cls) {
  const at::Tensor d = at::cdist(xy, xy) + at::eye(xy.size(0)) * 1e9;
  const at::Tensor nn = d.argmin(1);
  int agree = 0;
  for (int64_t i = 0; i < xy.size(0); ++i) agree += cls[static_cast<std::size_t>(i)] == cls[static_cast<std::size_t>(nn[i].item<int64_t>())];
  return static_cast<double>(agree) / static_cast<double>(xy.size(0));
}

TEST(Maps, PcaAndTsneSeparateBlobs) {
  torch::manual_seed(5);
  const int k = 5, per = 120;
  const at::Tensor centers = torch::randn({k, 30}) * 4;
  std::vector<at::Tensor> rows;
  std::vector<int> cls;
  for (int c = 0; c < k; ++c) {
    rows.push_back(centers[c].unsqueeze(0) + torch::randn({per, 30}));
    for (int i = 0; i < per; ++i) cls.push_back(c);
  }
  const at::Tensor x = torch::cat(rows, 0);
  const at::Tensor p = pca_2d(x);
  ASSERT_EQ(p.sizes(), (std::vector<int64_t>{k * per, 2}));
  // The first component carries at least as much variance as the second.
  EXPECT_GE(p.select(1, 0).var().item<double>(), p.select(1, 1).var().item<double>());

  const at::Tensor t = tsne_2d(x, TsneOptions().perplexity(20).iterations(400).seed(1));
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{k * per, 2}));
  EXPECT_TRUE(torch::isfinite(t).all().item<bool>());
  EXPECT_GT(neighbour_agreement(t, cls), 0.97);
  EXPECT_TRUE(torch::equal(t, tsne_2d(x, TsneOptions().perplexity(20).iterations(400).seed(1))));
  // Exact repulsion (theta 0) and Barnes-Hut agree on the quality of the layout.
  const at::Tensor exact = tsne_2d(x, TsneOptions().perplexity(20).iterations(400).theta(0));
  EXPECT_GT(neighbour_agreement(exact, cls), 0.97);
  // Coinciding inputs (exact duplicates) stay finite.
  at::Tensor dup = x.clone();
  dup.slice(0, 0, 50) = x[0];
  EXPECT_TRUE(torch::isfinite(tsne_2d(dup, TsneOptions().iterations(100))).all().item<bool>());
  EXPECT_THROW(tsne_2d(x.slice(0, 0, 3)), std::invalid_argument);
}

}  // namespace
}  // namespace alx::sampling

namespace alx::training {
namespace {

TEST(LabelStats, CountsSharesGrowthAndWarnings) {
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) ids.push_back("img" + std::to_string(i));
  Pool pool(Schema({"cat", "dog", "fox"}), ids);
  std::vector<int64_t> idx;
  std::vector<int> lab;
  for (int i = 0; i < 10; ++i) idx.push_back(i), lab.push_back(i < 5 ? 0 : 1);
  pool.add_labels(idx, lab, 0);
  pool.add_labels({10, 11, 12, 13}, {0, 1, 2, 1}, 1);
  const LabelStats s = label_stats(pool);
  EXPECT_EQ(s.labeled, 14);
  EXPECT_EQ(s.unlabeled, 26);
  EXPECT_EQ(s.counts, (std::vector<int64_t>{6, 7, 1}));
  EXPECT_EQ(s.rounds, (std::vector<int>{0, 1}));
  EXPECT_EQ(s.added[1], (std::vector<int64_t>{1, 2, 1}));
  EXPECT_EQ(s.cumulative[0], (std::vector<int64_t>{5, 5, 0}));
  EXPECT_EQ(s.cumulative[1], (std::vector<int64_t>{6, 7, 1}));
  EXPECT_NEAR(s.min_share, 0.5 / 3, 1e-12);
  ASSERT_EQ(s.warnings.size(), 1u);  // fox: 1 of 14 = 7% < 16.7%
  EXPECT_NE(s.warnings[0].find("fox"), std::string::npos);
  EXPECT_NE(format_label_stats(s).find("warning"), std::string::npos);
}

}  // namespace
}  // namespace alx::training
