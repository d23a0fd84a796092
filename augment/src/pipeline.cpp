// Composition (sequence, one_of, random_apply), the registry and YAML I/O.
#include "detail.h"

#include <alx/augment/pipeline.h>
#include <alx/augment/random.h>
#include <alx/augment/transforms.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>

namespace alx::augment {

using alx::config::Context;

namespace {

YAML::Node entry_yaml(const Transform& t) {
  YAML::Node node(YAML::NodeType::Map);
  node["name"] = t.name();
  for (const auto& kv : t.params()) node[kv.first.as<std::string>()] = kv.second;
  return node;
}

YAML::Node list_yaml(const std::vector<TransformPtr>& transforms) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (const auto& t : transforms) list.push_back(entry_yaml(*t));
  return list;
}

std::vector<TransformPtr> build_list(const YAML::Node& list, const Context& ctx) {
  std::vector<TransformPtr> out;
  if (!list.IsDefined() || list.IsNull()) return out;
  if (!list.IsSequence())
    ALX_THROW(ConfigError, "{}: expected a list of transforms ({{name: ..., <params>}} entries)",
              ctx.where(list));
  for (std::size_t i = 0; i < list.size(); ++i)
    out.push_back(make_transform(list[i], ctx.child(std::to_string(i))));
  return out;
}

// ------------------------------------------------------------ registry

struct Entry {
  TransformFactory factory;
  std::vector<std::string> help;
  std::optional<std::vector<std::string>> keys;  // nullopt: the factory checks its keys
};

std::vector<std::string> keys_of(const std::vector<std::string>& help) {
  std::vector<std::string> keys;
  for (const auto& line : help) keys.push_back(line.substr(0, line.find(':')));
  return keys;
}

template <class T, class Options>
void add_builtin(std::map<std::string, Entry>& r, const std::string& name) {
  auto help = alx::config::help<Options>();
  auto keys = keys_of(help);
  r[name] = Entry{[](const YAML::Node& p, const Context& ctx) -> std::unique_ptr<Transform> {
                    return std::make_unique<T>(alx::config::read<Options>(p, ctx));
                  },
                  std::move(help), std::move(keys)};
}

// Parameters of the composites other than their `transforms` list.
struct RandomApplyOptions {
  ALX_ARG(double, p) = 0.5;

 public:
  template <class V>
  void visit(V&& v) {
    v("p", p_, "probability of applying the transforms", Range::probability());
  }
};
struct OneOfOptions {
  ALX_ARG(std::vector<double>, weights);

 public:
  template <class V>
  void visit(V&& v) {
    v("weights", weights_, "relative weight of each transform (default: equal)", Range::at_least(0));
  }
};

YAML::Node without(const YAML::Node& params, const char* key) {
  YAML::Node out(YAML::NodeType::Map);
  if (!params.IsMap()) return out;
  for (const auto& kv : params)
    if (kv.first.as<std::string>() != key) out[kv.first.as<std::string>()] = kv.second;
  return out;
}

const std::string kTransformsHelp =
    "transforms: the transforms, a list of {name: ..., <params>} (list, default [])";

std::map<std::string, Entry> builtins() {
  std::map<std::string, Entry> r;
  add_builtin<Resize, ResizeOptions>(r, "resize");
  add_builtin<CenterCrop, CropOptions>(r, "center_crop");
  add_builtin<RandomCrop, RandomCropOptions>(r, "random_crop");
  add_builtin<RandomResizedCrop, RandomResizedCropOptions>(r, "random_resized_crop");
  add_builtin<Pad, PadOptions>(r, "pad");
  add_builtin<HorizontalFlip, FlipOptions>(r, "hflip");
  add_builtin<VerticalFlip, FlipOptions>(r, "vflip");
  add_builtin<Rotate, RotateOptions>(r, "rotate");
  add_builtin<Affine, AffineOptions>(r, "affine");
  add_builtin<ColorJitter, ColorJitterOptions>(r, "color_jitter");
  add_builtin<Grayscale, GrayscaleOptions>(r, "grayscale");
  add_builtin<GaussianBlur, GaussianBlurOptions>(r, "gaussian_blur");
  add_builtin<GaussianNoise, GaussianNoiseOptions>(r, "gaussian_noise");
  add_builtin<RandomErasing, RandomErasingOptions>(r, "random_erasing");
  add_builtin<Normalize, NormalizeOptions>(r, "normalize");
  add_builtin<FilterObjects, FilterObjectsOptions>(r, "filter_objects");
  r["to_float"] = Entry{[](const YAML::Node&, const Context&) -> std::unique_ptr<Transform> {
                          return std::make_unique<ToFloat>();
                        },
                        {}, std::vector<std::string>{}};
  r["sequence"] = Entry{[](const YAML::Node& p, const Context& ctx) -> std::unique_ptr<Transform> {
                          return std::make_unique<Sequence>(
                              build_list(p["transforms"], ctx.child("transforms")));
                        },
                        {kTransformsHelp}, std::vector<std::string>{"transforms"}};
  {
    auto help = alx::config::help<RandomApplyOptions>();
    help.push_back(kTransformsHelp);
    r["random_apply"] = Entry{
        [](const YAML::Node& p, const Context& ctx) -> std::unique_ptr<Transform> {
          const auto o = alx::config::read<RandomApplyOptions>(without(p, "transforms"), ctx);
          return std::make_unique<RandomApply>(build_list(p["transforms"], ctx.child("transforms")),
                                               o.p());
        },
        help, keys_of(help)};
  }
  {
    auto help = alx::config::help<OneOfOptions>();
    help.push_back(kTransformsHelp);
    r["one_of"] = Entry{
        [](const YAML::Node& p, const Context& ctx) -> std::unique_ptr<Transform> {
          const auto o = alx::config::read<OneOfOptions>(without(p, "transforms"), ctx);
          return std::make_unique<OneOf>(build_list(p["transforms"], ctx.child("transforms")),
                                         o.weights());
        },
        help, keys_of(help)};
  }
  return r;
}

struct Registry {
  std::mutex mutex;
  std::map<std::string, Entry> entries = builtins();
};

Registry& registry() {
  static Registry r;
  return r;
}

std::string joined_names() { return fmt::format("{}", fmt::join(transform_names(), ", ")); }

// Unknown parameters are caught here, where the key nodes still carry their line.
void check_keys(const std::string& name, const Entry& e, const YAML::Node& node, bool skip_name,
                const Context& ctx) {
  if (!e.keys || !node.IsMap()) return;
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (skip_name && key == "name") continue;
    if (std::find(e.keys->begin(), e.keys->end(), key) != e.keys->end()) continue;
    if (e.keys->empty())
      ALX_THROW(ConfigError, "{}: unknown parameter '{}': transform '{}' takes no parameters",
                ctx.child(key).where(kv.first), key, name);
    ALX_THROW(ConfigError, "{}: unknown parameter '{}' of transform '{}'; valid parameters: {}",
              ctx.child(key).where(kv.first), key, name, fmt::join(*e.keys, ", "));
  }
}

Entry find_entry(const std::string& name, const YAML::Node& where_node, const Context& ctx) {
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.entries.find(name);
    if (it != r.entries.end()) return it->second;
  }
  ALX_THROW(ConfigError, "{}: unknown transform '{}'; valid transforms: {}", ctx.where(where_node),
            name, joined_names());
}

std::unique_ptr<Transform> build(const std::string& name, const Entry& e, const YAML::Node& params,
                                 const YAML::Node& where_node, const Context& ctx) {
  try {
    auto t = e.factory(params, ctx);
    ALX_THROW_IF_NOT(ConfigError, t != nullptr, "{}: the factory of transform '{}' returned nothing",
                     ctx.where(where_node), name);
    return t;
  } catch (const ConfigError& err) {
    throw ConfigError(fmt::format("{} (transform '{}')", err.what(), name), err.where());
  } catch (const InvalidArgument& err) {
    throw ConfigError(fmt::format("{}: {}", ctx.where(where_node), err.what()), err.where());
  }
}

}  // namespace

void register_transform(const std::string& name, TransformFactory factory,
                        std::vector<std::string> help) {
  ALX_CHECK(!name.empty(), "register_transform: the name must not be empty");
  ALX_CHECK(static_cast<bool>(factory), "register_transform('{}'): the factory is empty", name);
  Entry e{std::move(factory), std::move(help), std::nullopt};
  if (!e.help.empty()) e.keys = keys_of(e.help);
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.entries[name] = std::move(e);
}

std::vector<std::string> transform_names() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& kv : r.entries) names.push_back(kv.first);
  return names;
}

std::vector<std::string> transform_help(const std::string& name) {
  return find_entry(name, YAML::Node(), {}).help;
}

std::unique_ptr<Transform> make_transform(const std::string& name, const YAML::Node& params,
                                          const Context& ctx) {
  const Entry e = find_entry(name, params, ctx);
  if (params.IsDefined() && !params.IsNull() && !params.IsMap())
    ALX_THROW(ConfigError, "{}: the parameters of transform '{}' must be a mapping",
              ctx.where(params), name);
  check_keys(name, e, params, false, ctx);
  return build(name, e, params.IsDefined() ? params : YAML::Node(YAML::NodeType::Map), params, ctx);
}

std::unique_ptr<Transform> make_transform(const YAML::Node& entry, const Context& ctx) {
  if (entry.IsScalar()) {  // "- hflip": the defaults
    const std::string name = entry.Scalar();
    const Entry e = find_entry(name, entry, ctx);
    return build(name, e, YAML::Node(YAML::NodeType::Map), entry, ctx);
  }
  if (!entry.IsMap())
    ALX_THROW(ConfigError, "{}: expected a transform, {{name: ..., <params>}}; valid names: {}",
              ctx.where(entry), joined_names());
  const YAML::Node name_node = entry["name"];
  if (!name_node.IsDefined() || !name_node.IsScalar())
    ALX_THROW(ConfigError, "{}: the transform has no 'name'; valid names: {}", ctx.where(entry),
              joined_names());
  const std::string name = name_node.Scalar();
  const Entry e = find_entry(name, name_node, ctx.child("name"));
  check_keys(name, e, entry, true, ctx);
  return build(name, e, without(entry, "name"), entry, ctx);
}

// ------------------------------------------------------------ composites

Sequence::Sequence(std::vector<TransformPtr> transforms) : transforms_(std::move(transforms)) {
  for (const auto& t : transforms_) ALX_CHECK(t != nullptr, "sequence: a transform is null");
}

void Sequence::apply(Sample& s, std::mt19937_64& rng) const {
  for (const auto& t : transforms_) t->apply(s, rng);
}

YAML::Node Sequence::params() const {
  YAML::Node node(YAML::NodeType::Map);
  node["transforms"] = list_yaml(transforms_);
  return node;
}

Sequence& Sequence::add(TransformPtr t) {
  ALX_CHECK(t != nullptr, "sequence: cannot add a null transform");
  transforms_.push_back(std::move(t));
  return *this;
}

OneOf::OneOf(std::vector<TransformPtr> transforms, std::vector<double> weights)
    : transforms_(std::move(transforms)), weights_(std::move(weights)) {
  ALX_CHECK(!transforms_.empty(), "one_of: needs at least one transform");
  for (const auto& t : transforms_) ALX_CHECK(t != nullptr, "one_of: a transform is null");
  ALX_CHECK(weights_.empty() || weights_.size() == transforms_.size(),
            "one_of: {} weights for {} transforms", weights_.size(), transforms_.size());
  double total = 0;
  for (std::size_t i = 0; i < transforms_.size(); ++i) {
    const double w = weights_.empty() ? 1.0 : weights_[i];
    ALX_CHECK(w >= 0, "one_of: weights must be >= 0, got {}", w);
    total += w;
    cumulative_.push_back(total);
  }
  ALX_CHECK(total > 0, "one_of: the weights sum to 0");
}

void OneOf::apply(Sample& s, std::mt19937_64& rng) const {
  const double u = uniform(rng, 0.0, cumulative_.back());
  std::size_t k = static_cast<std::size_t>(
      std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin());
  k = std::min(k, transforms_.size() - 1);
  transforms_[k]->apply(s, rng);
}

YAML::Node OneOf::params() const {
  YAML::Node node(YAML::NodeType::Map);
  node["transforms"] = list_yaml(transforms_);
  if (!weights_.empty()) node["weights"] = weights_;
  return node;
}

RandomApply::RandomApply(std::vector<TransformPtr> transforms, double p)
    : body_(std::move(transforms)), p_(p) {
  ALX_CHECK(p >= 0 && p <= 1, "random_apply: p must be in [0, 1], got {}", p);
}

void RandomApply::apply(Sample& s, std::mt19937_64& rng) const {
  if (bernoulli(rng, p_)) body_.apply(s, rng);
}

YAML::Node RandomApply::params() const {
  YAML::Node node(YAML::NodeType::Map);
  node["p"] = p_;
  node["transforms"] = list_yaml(body_.transforms());
  return node;
}

// ------------------------------------------------------------ Pipeline

void Pipeline::apply(Sample& s, std::mt19937_64& rng) const { Sequence::apply(s, rng); }

cv::Mat Pipeline::apply(const cv::Mat& image, std::mt19937_64& rng) const {
  Sample s{image, {}};
  Sequence::apply(s, rng);
  return s.image;
}

Pipeline Pipeline::from_yaml(const YAML::Node& list, const Context& ctx) {
  return Pipeline(build_list(list, ctx));
}

YAML::Node Pipeline::to_yaml() const { return list_yaml(transforms_); }

std::string Pipeline::describe() const {
  std::string out;
  for (const auto& t : transforms_) {
    YAML::Emitter e;
    e << YAML::Flow << t->params();
    out += fmt::format("{} {}\n", t->name(), e.c_str());
  }
  return out;
}

AugmentConfig AugmentConfig::from_yaml(const YAML::Node& node, const Context& ctx) {
  AugmentConfig cfg;
  if (!node.IsDefined() || node.IsNull()) return cfg;
  if (!node.IsMap())
    ALX_THROW(ConfigError, "{}: expected a mapping with 'train' and 'eval' lists", ctx.where(node));
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (key != "train" && key != "eval")
      ALX_THROW(ConfigError, "{}: unknown key; valid keys: eval, train", ctx.child(key).where(kv.first));
  }
  cfg.train = Pipeline::from_yaml(node["train"], ctx.child("train"));
  cfg.eval = Pipeline::from_yaml(node["eval"], ctx.child("eval"));
  return cfg;
}

YAML::Node AugmentConfig::to_yaml() const {
  YAML::Node node(YAML::NodeType::Map);
  node["train"] = train.to_yaml();
  node["eval"] = eval.to_yaml();
  return node;
}

}  // namespace alx::augment
