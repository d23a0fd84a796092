// alx/augment/pipeline.h — composing transforms, the registry, and YAML.
//
// A pipeline is written in YAML as a list of {name: ..., <params>} entries; `sequence`,
// `one_of` and `random_apply` nest lists:
//
//   train:
//     - {name: random_resized_crop, height: 224, width: 224, scale: [0.08, 1.0]}
//     - {name: hflip, p: 0.5}
//     - name: random_apply
//       p: 0.8
//       transforms: [{name: color_jitter, brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1}]
//     - {name: normalize, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}
//   eval:
//     - {name: resize, size: 256}
//     - {name: center_crop, height: 224, width: 224}
//     - {name: normalize}
//
//   auto cfg = alx::augment::AugmentConfig::from_yaml(root["augment"], {"run.yaml", "augment"});
//   cv::Mat out = cfg.train.apply(image, rng);
//
// An unknown name or parameter throws alx::ConfigError naming it, where it is (file,
// line, key) and the valid choices.
#pragma once

#include <alx/augment/random.h>
#include <alx/augment/transform.h>
#include <alx/core/config.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace alx::augment {

using TransformPtr = std::shared_ptr<const Transform>;

/// "sequence": applies its transforms in order.
class Sequence : public Transform {
 public:
  Sequence() = default;
  explicit Sequence(std::vector<TransformPtr> transforms);
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "sequence"; }
  /// {transforms: [...]}
  YAML::Node params() const override;

  Sequence& add(TransformPtr t);
  const std::vector<TransformPtr>& transforms() const noexcept { return transforms_; }
  bool empty() const noexcept { return transforms_.empty(); }
  std::size_t size() const noexcept { return transforms_.size(); }

 protected:
  std::vector<TransformPtr> transforms_;
};

/// "one_of": applies one of its transforms, chosen with the given weights (equal when
/// empty; Albumentations' OneOf with p = 1).
class OneOf : public Transform {
 public:
  explicit OneOf(std::vector<TransformPtr> transforms, std::vector<double> weights = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "one_of"; }
  YAML::Node params() const override;

 private:
  std::vector<TransformPtr> transforms_;
  std::vector<double> weights_;
  std::vector<double> cumulative_;
};

/// "random_apply": applies its transforms (in order) with probability p, else none
/// (torchvision's RandomApply).
class RandomApply : public Transform {
 public:
  RandomApply(std::vector<TransformPtr> transforms, double p);
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "random_apply"; }
  YAML::Node params() const override;

 private:
  Sequence body_;
  double p_;
};

/// A top-level sequence of transforms; cheap to copy (transforms are shared, immutable).
/// An empty pipeline returns its input unchanged.
class Pipeline : public Sequence {
 public:
  Pipeline() = default;
  explicit Pipeline(std::vector<TransformPtr> transforms) : Sequence(std::move(transforms)) {}

  void apply(Sample& s, std::mt19937_64& rng) const override;
  cv::Mat apply(const cv::Mat& image, std::mt19937_64& rng) const;

  /// Builds a pipeline from a YAML list of {name: ..., <params>} (null or absent: empty).
  static Pipeline from_yaml(const YAML::Node& list, const alx::config::Context& ctx = {});
  /// The list that from_yaml reads back into an equivalent pipeline.
  YAML::Node to_yaml() const;
  /// One line per transform: "name {params}".
  std::string describe() const;
};

/// The two pipelines of a training run: `train` (random) and `eval` (deterministic, used
/// to score the pool).
struct AugmentConfig {
  Pipeline train;
  Pipeline eval;

  /// Reads a mapping with `train:` and `eval:` lists (either may be absent: empty).
  static AugmentConfig from_yaml(const YAML::Node& node, const alx::config::Context& ctx = {});
  YAML::Node to_yaml() const;
};

// ---------------------------------------------------------------- registry

/// Builds a transform from its parameters (a mapping without `name`). `ctx` names the
/// node in messages.
using TransformFactory =
    std::function<std::unique_ptr<Transform>(const YAML::Node& params, const alx::config::Context& ctx)>;

/// Adds (or replaces) a named transform, e.g. one of your own:
///
///   register_transform("invert", [](const YAML::Node& p, const alx::config::Context& c) {
///     return std::make_unique<Invert>(alx::config::read<InvertOptions>(p, c));
///   }, {"p: probability (number, default 0.5)"});
void register_transform(const std::string& name, TransformFactory factory,
                        std::vector<std::string> help = {});

/// Builds the transform called `name`. Throws alx::ConfigError for an unknown name (listing
/// the valid ones) or an unknown/invalid parameter (listing the valid parameters).
std::unique_ptr<Transform> make_transform(const std::string& name,
                                          const YAML::Node& params = YAML::Node(),
                                          const alx::config::Context& ctx = {});

/// Builds a transform from a {name: ..., <params>} entry.
std::unique_ptr<Transform> make_transform(const YAML::Node& entry, const alx::config::Context& ctx = {});

/// Every registered name, sorted.
std::vector<std::string> transform_names();

/// The parameters of a transform, one line each: "key: help (type, default value)".
std::vector<std::string> transform_help(const std::string& name);

}  // namespace alx::augment
