// Plans and presets: YAML → the arms, seeds, targets and run configuration of a benchmark.
#include <alx/core/config.h>
#include <alx/core/error.h>
#include <alx/sampling/sampler.h>
#include <alx/sampling/scorers.h>

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>

#include "bench_samplers.h"

namespace fs = std::filesystem;

namespace alx::bench {
namespace {

/// The keys of a plan file (see bench_samplers.h).
struct PlanFile {
  ALX_ARG(std::string, name) = "";
  ALX_ARG(std::string, description) = "";
  ALX_ARG(int, seeds) = 3;
  ALX_ARG(uint64_t, first_seed) = 1;
  ALX_ARG(std::vector<double>, targets) = {};
  ALX_ARG(YAML::Node, samplers) = YAML::Node();
  ALX_ARG(YAML::Node, run) = YAML::Node();

 public:
  template <class V>
  void visit(V&& v) {
    v("name", name_, "name of the benchmark (default: the file name)");
    v("description", description_, "one paragraph for the report");
    v("seeds", seeds_, "seeds per sampler", Range::at_least(1));
    v("first_seed", first_seed_, "the first seed; the others follow it");
    v("targets", targets_, "accuracies whose labels-to-reach are reported", Range{0.0, 1.0, true});
    v("samplers", samplers_, "names, {label, sampler, params} entries, or 'all'");
    v("run", run_, "the run configuration (data, model, trainer, predictor, loop, augment)");
  }
};

std::string flow(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

/// A deep copy in block style. The stored configuration identity compares emitted YAML, so
/// `{scorer: bald}` from a plan and `--param scorer=bald` from `alx simulate` must emit alike.
YAML::Node block_copy(const YAML::Node& node) {
  YAML::Node out = YAML::Clone(node);
  std::function<void(YAML::Node)> unflow = [&](YAML::Node n) {
    n.SetStyle(YAML::EmitterStyle::Block);
    if (n.IsMap())
      for (auto kv : n) unflow(kv.second);
    else if (n.IsSequence())
      for (auto e : n) unflow(e);
  };
  if (out.IsDefined() && !out.IsNull()) unflow(out);
  return out;
}

Arm registry_arm(const std::string& name) { return Arm{name, name, YAML::Node()}; }

Arm scorer_arm(const std::string& scorer) {
  YAML::Node params(YAML::NodeType::Map);
  params["scorer"] = scorer;
  return Arm{scorer, "topk", params};
}

Arm read_arm(const YAML::Node& node, const config::Context& ctx) {
  if (node.IsScalar()) return registry_arm(node.as<std::string>());
  if (!node.IsMap()) ALX_THROW(ConfigError, "{}: a sampler is a name or {{label, sampler, params}}", ctx.where(node));
  Arm arm;
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    if (key != "label" && key != "sampler" && key != "params")
      ALX_THROW(ConfigError, "{}: unknown key '{}'; valid keys: label, sampler, params", ctx.where(kv.first), key);
  }
  if (!node["sampler"]) ALX_THROW(ConfigError, "{}: a sampler entry needs 'sampler: <registered name>'", ctx.where(node));
  arm.sampler = node["sampler"].as<std::string>();
  arm.label = node["label"] ? node["label"].as<std::string>() : arm.sampler;
  if (node["params"]) arm.params = YAML::Clone(node["params"]);
  return arm;
}

/// Checks that every arm names a registered sampler with valid parameters, and that labels
/// are unique — before any run starts, not an hour into the benchmark.
void validate_arms(const std::vector<Arm>& arms, const std::string& where) {
  std::set<std::string> labels;
  for (const auto& arm : arms) {
    ALX_CHECK(!arm.label.empty(), "{}: a sampler has an empty label", where);
    ALX_CHECK(labels.insert(arm.label).second, "{}: the label '{}' appears twice; give one of them another label",
              where, arm.label);
    try {
      sampling::make_sampler(arm.sampler, arm.params, {where, "samplers." + arm.label + ".params"});
    } catch (const std::invalid_argument& e) {  // the registry does not know the file; say it
      const std::string what = e.what();
      if (what.find(where) != std::string::npos) throw;
      ALX_THROW(ConfigError, "{}: sampler '{}': {}", where, arm.label, what);
    }
  }
}

std::vector<uint64_t> seed_range(uint64_t first, int count) {
  std::vector<uint64_t> s;
  for (int i = 0; i < count; ++i) s.push_back(first + static_cast<uint64_t>(i));
  return s;
}

std::string self_dir() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ".";
  buf[n] = '\0';
  return fs::path(buf).parent_path().string();
}

std::vector<fs::path> preset_dirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("ALX_BENCH_PRESETS")) dirs.emplace_back(env);
  const fs::path exe = self_dir();
  dirs.push_back(exe / "presets");
  dirs.push_back(exe / ".." / "share" / "alx" / "bench-presets");
#ifdef ALX_BENCH_PRESETS_DIR
  dirs.emplace_back(ALX_BENCH_PRESETS_DIR);
#endif
  return dirs;
}

}  // namespace

std::string Arm::describe() const {
  if (!params.IsDefined() || params.IsNull() || (params.IsMap() && params.size() == 0)) return sampler;
  return sampler + " " + flow(params);
}

training::RunConfig Plan::config_for(const Arm& arm, uint64_t seed) const {
  training::RunConfig c = run;
  c.loop().sampler(arm.sampler).sampler_params(arm.params.IsDefined() ? block_copy(arm.params) : YAML::Node());
  c.loop().seed(seed);
  return c;
}

std::vector<Arm> default_arms() {
  return {registry_arm("random"), scorer_arm("entropy"), scorer_arm("margin"),
          scorer_arm("bald"),     registry_arm("kcenter"), registry_arm("badge")};
}

Plan load_plan(const std::string& path) {
  const YAML::Node root = config::load_file(path);
  const config::Context ctx{path, ""};
  Plan plan;
  plan.source = path;
  plan.name = fs::path(path).stem().string();
  plan.seeds = seed_range(1, 3);
  if (!root.IsMap()) ALX_THROW(ConfigError, "{}: a plan is a mapping (name, seeds, samplers, run)", path);

  if (!root["run"] && !root["samplers"]) {  // a plain run configuration
    plan.run = training::RunConfig::from_yaml(root, ctx);
    plan.arms = default_arms();
    validate_arms(plan.arms, path);
    return plan;
  }

  const auto file = config::read<PlanFile>(root, ctx);
  if (!file.name().empty()) plan.name = file.name();
  plan.description = file.description();
  plan.seeds = seed_range(file.first_seed(), file.seeds());
  plan.targets = file.targets();

  if (root["run"]) plan.run = training::RunConfig::from_yaml(root["run"], ctx.child("run"));
  if (root["run"] && root["run"]["loop"] && (root["run"]["loop"]["sampler"] || root["run"]["loop"]["sampler_params"]))
    ALX_THROW(ConfigError, "{}: run.loop.sampler is set per entry of 'samplers', not in run", ctx.where(root["run"]["loop"]));

  const YAML::Node list = root["samplers"];
  if (!list) {
    plan.arms = default_arms();
  } else {
    const config::Context lctx = ctx.child("samplers");
    std::vector<YAML::Node> entries;
    if (list.IsSequence()) {
      for (const auto& e : list) entries.push_back(e);
    } else {
      entries.push_back(list);
    }
    bool all = false;
    for (const auto& e : entries) {
      if (e.IsScalar() && e.as<std::string>() == "all") {
        all = true;
        continue;
      }
      plan.arms.push_back(read_arm(e, lctx));
    }
    if (all) {  // every registered sampler not already named by an entry
      std::set<std::string> named, labels;
      for (const auto& a : plan.arms) named.insert(a.sampler), labels.insert(a.label);
      for (const auto& name : sampling::sampler_names())
        if (!named.count(name) && !labels.count(name)) plan.arms.push_back(registry_arm(name));
    }
    if (plan.arms.empty()) ALX_THROW(ConfigError, "{}: no samplers", lctx.where(list));
  }
  validate_arms(plan.arms, path);
  return plan;
}

std::string preset_path(const std::string& name) {
  std::vector<std::string> tried;
  for (const auto& dir : preset_dirs()) {
    const fs::path p = dir / (name + ".yaml");
    if (fs::is_regular_file(p)) return fs::weakly_canonical(p).string();
    tried.push_back(dir.string());
  }
  const auto names = preset_names();
  ALX_THROW(InvalidArgument, "no preset '{}' (known: {}; searched {})", name,
            names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")),
            fmt::join(tried, ", "));
}

std::vector<std::string> preset_names() {
  std::set<std::string> names;
  for (const auto& dir : preset_dirs()) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".yaml") names.insert(e.path().stem().string());
  }
  return {names.begin(), names.end()};
}

void select_arms(Plan& plan, const std::vector<std::string>& names) {
  std::vector<Arm> chosen;
  for (const auto& raw : names) {
    const std::string name = raw;
    if (name.empty()) continue;
    auto it = std::find_if(plan.arms.begin(), plan.arms.end(), [&](const Arm& a) { return a.label == name; });
    if (it != plan.arms.end()) {
      chosen.push_back(*it);
    } else if (name == "all") {
      for (const auto& s : sampling::sampler_names()) chosen.push_back(registry_arm(s));
    } else {
      const auto known = sampling::sampler_names();
      if (std::find(known.begin(), known.end(), name) != known.end()) {
        chosen.push_back(registry_arm(name));
      } else if (sampling::has_scorer(name)) {
        chosen.push_back(scorer_arm(name));
      } else {
        std::vector<std::string> labels;
        for (const auto& a : plan.arms) labels.push_back(a.label);
        ALX_THROW(InvalidArgument,
                  "--samplers: '{}' is neither a sampler of the plan ({}), a registered sampler ({}) nor a scorer ({})",
                  name, fmt::join(labels, ", "), fmt::join(known, ", "), fmt::join(sampling::scorer_names(), ", "));
      }
    }
  }
  // Keep the first of duplicate labels (e.g. "margin,margin").
  std::vector<Arm> unique;
  for (auto& a : chosen)
    if (std::none_of(unique.begin(), unique.end(), [&](const Arm& u) { return u.label == a.label; }))
      unique.push_back(std::move(a));
  ALX_CHECK(!unique.empty(), "--samplers: no sampler chosen");
  validate_arms(unique, "--samplers");
  plan.arms = std::move(unique);
}

}  // namespace alx::bench
