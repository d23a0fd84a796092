// Plan files and presets, --samplers, and the summary of synthetic results.
#include <alx/core/error.h>
#include <alx/sampling/sampler.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "bench_samplers.h"

using namespace alx::bench;
namespace fs = std::filesystem;

namespace {

/// A user's sampler: the k lowest unlabeled indices. Registered by name, it must enter a
/// benchmark through `all` and through --samplers without any change to the benchmark.
class LowestIndex : public alx::sampling::Sampler {
 public:
  std::vector<int64_t> select(const alx::sampling::SamplerInput& in, int64_t k, uint64_t) const override {
    std::vector<int64_t> out;
    auto labeled = in.labeled.to(at::kBool).contiguous();
    const bool* l = labeled.data_ptr<bool>();
    for (int64_t i = 0; i < labeled.size(0) && static_cast<int64_t>(out.size()) < k; ++i)
      if (!l[i]) out.push_back(i);
    return out;
  }
  std::string name() const override { return "test_lowest_index"; }
};

void register_user_sampler() {
  alx::sampling::SamplerInfo info;
  info.name = "test_lowest_index";
  info.summary = "the lowest unlabeled indices (a test's own sampler)";
  info.factory = [](const YAML::Node&, const alx::config::Context&) {
    return std::unique_ptr<alx::sampling::Sampler>(std::make_unique<LowestIndex>());
  };
  info.params_help = [] { return std::vector<std::string>{}; };
  alx::sampling::register_sampler(info);
}

fs::path write_plan(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / ("alx-bench-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p) << text;
  return p;
}

std::vector<std::string> labels(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& a : p.arms) out.push_back(a.label);
  return out;
}

RunResult run(const std::string& arm, uint64_t seed, std::vector<std::pair<double, double>> curve) {
  RunResult r;
  r.arm = arm;
  r.seed = seed;
  r.finished = true;
  int round = 0;
  for (auto [x, y] : curve) {
    RoundRow row;
    row.round = ++round;
    row.labeled = x;
    row.accuracy = y;
    row.s_train = 2;
    row.s_predict = 1;
    row.s_select = 0.5;
    r.rounds.push_back(row);
  }
  return r;
}

}  // namespace

TEST(Presets, QuickIsSixSamplersOnThreeSeeds) {
  const Plan p = load_plan(preset_path("quick"));
  EXPECT_EQ(p.name, "quick");
  EXPECT_EQ(labels(p), (std::vector<std::string>{"random", "entropy", "margin", "bald", "kcenter", "badge"}));
  EXPECT_EQ(p.seeds.size(), 3u);
  EXPECT_EQ(p.run.data().dataset(), "fashion_mnist");
  const Arm& bald = p.arms[3];
  EXPECT_EQ(bald.sampler, "topk");
  EXPECT_EQ(bald.params["scorer"].as<std::string>(), "bald");
  // BALD's sampler asks the predictor for MC samples; the loop passes them on.
  EXPECT_TRUE(alx::sampling::make_sampler(bald.sampler, bald.params)->needs().mc_samples);
  EXPECT_EQ(p.config_for(bald, 2).loop().seed(), 2u);
  EXPECT_EQ(p.config_for(bald, 2).loop().sampler(), "topk");
}

TEST(Presets, Gal2017FollowsThePaper) {
  const Plan p = load_plan(preset_path("gal2017"));
  EXPECT_EQ(p.run.data().initial_labels(), 20);
  EXPECT_TRUE(p.run.data().initial_balanced());
  EXPECT_EQ(p.run.loop().batch_size(), 10);
  EXPECT_EQ(p.run.predictor().mc_passes(), 20);
  EXPECT_EQ(p.run.model().name(), "gal_cnn");
}

TEST(Presets, FullHasEveryRegisteredSamplerIncludingAUsersOwn) {
  register_user_sampler();
  const Plan p = load_plan(preset_path("full"));
  std::vector<std::string> samplers;
  for (const auto& a : p.arms) samplers.push_back(a.sampler);
  for (const auto& name : alx::sampling::sampler_names())
    EXPECT_NE(std::find(samplers.begin(), samplers.end(), name), samplers.end()) << name;
  const auto l = labels(p);
  EXPECT_EQ(std::count(l.begin(), l.end(), "topk"), 0) << "topk is already named through its scorers";
}

TEST(Presets, UnknownNameListsTheKnownOnes) {
  try {
    preset_path("nope");
    FAIL();
  } catch (const alx::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("quick"), std::string::npos) << e.what();
  }
}

TEST(PlanFile, ErrorsNameTheKeyAndTheFile) {
  auto expect_error = [](const std::string& text, const std::string& needle) {
    const auto p = write_plan("bad.yaml", text);
    try {
      load_plan(p.string());
      ADD_FAILURE() << "no error for:\n" << text;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.yaml"), std::string::npos) << e.what();
    }
  };
  expect_error("samplers: [random]\nseed: 3\n", "seed");
  expect_error("samplers: [random, random]\n", "twice");
  expect_error("samplers: [no_such_sampler]\n", "no_such_sampler");
  expect_error("samplers: [{label: x, sampler: topk, params: {scorer: nope}}]\n", "nope");
  expect_error("samplers: [random]\nrun: {loop: {sampler: kcenter}}\n", "run.loop.sampler");
  expect_error("samplers: [random]\nrun: {trainer: {epoch: 3}}\n", "epoch");
  expect_error("samplers: [random]\ntargets: [70]\n", "targets");
}

TEST(PlanFile, APlainRunConfigGetsTheDefaultSamplers) {
  const auto p = write_plan("run.yaml", "loop: {batch_size: 7}\n");
  const Plan plan = load_plan(p.string());
  EXPECT_EQ(plan.run.loop().batch_size(), 7);
  EXPECT_EQ(plan.arms.size(), default_arms().size());
}

TEST(SelectArms, PlanLabelsRegisteredNamesAndScorers) {
  register_user_sampler();
  Plan p = load_plan(preset_path("quick"));
  select_arms(p, {"margin", "test_lowest_index", "least_confidence", "margin"});
  ASSERT_EQ(labels(p), (std::vector<std::string>{"margin", "test_lowest_index", "least_confidence"}));
  EXPECT_EQ(p.arms[1].sampler, "test_lowest_index");
  EXPECT_EQ(p.arms[2].sampler, "topk");
  EXPECT_EQ(p.arms[2].params["scorer"].as<std::string>(), "least_confidence");
  EXPECT_THROW(select_arms(p, {"no_such_thing"}), alx::InvalidArgument);
}

TEST(Summarise, RanksByAubcAndPairsWithRandomBySeed) {
  Plan p;
  p.arms = {Arm{"random", "random", {}}, Arm{"margin", "topk", YAML::Load("{scorer: margin}")}};
  p.seeds = {1, 2};
  p.targets = {0.7};
  const std::vector<RunResult> runs = {
      run("random", 1, {{20, 0.5}, {120, 0.6}, {220, 0.7}}),   // AUBC (0.55 + 0.65) / 2 = 0.60
      run("margin", 1, {{20, 0.5}, {120, 0.7}, {220, 0.8}}),   // 0.675
      run("random", 2, {{20, 0.4}, {120, 0.6}, {220, 0.6}}),   // (0.5 + 0.6) / 2 = 0.55
      run("margin", 2, {{20, 0.4}, {120, 0.6}, {220, 0.72}}),  // (0.5 + 0.66) / 2 = 0.58
  };
  const auto s = summarise(p, runs);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].label, "margin");
  EXPECT_NEAR(s[0].aubc.mean, (0.675 + 0.58) / 2, 1e-12);
  EXPECT_NEAR(s[0].aubc_minus_random.mean, ((0.675 - 0.60) + (0.58 - 0.55)) / 2, 1e-12);
  EXPECT_NEAR(s[1].aubc.mean, 0.575, 1e-12);
  // Labels to 0.7: margin 120 and 220; random 220 in seed 1 only.
  EXPECT_EQ(s[0].targets[0].reached, 2);
  EXPECT_DOUBLE_EQ(s[0].targets[0].labels.mean, 170);
  EXPECT_EQ(s[1].targets[0].reached, 1);
  // Random's final mean accuracy 0.65: margin reaches it at 120 and 220.
  EXPECT_DOUBLE_EQ(s[0].to_random_final.target, 0.65);
  EXPECT_DOUBLE_EQ(s[0].to_random_final.labels.mean, 170);
  // The mean curve, and the paired difference to random.
  EXPECT_EQ(s[0].x, (std::vector<double>{20, 120, 220}));
  EXPECT_NEAR(s[0].mean[2], 0.76, 1e-12);
  EXPECT_NEAR(s[0].dmean[2], ((0.8 - 0.7) + (0.72 - 0.6)) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(s[0].s_predict_select.mean, 1.5);
}
