// One conformance suite over every registered sampler (in the spirit of scikit-learn's
// check_estimator): right count, unique, only unlabeled, deterministic per seed, clear
// errors on misuse, parameters documented.
#include <alx/core/error.h>
#include <alx/sampling/sampler.h>
#include <alx/sampling/scorers.h>

#include <gtest/gtest.h>

#include <set>

using namespace alx::sampling;

namespace {

/// A small pool with everything any sampler could need.
SamplerInput full_input(int64_t N, uint64_t seed, double labeled_frac = 0.2) {
  at::manual_seed(static_cast<int64_t>(seed));
  const int64_t T = 4, C = 3, D = 6;
  SamplerInput in;
  in.probs = at::softmax(at::randn({N, T, C}) * 2, -1);
  in.embeddings = at::randn({N, D});
  const at::Tensor a = in.probs.mean(1) - at::one_hot(in.probs.mean(1).argmax(1), C).to(at::kFloat);
  in.grad_embeddings = (a.unsqueeze(2) * in.embeddings.unsqueeze(1)).reshape({N, C * D});
  in.labeled = at::rand({N}) < labeled_frac;
  return in;
}

std::vector<std::string> all_samplers() { return sampler_names(); }

}  // namespace

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, UniqueUnlabeledDeterministic) {
  const std::string name = GetParam();
  auto s = make_sampler(name);
  EXPECT_EQ(s->name(), name);
  const SamplerInput in = full_input(120, 3);
  const at::Tensor lab = in.labeled;
  for (int64_t k : {0, 1, 7, 25}) {
    const auto a = s->select(in, k, 42);
    ASSERT_EQ(static_cast<int64_t>(a.size()), k) << name << " k=" << k;
    std::set<int64_t> uniq(a.begin(), a.end());
    EXPECT_EQ(uniq.size(), a.size()) << name << ": duplicate index";
    for (int64_t i : a) {
      ASSERT_GE(i, 0);
      ASSERT_LT(i, 120);
      EXPECT_FALSE(lab[i].item<bool>()) << name << " picked labeled item " << i;
    }
    EXPECT_EQ(a, s->select(in, k, 42)) << name << ": not deterministic for a seed";
    auto s2 = make_sampler(name);
    EXPECT_EQ(a, s2->select(in, k, 42)) << name << ": a fresh instance differs";
  }
  // The input tensors are not modified.
  EXPECT_TRUE(in.labeled.equal(lab));
}

TEST_P(Conformance, FewerRemainThanAsked) {
  const std::string name = GetParam();
  auto s = make_sampler(name);
  SamplerInput in = full_input(40, 5);
  in.labeled = at::ones({40}, at::kBool);
  in.labeled.slice(0, 10, 16).fill_(false);  // 6 unlabeled
  const auto a = s->select(in, 10, 1);
  std::set<int64_t> got(a.begin(), a.end());
  EXPECT_EQ(got, (std::set<int64_t>{10, 11, 12, 13, 14, 15})) << name;
  in.labeled.fill_(true);
  EXPECT_TRUE(s->select(in, 5, 1).empty()) << name;
}

TEST_P(Conformance, CandidatesAndSubsample) {
  const std::string name = GetParam();
  SamplerInput in = full_input(200, 7, 0.1);
  in.candidates = at::zeros({200}, at::kBool);
  in.candidates.slice(0, 50, 120).fill_(true);
  const auto a = make_sampler(name)->select(in, 12, 9);
  EXPECT_EQ(a.size(), 12u);
  for (int64_t i : a) {
    EXPECT_TRUE(i >= 50 && i < 120) << name << " picked non-candidate " << i;
    EXPECT_FALSE(in.labeled[i].item<bool>());
  }
  in.candidates = at::Tensor();
  auto sub = make_sampler(name, YAML::Load("{subsample: 30}"));
  const auto b = sub->select(in, 12, 9);
  EXPECT_EQ(b.size(), 12u);
  EXPECT_EQ(b, sub->select(in, 12, 9));
  EXPECT_EQ(std::set<int64_t>(b.begin(), b.end()).size(), 12u);
}

TEST_P(Conformance, ClearErrorsOnMisuse) {
  const std::string name = GetParam();
  auto s = make_sampler(name);
  SamplerInput in = full_input(50, 11);
  EXPECT_THROW(s->select(in, -1, 0), alx::InvalidArgument) << name;
  SamplerInput no_labeled = in;
  no_labeled.labeled = at::Tensor();
  EXPECT_THROW(s->select(no_labeled, 3, 0), alx::InvalidArgument) << name;
  SamplerInput wrong_n = in;
  wrong_n.labeled = at::zeros({49}, at::kBool);
  EXPECT_THROW(s->select(wrong_n, 3, 0), alx::InvalidArgument) << name;
  // Missing the inputs it says it needs: an error that names the field.
  const Needs needs = s->needs();
  SamplerInput bare;
  bare.labeled = at::zeros({50}, at::kBool);
  if (needs.probs || needs.embeddings || needs.grad_embeddings) {
    try {
      s->select(bare, 3, 0);
      ADD_FAILURE() << name << ": no error without " << needs.describe();
    } catch (const alx::InvalidArgument& e) {
      const std::string msg = e.what();
      EXPECT_TRUE(msg.find("probs") != std::string::npos ||
                  msg.find("embeddings") != std::string::npos)
          << name << ": " << msg;
    }
  } else {
    EXPECT_EQ(s->select(bare, 3, 0).size(), 3u) << name;
  }
  // Unknown parameters are configuration errors that name the key.
  try {
    make_sampler(name, YAML::Load("{no_such_param: 1}"));
    ADD_FAILURE() << name << " accepted an unknown parameter";
  } catch (const alx::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_param"), std::string::npos) << e.what();
  }
  // Every sampler documents its parameters (at least the common `subsample`).
  const auto help = sampler_params(name);
  ASSERT_FALSE(help.empty());
  EXPECT_NE(help.back().find("subsample"), std::string::npos);
  EXPECT_FALSE(sampler_summary(name).empty());
}

TEST_P(Conformance, OnlyUsesWhatItNeeds) {
  // Given only the inputs needs() lists, the sampler works: the active loop relies on this.
  const std::string name = GetParam();
  auto s = make_sampler(name);
  const Needs needs = s->needs();
  const SamplerInput full = full_input(80, 13);
  SamplerInput in;
  in.labeled = full.labeled;
  if (needs.probs) in.probs = full.probs;
  if (needs.embeddings) in.embeddings = full.embeddings;
  if (needs.grad_embeddings) in.grad_embeddings = full.grad_embeddings;
  EXPECT_EQ(s->select(in, 5, 2).size(), 5u) << name << " needs " << needs.describe();
}

INSTANTIATE_TEST_SUITE_P(Registry, Conformance, ::testing::ValuesIn(all_samplers()),
                         [](const auto& p) { return p.param; });

TEST(Registry, NamesAndErrors) {
  const auto names = sampler_names();
  for (const char* n : {"random", "topk", "power", "softmax", "softrank", "kcenter", "badge",
                        "cluster_margin", "batchbald", "typiclust", "class_balanced", "hybrid"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  try {
    make_sampler("kcentre");
    ADD_FAILURE();
  } catch (const alx::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("kcenter"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_sampler("topk", YAML::Load("{scorer: nope}")), alx::InvalidArgument);
  EXPECT_THROW(make_sampler("softmax", YAML::Load("{beta: -1}")), alx::ConfigError);
  EXPECT_THROW(make_sampler("topk", YAML::Load("[1, 2]")), alx::ConfigError);
  EXPECT_THROW(make_sampler("random", YAML::Load("{subsample: -3}")), alx::ConfigError);
  EXPECT_THROW(make_sampler("hybrid", YAML::Load("{diversity: kcenter, params: {bogus: 1}}")),
               alx::ConfigError);
}

namespace {
class FirstK final : public Sampler {
 public:
  std::vector<int64_t> select(const SamplerInput& in, int64_t k, uint64_t) const override {
    std::vector<int64_t> out;
    const at::Tensor ok = in.candidates.defined() ? ~in.labeled & in.candidates : ~in.labeled;
    for (int64_t i = 0; i < in.size() && static_cast<int64_t>(out.size()) < k; ++i)
      if (ok[i].item<bool>()) out.push_back(i);
    return out;
  }
  std::string name() const override { return "first_k"; }
};
}  // namespace

TEST(Registry, UserSamplers) {
  SamplerInfo info;
  info.name = "first_k";
  info.summary = "the first k unlabeled items";
  info.factory = [](const YAML::Node&, const alx::config::Context&) {
    return std::unique_ptr<Sampler>(std::make_unique<FirstK>());
  };
  register_sampler(info);
  SamplerInput in;
  in.labeled = at::zeros({10}, at::kBool);
  in.labeled[0] = true;
  EXPECT_EQ(make_sampler("first_k")->select(in, 3, 0), (std::vector<int64_t>{1, 2, 3}));
  // A user sampler can be wrapped by the built-in wrappers too.
  EXPECT_EQ(make_sampler("hybrid", YAML::Load("{diversity: first_k, top_m: 5}"))
                ->select([&] {
                  SamplerInput s = in;
                  s.scores = at::arange(10, at::kFloat);  // top 5: 9, 8, 7, 6, 5
                  return s;
                }(),
                         2, 0),
            (std::vector<int64_t>{5, 6}));
  info.name = "topk";
  EXPECT_THROW(register_sampler(info), alx::InvalidArgument);
}
