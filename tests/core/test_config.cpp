#include <alx/core/config.h>

#include <gtest/gtest.h>

#include "alx_test_util.h"

namespace {

struct OptimOptions {
  ALX_ARG(std::string, name) = "adam";
  ALX_ARG(double, lr) = 1e-3;

 public:
  template <class V>
  void visit(V&& v) {
    v("name", name_, "optimizer: adam or sgd");
    v("lr", lr_, "learning rate", alx::Range::positive());
  }
};

struct TrainOptions {
  ALX_ARG(int, epochs) = 10;
  ALX_ARG(bool, shuffle) = true;
  ALX_ARG(std::vector<double>, mean) = std::vector<double>{0.5};
  ALX_ARG(OptimOptions, optim);

 public:
  template <class V>
  void visit(V&& v) {
    v("epochs", epochs_, "passes over the labeled set", alx::Range::at_least(1));
    v("shuffle", shuffle_, "shuffle every epoch");
    v("mean", mean_, "per-channel mean", alx::Range::between(0, 1));
    v("optim", optim_, "optimizer");
  }
};

std::string error_of(const std::string& yaml) {
  try {
    auto node = alx::config::load_string(yaml, "run.yaml");
    alx::config::read<TrainOptions>(node["train"], {"run.yaml", "train"});
  } catch (const alx::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

static_assert(alx::is_options_v<TrainOptions>);
static_assert(!alx::is_options_v<int>);

TEST(Config, ChainedSettersAndDefaults) {
  auto o = TrainOptions().epochs(3).shuffle(false);
  EXPECT_EQ(o.epochs(), 3);
  EXPECT_FALSE(o.shuffle());
  EXPECT_EQ(o.optim().name(), "adam");
}

TEST(Config, ReadsTypedValuesAndNestedOptions) {
  auto node = alx::config::load_string(
      "train:\n  epochs: 4\n  shuffle: false\n  mean: [0.1, 0.2, 0.3]\n  optim: {name: sgd, lr: 0.1}\n");
  auto o = alx::config::read<TrainOptions>(node["train"], {"x.yaml", "train"});
  EXPECT_EQ(o.epochs(), 4);
  EXPECT_FALSE(o.shuffle());
  EXPECT_EQ(o.mean(), (std::vector<double>{0.1, 0.2, 0.3}));
  EXPECT_EQ(o.optim().name(), "sgd");
  EXPECT_DOUBLE_EQ(o.optim().lr(), 0.1);
  // Absent keys keep their defaults.
  auto d = alx::config::read<TrainOptions>(alx::config::load_string("train: {epochs: 2}")["train"], {});
  EXPECT_EQ(d.epochs(), 2);
  EXPECT_TRUE(d.shuffle());
}

TEST(Config, UnknownKeyNamesKeyFileAndValidKeys) {
  EXPECT_EQ(error_of("train:\n  epoch: 3\n"),
            "run.yaml:2: train.epoch: unknown key; valid keys: epochs, mean, optim, shuffle");
  EXPECT_EQ(error_of("train:\n  optim:\n    momentum: 0.9\n"),
            "run.yaml:3: train.optim.momentum: unknown key; valid keys: lr, name");
}

TEST(Config, WrongTypeAndRange) {
  EXPECT_EQ(error_of("train:\n  epochs: three\n"),
            "run.yaml:2: train.epochs: expected an integer, got 'three'");
  EXPECT_EQ(error_of("train:\n  epochs: 2.5\n"),
            "run.yaml:2: train.epochs: expected an integer, got '2.5'");
  EXPECT_EQ(error_of("train:\n  epochs: 0\n"),
            "run.yaml:2: train.epochs: value 0 is out of range [1, inf]");
  EXPECT_EQ(error_of("train:\n  shuffle: maybe\n"),
            "run.yaml:2: train.shuffle: expected a boolean (true/false), got 'maybe'");
  EXPECT_EQ(error_of("train:\n  mean: 0.5\n"), "run.yaml:2: train.mean: expected a list of numbers");
  EXPECT_EQ(error_of("train:\n  optim: {lr: -1}\n"),
            "run.yaml:2: train.optim.lr: value -1 is out of range (0, inf]");
  // Integers beyond any integer type are refused before a conversion (found by fuzz_config).
  EXPECT_EQ(error_of("train:\n  epochs: 268435e56\n"),
            "run.yaml:2: train.epochs: expected an integer, got '268435e56'");
  EXPECT_EQ(error_of("train:\n  epochs: -1e30\n"),
            "run.yaml:2: train.epochs: expected an integer, got '-1e30'");
  EXPECT_EQ(error_of("train:\n  epochs: 4294967297\n"),
            "run.yaml:2: train.epochs: expected an integer, got '4294967297'");
}

TEST(Config, MalformedYamlNamesFileAndLine) {
  alx::test::TempDir dir;
  alx::test::write_text(dir.path() / "bad.yaml", "train:\n  epochs: [1, 2\n  x: 1\n");
  try {
    alx::config::load_file(dir.str("bad.yaml"));
    FAIL();
  } catch (const alx::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not valid YAML"), std::string::npos) << e.what();
  }
  EXPECT_THROW(alx::config::load_file(dir.str("absent.yaml")), alx::IoError);
}

TEST(Config, WriteAndHelpUseTheSameFieldList) {
  TrainOptions o;
  o.epochs(7);
  YAML::Node n = alx::config::write(o);
  EXPECT_EQ(n["epochs"].as<int>(), 7);
  EXPECT_EQ(n["optim"]["name"].as<std::string>(), "adam");
  auto back = alx::config::read<TrainOptions>(n, {});
  EXPECT_EQ(back.epochs(), 7);
  auto lines = alx::config::help<TrainOptions>();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "epochs: passes over the labeled set (integer, default 10)");
  EXPECT_EQ(lines[4], "optim.lr: learning rate (number, default 0.001)");
}
