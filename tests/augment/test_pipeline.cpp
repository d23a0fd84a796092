// Registry, YAML, composition, errors, reproducibility, and a conformance suite run
// over every registered transform.
#include "helpers.h"

#include <alx/augment/pipeline.h>
#include <alx/augment/random.h>
#include <alx/augment/transforms.h>
#include <alx/core/config.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace aug = alx::augment;
using aug::testing::random_image;
using aug::testing::same_mat;

namespace {

const char* kConfig = R"(augment:
  train:
    - {name: random_resized_crop, height: 32, width: 32, scale: [0.3, 1.0]}
    - {name: hflip, p: 0.5}
    - name: random_apply
      p: 0.8
      transforms:
        - {name: color_jitter, brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1}
    - name: one_of
      weights: [1, 2]
      transforms: [{name: gaussian_blur, kernel_size: 3}, {name: gaussian_noise, sigma: 0.05}]
    - grayscale
    - {name: random_erasing, p: 0.5}
    - {name: normalize, mean: [0.5], std: [0.25]}
  eval:
    - {name: resize, size: 36}
    - {name: center_crop, height: 32, width: 32}
    - to_float
)";

std::string emit(const YAML::Node& n) {
  YAML::Emitter e;
  e << n;
  return e.c_str();
}

std::string error_of(const std::string& yaml) {
  try {
    const YAML::Node root = alx::config::load_string(yaml, "augment.yaml");
    aug::AugmentConfig::from_yaml(root["augment"], {"augment.yaml", "augment"});
  } catch (const alx::ConfigError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(Pipeline, BuildsFromYamlAndRoundTrips) {
  const YAML::Node root = alx::config::load_string(kConfig, "augment.yaml");
  const auto cfg = aug::AugmentConfig::from_yaml(root["augment"], {"augment.yaml", "augment"});
  EXPECT_EQ(cfg.train.size(), 7u);
  EXPECT_EQ(cfg.eval.size(), 3u);
  const std::string text = emit(cfg.to_yaml());
  const auto again = aug::AugmentConfig::from_yaml(alx::config::load_string(text), {});
  EXPECT_EQ(emit(again.to_yaml()), text);
  const cv::Mat img = random_image(50, 40, CV_8UC3);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::mt19937_64 a(seed), b(seed);
    EXPECT_TRUE(same_mat(cfg.train.apply(img, a), again.train.apply(img, b)));
    EXPECT_TRUE(same_mat(cfg.eval.apply(img, a), again.eval.apply(img, b)));
  }
  std::mt19937_64 rng(0);
  const cv::Mat out = cfg.eval.apply(img, rng);
  EXPECT_EQ(out.size(), cv::Size(32, 32));
  EXPECT_EQ(out.type(), CV_32FC3);
  EXPECT_TRUE(contains(cfg.train.describe(), "random_resized_crop"));
}

TEST(Pipeline, EmptyPipelineIsTheIdentity) {
  const cv::Mat img = random_image(5, 5, CV_8UC3);
  std::mt19937_64 rng(1);
  EXPECT_TRUE(same_mat(aug::Pipeline().apply(img, rng), img));
  EXPECT_TRUE(aug::Pipeline::from_yaml(YAML::Node()).empty());
}

TEST(Pipeline, UnknownTransformNamesItAndListsTheValidOnes) {
  const std::string msg = error_of("augment:\n  train:\n    - {name: hflipp}\n");
  EXPECT_TRUE(contains(msg, "'hflipp'")) << msg;
  EXPECT_TRUE(contains(msg, "augment.yaml:3")) << msg;
  EXPECT_TRUE(contains(msg, "augment.train.0")) << msg;
  EXPECT_TRUE(contains(msg, "valid transforms:")) << msg;
  EXPECT_TRUE(contains(msg, "random_resized_crop")) << msg;
  EXPECT_TRUE(contains(error_of("augment:\n  train:\n    - {p: 0.5}\n"), "no 'name'"));
}

TEST(Pipeline, UnknownParameterNamesItAndListsTheValidOnes) {
  const std::string msg = error_of("augment:\n  eval:\n    - {name: hflip}\n    - {name: rotate, degree: [1, 2]}\n");
  EXPECT_TRUE(contains(msg, "'degree'")) << msg;
  EXPECT_TRUE(contains(msg, "'rotate'")) << msg;
  EXPECT_TRUE(contains(msg, "augment.yaml:4")) << msg;
  EXPECT_TRUE(contains(msg, "valid parameters: degrees, expand, interpolation, fill")) << msg;
  const std::string nested = error_of(
      "augment:\n  train:\n    - name: random_apply\n      transforms:\n        - {name: hflip, q: 1}\n");
  EXPECT_TRUE(contains(nested, "'q'") && contains(nested, "augment.train.0.transforms.0.q")) << nested;
  EXPECT_TRUE(contains(nested, "augment.yaml:5")) << nested;
  EXPECT_TRUE(contains(error_of("augment:\n  train: [{name: to_float, x: 1}]\n"), "takes no parameters"));
}

TEST(Pipeline, InvalidValuesAreConfigErrors) {
  const std::string range = error_of("augment:\n  train:\n    - {name: hflip, p: 1.5}\n");
  EXPECT_TRUE(contains(range, "augment.train.0.p") && contains(range, "range")) << range;
  const std::string type = error_of("augment:\n  train:\n    - {name: hflip, p: often}\n");
  EXPECT_TRUE(contains(type, "often")) << type;
  const std::string interp =
      error_of("augment:\n  train:\n    - {name: rotate, interpolation: spline}\n");
  EXPECT_TRUE(contains(interp, "spline") && contains(interp, "nearest, linear")) << interp;
  EXPECT_TRUE(contains(interp, "augment.yaml:3")) << interp;
  const std::string key = error_of("augment:\n  test: []\n");
  EXPECT_TRUE(contains(key, "augment.test") && contains(key, "valid keys: eval, train")) << key;
  EXPECT_TRUE(contains(error_of("augment:\n  train: {name: hflip}\n"), "expected a list"));
}

TEST(Registry, NamesHelpAndCustomTransforms) {
  const auto names = aug::transform_names();
  for (const char* n : {"resize", "center_crop", "random_crop", "random_resized_crop", "pad", "hflip",
                        "vflip", "rotate", "affine", "color_jitter", "grayscale", "gaussian_blur",
                        "gaussian_noise", "random_erasing", "normalize", "to_float", "sequence",
                        "one_of", "random_apply", "filter_objects"})
    EXPECT_TRUE(std::count(names.begin(), names.end(), n)) << n;
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  const auto help = aug::transform_help("hflip");
  ASSERT_EQ(help.size(), 1u);
  EXPECT_TRUE(contains(help[0], "p: probability of flipping")) << help[0];

  struct Invert : aug::Transform {
    void apply(aug::Sample& s, std::mt19937_64&) const override { s.image = 255 - s.image; }
    std::string name() const override { return "test_invert"; }
  };
  aug::register_transform(
      "test_invert", [](const YAML::Node&, const alx::config::Context&) { return std::make_unique<Invert>(); },
      {});
  const auto t = aug::make_transform("test_invert");
  std::mt19937_64 rng(1);
  EXPECT_EQ(t->apply_image(cv::Mat(1, 1, CV_8UC1, cv::Scalar(5)), rng).at<uchar>(0, 0), 250);
  const auto after = aug::transform_names();
  EXPECT_EQ(std::count(after.begin(), after.end(), "test_invert"), 1);
}

TEST(Composition, OneOfFollowsItsWeightsAndRandomApplyItsProbability) {
  const cv::Mat img(1, 1, CV_8UC1, cv::Scalar(100));
  std::vector<aug::TransformPtr> two{
      std::make_shared<aug::Pad>(aug::PadOptions().padding({1})),
      std::make_shared<aug::Pad>(aug::PadOptions().padding({2}))};
  aug::OneOf one_of(two, {1, 3});
  aug::RandomApply never(two, 0.0), always(two, 1.0);
  std::mt19937_64 rng(8);
  int big = 0;
  for (int i = 0; i < 4000; ++i) big += one_of.apply_image(img, rng).cols == 5;
  EXPECT_NEAR(big / 4000.0, 0.75, 0.03);
  EXPECT_EQ(never.apply_image(img, rng).cols, 1);
  EXPECT_EQ(always.apply_image(img, rng).cols, 7);
  EXPECT_THROW(aug::OneOf(two, {1}), alx::InvalidArgument);
  EXPECT_THROW(aug::OneOf({}), alx::InvalidArgument);
}

TEST(Random, SampleRngDependsOnlyOnSeedEpochItem) {
  EXPECT_EQ(aug::sample_rng(1, 2, 3)(), aug::sample_rng(1, 2, 3)());
  std::set<uint64_t> firsts;
  for (uint64_t seed = 0; seed < 4; ++seed)
    for (int64_t epoch = 0; epoch < 4; ++epoch)
      for (int64_t item = 0; item < 64; ++item) firsts.insert(aug::sample_rng(seed, epoch, item)());
  EXPECT_EQ(firsts.size(), 4u * 4 * 64);
  const auto p = aug::permutation(1000, 7, 0);
  auto sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(p, aug::permutation(1000, 7, 0));
  EXPECT_NE(p, aug::permutation(1000, 7, 1));
  EXPECT_NE(p, aug::permutation(1000, 8, 0));
  std::mt19937_64 rng(1);
  std::map<int64_t, int> counts;
  for (int i = 0; i < 6000; ++i) counts[aug::uniform_int(rng, -1, 1)]++;
  EXPECT_EQ(counts.size(), 3u);
  for (const auto& kv : counts) EXPECT_NEAR(kv.second, 2000, 150);
}

// ------------------------------------------------------------ conformance suite

namespace {

// Parameters for transforms whose defaults cannot run on every input.
YAML::Node conformance_params(const std::string& name, int channels) {
  if (name == "sequence" || name == "random_apply" || name == "one_of")
    return YAML::Load("{transforms: [{name: hflip}, {name: color_jitter, brightness: 0.5, hue: 0.2}]}");
  if (name == "normalize" && channels == 1) return YAML::Load("{mean: [0.5], std: [0.2]}");
  if (name == "random_crop") return YAML::Load("{height: 20, width: 30}");
  if (name == "center_crop") return YAML::Load("{height: 20, width: 30}");
  if (name == "random_resized_crop") return YAML::Load("{height: 24, width: 24}");
  if (name == "rotate") return YAML::Load("{degrees: [-30, 30]}");
  if (name == "affine") return YAML::Load("{degrees: [-30, 30], translate: [0.1, 0.1], scale: [0.8, 1.2], shear: [-10, 10]}");
  if (name == "color_jitter") return YAML::Load("{brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1}");
  if (name == "random_erasing") return YAML::Load("{p: 0.9}");
  if (name == "resize") return YAML::Load("{size: 20}");
  return YAML::Node(YAML::NodeType::Map);
}

}  // namespace

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, ReproducibleNonMutatingWellFormedAndRoundTrips) {
  const std::string name = GetParam();
  for (int type : {CV_8UC1, CV_8UC3, CV_32FC1, CV_32FC3}) {
    SCOPED_TRACE(name + " type " + std::to_string(type));
    const int channels = CV_MAT_CN(type);
    const auto t = aug::make_transform(name, conformance_params(name, channels));
    const auto twin = aug::make_transform(t->name(), t->params());  // params() round trip
    const cv::Mat img = random_image(48, 36, type, 3);
    const cv::Mat copy = img.clone();
    alx::Object obj;
    obj.box = {10, 8, 30, 25};
    obj.polygons = {{{10, 8}, {30, 8}, {30, 25}}};
    int changed = 0;
    for (uint64_t seed = 0; seed < 8; ++seed) {
      aug::Sample a{img, {obj}}, b{img, {obj}}, c{img, {obj}};
      std::mt19937_64 ra(seed), rb(seed), rc(seed);
      t->apply(a, ra);
      t->apply(b, rb);
      twin->apply(c, rc);
      ASSERT_TRUE(same_mat(img, copy)) << "the input was written to";
      EXPECT_TRUE(same_mat(a.image, b.image)) << "same seed, different output";
      EXPECT_TRUE(same_mat(a.image, c.image)) << "params() does not rebuild the same transform";
      EXPECT_EQ(ra(), rb());
      ASSERT_FALSE(a.image.empty());
      EXPECT_TRUE(a.image.channels() == 1 || a.image.channels() == 3);
      EXPECT_TRUE(a.image.depth() == CV_8U || a.image.depth() == CV_32F);
      cv::Mat finite = a.image.reshape(1);
      if (finite.depth() == CV_32F) {
        EXPECT_TRUE(cv::checkRange(finite));
      }
      ASSERT_EQ(a.objects.size(), b.objects.size());
      for (std::size_t k = 0; k < a.objects.size(); ++k) {
        EXPECT_EQ(a.objects[k].box, b.objects[k].box);
        EXPECT_GE(a.objects[k].box.x1, 0.f);
        EXPECT_LE(a.objects[k].box.x2, static_cast<float>(a.image.cols));
        EXPECT_LE(a.objects[k].box.y2, static_cast<float>(a.image.rows));
      }
      changed += !same_mat(a.image, img);
    }
    if (name != "filter_objects" && !(name == "to_float" && CV_MAT_DEPTH(type) == CV_32F) &&
        !(name == "grayscale" && channels == 1)) {
      EXPECT_GT(changed, 0) << "never changed the image";
    }
  }
}

TEST_P(Conformance, ClearErrorOnAnEmptyImage) {
  const std::string name = GetParam();
  if (name == "filter_objects") GTEST_SKIP() << "does not look at the image";
  const auto t = aug::make_transform(name, conformance_params(name, 3));
  std::mt19937_64 rng(0);
  aug::Sample s{cv::Mat(), {}};
  try {
    for (int i = 0; i < 20; ++i) t->apply(s, rng);  // p < 1 may skip a few times
    FAIL() << name << " accepted an empty image";
  } catch (const alx::InvalidArgument& e) {
    EXPECT_TRUE(contains(e.what(), "empty")) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(AllRegistered, Conformance,
                         ::testing::ValuesIn([] {
                           std::vector<std::string> names;
                           for (const auto& n : aug::transform_names())
                             if (n.rfind("test_", 0) != 0) names.push_back(n);
                           return names;
                         }()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });
