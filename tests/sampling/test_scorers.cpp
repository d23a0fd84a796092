// Scorers: hand-computed values, properties, validation errors, the registry.
#include <alx/core/error.h>
#include <alx/sampling/scorers.h>

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

using alx::sampling::score;
using alx::sampling::ScoreOptions;

namespace {

at::Tensor t2(std::vector<std::vector<double>> rows, at::ScalarType type = at::kDouble) {
  const int64_t n = rows.size(), c = rows[0].size();
  at::Tensor t = at::empty({n, c}, at::kDouble);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < c; ++j) t[i][j] = rows[i][j];
  return t.to(type);
}

double at1(const at::Tensor& t, int64_t i) { return t.to(at::kDouble)[i].item<double>(); }

// Two passes, two classes: p1 = [0.9, 0.1], p2 = [0.5, 0.5]; p̄ = [0.7, 0.3].
at::Tensor two_pass() {
  at::Tensor p = at::empty({1, 2, 2}, at::kDouble);
  p[0][0][0] = 0.9; p[0][0][1] = 0.1;
  p[0][1][0] = 0.5; p[0][1][1] = 0.5;
  return p;
}

}  // namespace

class ScorerDtype : public ::testing::TestWithParam<at::ScalarType> {};

TEST_P(ScorerDtype, HandComputedSinglePass) {
  const auto type = GetParam();
  const double tol = type == at::kFloat ? 2e-6 : 1e-12;
  const at::Tensor p = t2({{0.5, 0.3, 0.2}, {1.0, 0.0, 0.0}, {0.25, 0.25, 0.5}}, type);
  // least confidence: 1 - max
  auto lc = score(p, "least_confidence");
  EXPECT_EQ(lc.scalar_type(), type);
  EXPECT_NEAR(at1(lc, 0), 0.5, tol);
  EXPECT_NEAR(at1(lc, 1), 0.0, tol);
  EXPECT_NEAR(at1(lc, 2), 0.5, tol);
  // margin: 1 - (p1 - p2)
  auto mg = score(p, "margin");
  EXPECT_NEAR(at1(mg, 0), 1.0 - 0.2, tol);
  EXPECT_NEAR(at1(mg, 1), 0.0, tol);
  EXPECT_NEAR(at1(mg, 2), 1.0 - 0.25, tol);
  // ratio: p2 / p1
  auto rt = score(p, "ratio");
  EXPECT_NEAR(at1(rt, 0), 0.6, tol);
  EXPECT_NEAR(at1(rt, 1), 0.0, tol);
  EXPECT_NEAR(at1(rt, 2), 0.5, tol);
  // entropy (nats): −Σ p ln p
  auto en = score(p, "entropy");
  EXPECT_NEAR(at1(en, 0), -(0.5 * std::log(0.5) + 0.3 * std::log(0.3) + 0.2 * std::log(0.2)), tol);
  EXPECT_NEAR(at1(en, 1), 0.0, tol);  // 0 log 0 = 0, no NaN
  EXPECT_NEAR(at1(en, 2), 1.5 * std::log(2.0), tol);
  // With one pass BALD, variation ratios and mean std are 0.
  for (const char* m : {"bald", "variation_ratios", "mean_std"}) {
    auto s = score(p, m);
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(at1(s, i), 0.0, tol) << m;
  }
}

TEST_P(ScorerDtype, HandComputedTwoPasses) {
  const auto type = GetParam();
  const double tol = type == at::kFloat ? 2e-6 : 1e-12;
  const at::Tensor p = two_pass().to(type);
  const double h_mean = -(0.7 * std::log(0.7) + 0.3 * std::log(0.3));
  const double h1 = -(0.9 * std::log(0.9) + 0.1 * std::log(0.1));
  const double h2 = std::log(2.0);
  EXPECT_NEAR(at1(score(p, "entropy"), 0), h_mean, tol);
  EXPECT_NEAR(at1(score(p, "bald"), 0), h_mean - 0.5 * (h1 + h2), tol);
  EXPECT_NEAR(at1(score(p, "least_confidence"), 0), 0.3, tol);
  EXPECT_NEAR(at1(score(p, "margin"), 0), 1.0 - 0.4, tol);
  EXPECT_NEAR(at1(score(p, "ratio"), 0), 0.3 / 0.7, tol);
  // Pass argmaxes: class 0 (0.9) and class 0 (tie 0.5/0.5 → lower class): modal count 2 of 2.
  EXPECT_NEAR(at1(score(p, "variation_ratios"), 0), 0.0, tol);
  // std over passes of each class: |0.9 − 0.5| / 2 = 0.2 for both classes.
  EXPECT_NEAR(at1(score(p, "mean_std"), 0), 0.2, tol);
}

INSTANTIATE_TEST_SUITE_P(Types, ScorerDtype, ::testing::Values(at::kFloat, at::kDouble));

TEST(Scorers, VariationRatiosCountsPasses) {
  // Four passes with argmax 0, 1, 1, 2 → modal class 1 with 2 votes → 1 − 2/4.
  at::Tensor p = at::zeros({1, 4, 3}, at::kDouble);
  p[0][0][0] = 1; p[0][1][1] = 1; p[0][2][1] = 1; p[0][3][2] = 1;
  EXPECT_DOUBLE_EQ(at1(score(p, "variation_ratios"), 0), 0.5);
  // BALD of disagreeing one-hot passes: H(p̄) − 0 with p̄ = [1/4, 1/2, 1/4].
  EXPECT_NEAR(at1(score(p, "bald"), 0), -(0.5 * std::log(0.25) + 0.5 * std::log(0.5)), 1e-12);
}

TEST(Scorers, VariationRatiosMatchArgmaxVotesWithTiesOverManyBlocks) {
  // Small integer weights make ties within a pass common; the first maximum wins, as
  // torch.argmax does. 600 rows span several 256-row blocks.
  at::manual_seed(3);
  const int64_t N = 600, T = 7, C = 5;
  at::Tensor w = at::randint(0, 3, {N, T, C}, at::kFloat) + (at::arange(C, at::kFloat) == 0);
  at::Tensor p = w / w.sum(-1, true);
  at::Tensor votes = at::one_hot(p.argmax(-1), C).sum(1);
  at::Tensor expected = 1.0 - std::get<0>(votes.max(-1)).to(at::kFloat) / static_cast<float>(T);
  at::Tensor got = score(p, "variation_ratios");
  EXPECT_TRUE(at::equal(got, expected)) << (got - expected).abs().max().item<float>();
  EXPECT_GT(expected.max().item<float>(), 0.5f);  // the votes really do disagree
}

TEST(Scorers, Properties) {
  at::manual_seed(0);
  const int64_t N = 200, T = 5, C = 7;
  at::Tensor p = at::softmax(at::randn({N, T, C}, at::kDouble) * 2, -1);
  // Entropy is maximal (ln C) on a uniform row and no row exceeds it.
  at::Tensor u = at::full({1, T, C}, 1.0 / C, at::kDouble);
  EXPECT_NEAR(at1(score(u, "entropy"), 0), std::log(double(C)), 1e-12);
  EXPECT_LE(score(p, "entropy").max().item<double>(), std::log(double(C)) + 1e-12);
  // BALD is 0 when every pass agrees, ≥ 0 always, ≤ entropy.
  at::Tensor same = p.select(1, 0).unsqueeze(1).expand({N, T, C}).contiguous();
  EXPECT_LT(score(same, "bald").abs().max().item<double>(), 1e-12);
  EXPECT_GE(score(p, "bald").min().item<double>(), 0.0);
  EXPECT_TRUE((score(p, "bald") <= score(p, "entropy") + 1e-12).all().item<bool>());
  // One-hot rows: every score is finite (and the uncertainty ones are 0).
  at::Tensor onehot = at::zeros({3, 2, 4}, at::kFloat);
  onehot.select(2, 1).fill_(1.0);
  for (const auto& m : alx::sampling::scorer_names()) {
    at::Tensor s = score(onehot, m);
    EXPECT_TRUE(at::isfinite(s).all().item<bool>()) << m;
    EXPECT_EQ(s.size(0), 3) << m;
  }
  EXPECT_EQ(score(onehot, "entropy").abs().max().item<float>(), 0.0f);
  // float32 agrees with float64 (the fast log is within a few ulp).
  for (const char* m : {"entropy", "bald", "margin", "mean_std"}) {
    at::Tensor d = score(p, m), f = score(p.to(at::kFloat), m).to(at::kDouble);
    EXPECT_LT((d - f).abs().max().item<double>(), 1e-5) << m;
  }
  // Against plain ATen formulas on a large random input (many threads, many blocks).
  at::set_num_threads(2);
  at::Tensor big = at::softmax(at::randn({5000, 3, 10}), -1);
  at::Tensor pm = big.mean(1);
  at::Tensor ent = -at::xlogy(pm, pm).sum(1);
  at::Tensor cond = -at::xlogy(big, big).sum(2).mean(1);
  EXPECT_LT((score(big, "entropy") - ent).abs().max().item<float>(), 1e-5);
  EXPECT_LT((score(big, "bald") - (ent - cond).clamp_min(0)).abs().max().item<float>(), 1e-5);
  // Plain [N, C] equals [N, 1, C].
  at::Tensor flat = big.select(1, 0).contiguous();
  EXPECT_TRUE(score(flat, "margin").equal(score(flat.unsqueeze(1), "margin")));
}

TEST(Scorers, LogitsOption) {
  at::Tensor logits = at::tensor({2.0, 1.0, 0.0, -3.0, 0.5, 0.5}, at::kDouble).view({2, 3});
  at::Tensor probs = at::softmax(logits, -1);
  EXPECT_TRUE(at::allclose(score(logits, "entropy", ScoreOptions().from_logits(true)),
                           score(probs, "entropy")));
  EXPECT_THROW(score(logits, "entropy"), alx::InvalidArgument);
}

TEST(Scorers, InvalidRowsNameTheRow) {
  auto expect_msg = [](const at::Tensor& p, const std::string& needle) {
    try {
      score(p, "entropy");
      ADD_FAILURE() << "no exception for " << needle;
    } catch (const alx::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  at::Tensor p = at::full({1000, 2, 4}, 0.25, at::kFloat);
  at::Tensor q = p.clone();
  q[700][1][2] = NAN;
  expect_msg(q, "row 700 (pass 1), class 2");
  q = p.clone();
  q[3][0][0] = -0.5;
  q[3][0][1] = 1.0;
  q[900][0][0] = -0.5;
  expect_msg(q, "row 3 (pass 0)");  // the first bad row, whichever thread saw it
  q = p.clone();
  q[512][0][3] = 0.3;
  expect_msg(q, "row 512 (pass 0) sums to 1.05");
  // Within tolerance is fine; validate(false) skips the check.
  q = p.clone();
  q[5][0][0] = 0.2502;
  EXPECT_NO_THROW(score(q, "entropy"));
  q[5][0][0] = 0.5;
  EXPECT_NO_THROW(score(q, "entropy", ScoreOptions().validate(false)));
  // Shapes, dtypes, names.
  EXPECT_THROW(score(at::ones({3}), "entropy"), alx::InvalidArgument);
  EXPECT_THROW(score(at::ones({3, 1, 1, 1}), "entropy"), alx::InvalidArgument);
  EXPECT_THROW(score(at::ones({3, 2}, at::kInt), "entropy"), alx::InvalidArgument);
  EXPECT_THROW(score(at::ones({3, 1}), "margin"), alx::InvalidArgument);
  EXPECT_THROW(score(p, "no_such_scorer"), alx::InvalidArgument);
}

TEST(Scorers, TiesAreDeterministic) {
  // Identical rows give identical scores, every time, on any thread count.
  at::Tensor p = at::full({4096, 10}, 0.1, at::kFloat);
  at::set_num_threads(1);
  at::Tensor a = score(p, "entropy");
  at::set_num_threads(2);
  at::Tensor b = score(p, "entropy");
  EXPECT_TRUE(a.equal(b));
  EXPECT_EQ(a.min().item<float>(), a.max().item<float>());
}

namespace {
class Negated final : public alx::sampling::Scorer {
 public:
  torch::Tensor score(const torch::Tensor& probs) const override {
    at::Tensor p = probs.dim() == 3 ? probs.mean(1) : probs;
    return std::get<0>(p.max(1)).neg();
  }
  std::string name() const override { return "neg_max"; }
};
}  // namespace

TEST(Scorers, Registry) {
  using namespace alx::sampling;
  const auto names = scorer_names();
  for (const char* m : {"least_confidence", "margin", "ratio", "entropy", "bald",
                        "variation_ratios", "mean_std"})
    EXPECT_NE(std::find(names.begin(), names.end(), m), names.end()) << m;
  register_scorer("neg_max", [] { return std::make_unique<Negated>(); });
  EXPECT_TRUE(has_scorer("neg_max"));
  at::Tensor p = at::softmax(at::randn({10, 3}), -1);
  EXPECT_TRUE(at::allclose(score(p, "neg_max"), score(p, "least_confidence") - 1.0));
  EXPECT_EQ(make_scorer("bald")->name(), "bald");
  EXPECT_TRUE(make_scorer("bald")->needs_mc_samples());
  EXPECT_FALSE(make_scorer("margin")->needs_mc_samples());
  EXPECT_THROW(register_scorer("entropy", [] { return std::make_unique<Negated>(); }),
               alx::InvalidArgument);
  // Validation also guards user scorers.
  EXPECT_THROW(score(p * 2, "neg_max"), alx::InvalidArgument);
}

// Golden values from an independent implementation (torch, in Python) on fixed inputs.
TEST(Scorers, GoldenPython) {
  const std::string script = std::string(ALX_SAMPLING_TEST_DIR) + "/golden_scorers.py";
  const std::string out = std::string(ALX_TEST_TMP) + "_golden_scorers.txt";
  const std::string cmd = std::string(ALX_PYTHON) + " " + script + " > " + out + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "python with torch not available: " << cmd;
  std::ifstream in(out);
  // Format: N T C, then N*T*C probabilities (seeded by the script), then per method a line
  // "<method> v_0 … v_{N−1}".
  int64_t N, T, C;
  ASSERT_TRUE(in >> N >> T >> C);
  at::Tensor p = at::empty({N, T, C}, at::kDouble);
  double* d = p.data_ptr<double>();
  for (int64_t i = 0; i < N * T * C; ++i) ASSERT_TRUE(in >> d[i]);
  std::string method;
  int methods = 0;
  while (in >> method) {
    at::Tensor s = score(p, method);
    for (int64_t i = 0; i < N; ++i) {
      double v;
      ASSERT_TRUE(in >> v);
      EXPECT_NEAR(s[i].item<double>(), v, 1e-9) << method << " row " << i;
    }
    ++methods;
  }
  EXPECT_EQ(methods, 7);
}
