#include <alx/augment/pipeline.h>
#include <alx/core/error.h>
#include <alx/core/io/csv.h>
#include <alx/core/io/folder.h>
#include <alx/core/io/idx.h>
#include <alx/core/log.h>
#include <alx/training/experiment.h>

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>

namespace alx::training {
namespace {

/// First `m` of a seeded shuffle of `items` (all of them when m == 0), sorted.
std::vector<int64_t> random_subset(std::vector<int64_t> items, int64_t m, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::shuffle(items.begin(), items.end(), rng);
  if (m > 0 && m < static_cast<int64_t>(items.size())) items.resize(static_cast<std::size_t>(m));
  std::sort(items.begin(), items.end());
  return items;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

/// Restricts a dataset to `keep` (sorted pool indices): ids, labels, objects, images.
Dataset subset(const Dataset& ds, const std::vector<int64_t>& keep) {
  std::vector<std::string> ids;
  ids.reserve(keep.size());
  for (int64_t i : keep) ids.push_back(ds.pool.id(i));
  Dataset out;
  out.pool = Pool(ds.pool.schema(), ids);
  std::vector<int64_t> idx;
  std::vector<int> lab;
  for (std::size_t j = 0; j < keep.size(); ++j) {
    if (ds.pool.is_labeled(keep[j])) {
      idx.push_back(static_cast<int64_t>(j));
      lab.push_back(ds.pool.label(keep[j]));
    }
    if (!ds.pool.objects(keep[j]).empty()) out.pool.set_objects(static_cast<int64_t>(j), ds.pool.objects(keep[j]));
  }
  out.pool.add_labels(idx, lab, 0);
  out.images = std::make_shared<SubsetImageSource>(ds.images, keep);
  out.source = ds.source;
  out.notes = ds.notes;
  return out;
}

/// YAML of the config without the keys that may change between a run and its resumption.
std::string identity_yaml(const RunConfig& c) {
  RunConfig copy = c;
  copy.loop().rounds(1).budget(0);
  return copy.to_yaml();
}

}  // namespace

RunConfig RunConfig::defaults() {
  RunConfig c;
  c.data().dataset("fashion_mnist").path(io::kFashionMnistDir).initial_labels(20).test_size(10000);
  c.model().name("gal_cnn").num_classes(10).in_channels(1).image_size(28);
  c.trainer().optimizer("adam").lr(1e-3).epochs(30).batch_size(64).workers(1);
  c.predictor().batch_size(256).mc_passes(20).masks("per_item");
  c.loop().sampler("topk").sampler_params(YAML::Load("{scorer: margin}")).batch_size(100).rounds(10)
      .pool_subsample(10000);
  return c;
}

RunConfig RunConfig::from_yaml(const YAML::Node& node, const config::Context& ctx) {
  RunConfig c = defaults();
  config::read_into(node, c, ctx);
  return c;
}

RunConfig RunConfig::load(const std::string& path) {
  return from_yaml(config::load_file(path), {path, ""});
}

std::string RunConfig::to_yaml() const {
  YAML::Emitter out;
  out << config::write(*this);
  return out.c_str();
}

SimulationData load_simulation_data(const DataOptions& options, uint64_t seed) {
  SimulationData sd;
  Dataset all, test;
  if (options.dataset() == "fashion_mnist") {
    all = io::load_fashion_mnist(options.path(), "train");
    test = io::load_fashion_mnist(options.path(), "test");
  } else if (options.dataset() == "folder" || options.dataset() == "csv") {
    Dataset ds = options.dataset() == "folder" ? io::read_folder_tree(options.path())
                                               : io::read_csv(options.path());
    const auto labeled = random_subset(ds.pool.labeled(), 0, round_seed(seed, 0, "split"));
    const auto n_test = static_cast<std::size_t>(options.test_fraction() * static_cast<double>(labeled.size()));
    std::vector<int64_t> test_idx(labeled.begin(), labeled.begin() + static_cast<std::ptrdiff_t>(n_test));
    std::vector<int64_t> pool_idx(labeled.begin() + static_cast<std::ptrdiff_t>(n_test), labeled.end());
    std::sort(test_idx.begin(), test_idx.end());
    std::sort(pool_idx.begin(), pool_idx.end());
    test = subset(ds, test_idx);
    all = subset(ds, pool_idx);
  } else {
    ALX_THROW(InvalidArgument, "data.dataset must be fashion_mnist, folder or csv, got '{}'", options.dataset());
  }
  if (options.pool_size() > 0)
    all = subset(all, random_subset(iota(all.pool.size()), options.pool_size(), round_seed(seed, 0, "pool")));
  const auto test_keep = random_subset(iota(test.pool.size()), options.test_size(), round_seed(seed, 0, "test"));

  sd.truth = all.pool.labels();
  all.pool.clear_labels();
  sd.pool = std::move(all);
  sd.test_images = test.images;
  sd.test_indices = test_keep;
  for (int64_t i : test_keep) sd.test_labels.push_back(test.pool.label(i));
  return sd;
}

Simulation::Simulation(RunConfig config, const std::string& store_path) : config_(std::move(config)) {
  const uint64_t seed = config_.loop().seed();
  data_ = load_simulation_data(config_.data(), seed);
  const Schema& schema = data_.pool.pool.schema();
  ALX_CHECK(config_.model().num_classes() == schema.size(),
            "model.num_classes is {} but the data set has {} classes", config_.model().num_classes(),
            schema.size());

  if (std::filesystem::exists(store_path)) {
    store_ = std::make_unique<Store>(Store::open(store_path));
    ALX_CHECK(store_->pool().ids() == data_.pool.pool.ids(),
              "store '{}' holds a different pool than the configured data; use a new output folder",
              store_path);
    const auto stored = store_->meta("config_identity");
    ALX_CHECK(!stored || *stored == identity_yaml(config_),
              "store '{}' was made with a different configuration (only loop.rounds and loop.budget "
              "may change when resuming); use a new output folder",
              store_path);
    log::info("resuming '{}' after round {} ({} labeled)", store_path, store_->last_round(),
              store_->pool().num_labeled());
  } else {
    // Initial labels: revealed in round 0, balanced over classes when asked.
    Pool pool = data_.pool.pool;
    std::mt19937_64 rng(round_seed(seed, 0, "initial"));
    std::vector<int64_t> order = iota(pool.size());
    std::shuffle(order.begin(), order.end(), rng);
    const int64_t want = std::min<int64_t>(config_.data().initial_labels(), pool.size());
    std::vector<int64_t> chosen;
    if (config_.data().initial_balanced()) {
      std::vector<int64_t> per_class(static_cast<std::size_t>(schema.size()), 0);
      const int64_t quota = (want + schema.size() - 1) / schema.size();
      for (int64_t i : order) {
        if (static_cast<int64_t>(chosen.size()) == want) break;
        auto& n = per_class[static_cast<std::size_t>(data_.truth[static_cast<std::size_t>(i)])];
        if (n < quota) ++n, chosen.push_back(i);
      }
    } else {
      chosen.assign(order.begin(), order.begin() + want);
    }
    std::vector<int> labels;
    for (int64_t i : chosen) labels.push_back(data_.truth[static_cast<std::size_t>(i)]);
    pool.add_labels(chosen, labels, 0);
    store_ = std::make_unique<Store>(Store::create(store_path, std::move(pool)));
    store_->set_meta("config", config_.to_yaml());
    store_->set_meta("config_identity", identity_yaml(config_));
    store_->save();
  }

  const auto aug = augment::AugmentConfig::from_yaml(config_.augment(), {"<config>", "augment"});
  LoopParts parts;
  parts.model = make_model(config_.model());
  parts.trainer = config_.trainer();
  parts.predictor = config_.predictor();
  parts.train_pipeline = std::make_shared<augment::Pipeline>(aug.train);
  parts.eval_pipeline = std::make_shared<augment::Pipeline>(aug.eval);
  parts.images = data_.pool.images;
  parts.store = store_.get();
  parts.oracle = std::make_shared<TruthOracle>(data_.truth);
  parts.eval_images = data_.test_images;
  parts.eval_indices = data_.test_indices;
  parts.eval_labels = data_.test_labels;
  loop_ = std::make_unique<ActiveLoop>(config_.loop(), std::move(parts));
}

Simulation::~Simulation() = default;

}  // namespace alx::training
