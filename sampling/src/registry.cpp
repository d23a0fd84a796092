#include "common.h"
#include "impl.h"

#include <map>
#include <mutex>
#include <set>

namespace alx::sampling {
namespace {

template <class Opts>
SamplerInfo stochastic_info(const std::string& name, detail::Stochastic kind,
                            const std::string& summary) {
  SamplerInfo info;
  info.name = name;
  info.summary = summary;
  info.factory = [kind](const YAML::Node& params, const config::Context& ctx) {
    return std::unique_ptr<Sampler>(
        std::make_unique<detail::StochasticSampler>(kind, config::read<Opts>(params, ctx)));
  };
  info.params_help = [] { return config::help<Opts>(); };
  return info;
}

struct Registry {
  std::mutex mu;
  std::map<std::string, SamplerInfo> entries;
  std::set<std::string> builtin;

  template <class S, class Opts>
  void add(const std::string& name, const std::string& summary) {
    SamplerInfo info;
    info.name = name;
    info.summary = summary;
    info.factory = [](const YAML::Node& params, const config::Context& ctx) {
      return std::unique_ptr<Sampler>(std::make_unique<S>(config::read<Opts>(params, ctx)));
    };
    info.params_help = [] { return config::help<Opts>(); };
    add(std::move(info));
  }
  void add(SamplerInfo info) {
    builtin.insert(info.name);
    entries[info.name] = std::move(info);
  }

  Registry() {
    using namespace detail;
    add<RandomSampler, RandomOptions>("random", "uniformly random unlabeled items");
    add<TopKSampler, TopKOptions>("topk", "the k highest scores of an uncertainty scorer");
    add(stochastic_info<StochasticOptions>(
        "power", Stochastic::kPower,
        "draw k without replacement with p ∝ score^beta (Kirsch et al. 2023)"));
    add(stochastic_info<StochasticOptions>(
        "softmax", Stochastic::kSoftmax,
        "draw k without replacement with p ∝ exp(beta·score) (Kirsch et al. 2023)"));
    add(stochastic_info<StochasticOptions>(
        "softrank", Stochastic::kSoftrank,
        "draw k without replacement with p ∝ rank^-beta (Kirsch et al. 2023)"));
    add<KCenterSampler, KCenterOptions>(
        "kcenter", "core-set greedy k-center on embeddings (Sener & Savarese 2018)");
    add<BadgeSampler, BadgeOptions>(
        "badge", "k-means++ seeding on gradient embeddings (Ash et al. 2020)");
    add<ClusterMarginSampler, ClusterMarginOptions>(
        "cluster_margin",
        "lowest-margin candidates, round-robin over average-linkage clusters (Citovsky et al. "
        "2021)");
    add<BatchBaldSampler, BatchBaldOptions>(
        "batchbald", "greedy joint mutual information with the model (Kirsch et al. 2019)");
    add<TypiclustSampler, TypiclustOptions>(
        "typiclust", "most typical item of the largest uncovered k-means cluster (Hacohen et al. "
                     "2022)");
    add<ClassBalancedSampler, ClassBalancedOptions>(
        "class_balanced", "an inner sampler run with an equal quota per predicted class");
    add<HybridSampler, HybridOptions>(
        "hybrid", "top-M most uncertain items, then k diverse ones among them");
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

const char* kSubsampleHelp =
    "subsample: if > 0, consider (and score) only a random this many unlabeled items "
    "(integer, default 0)";

}  // namespace

void register_sampler(SamplerInfo info) {
  ALX_CHECK(!info.name.empty(), "register_sampler: empty name");
  ALX_CHECK(static_cast<bool>(info.factory), "register_sampler('{}'): empty factory", info.name);
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  ALX_CHECK(!r.builtin.count(info.name), "register_sampler: '{}' is a built-in sampler",
            info.name);
  if (!info.params_help) info.params_help = [] { return std::vector<std::string>{}; };
  r.entries[info.name] = std::move(info);
}

static SamplerInfo find_info(const std::string& name) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.entries.find(name);
  if (it == r.entries.end()) {
    std::string known;
    for (const auto& kv : r.entries) known += (known.empty() ? "" : ", ") + kv.first;
    ALX_THROW(InvalidArgument, "unknown sampler '{}'; known samplers: {}", name, known);
  }
  return it->second;
}

std::unique_ptr<Sampler> make_sampler(const std::string& name, const YAML::Node& params,
                                      const config::Context& ctx) {
  const SamplerInfo info = find_info(name);
  YAML::Node own;
  int64_t subsample = 0;
  if (params.IsDefined() && !params.IsNull()) {
    if (!params.IsMap())
      throw ConfigError(fmt::format("{}: parameters of sampler '{}' must be a mapping",
                                    ctx.where(params), name));
    own = YAML::Node(YAML::NodeType::Map);
    for (const auto& kv : params) {
      const std::string key = kv.first.as<std::string>();
      if (key == "subsample") {
        subsample = config::detail::convert_scalar<int64_t>(kv.second, ctx.child(key));
        if (subsample < 0)
          throw ConfigError(
              fmt::format("{}: subsample must be >= 0", ctx.child(key).where(kv.second)));
      } else {
        own[key] = kv.second;
      }
    }
  }
  std::unique_ptr<Sampler> s = info.factory(own, ctx);
  ALX_CHECK(s != nullptr, "sampler factory '{}' returned null", name);
  if (subsample > 0) s = std::make_unique<detail::SubsampleSampler>(std::move(s), subsample);
  return s;
}

std::vector<std::string> sampler_names() {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> names;
  for (const auto& kv : r.entries) names.push_back(kv.first);
  return names;
}

std::vector<std::string> sampler_params(const std::string& name) {
  std::vector<std::string> lines = find_info(name).params_help();
  lines.emplace_back(kSubsampleHelp);
  return lines;
}

std::string sampler_summary(const std::string& name) { return find_info(name).summary; }

}  // namespace alx::sampling
