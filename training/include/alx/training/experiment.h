// alx/training/experiment.h — a whole run from one YAML file: data, model, trainer,
// predictor, augmentation and loop, and the simulated labeling of a labeled data set.
//
//   data:      {dataset: fashion_mnist, initial_labels: 20, test_size: 10000}
//   model:     {name: gal_cnn}
//   trainer:   {epochs: 30, lr: 0.001}
//   predictor: {mc_passes: 20}
//   augment:   {train: [...], eval: [...]}
//   loop:      {sampler: topk, sampler_params: {scorer: margin}, batch_size: 100, rounds: 10}
//
//   auto config = RunConfig::load("run.yaml");
//   Simulation sim(config, "out/store.h5");     // resumes when the store exists
//   sim.loop().run();
#pragma once

#include <alx/core/config.h>
#include <alx/core/dataset.h>
#include <alx/core/store.h>
#include <alx/training/loop.h>

#include <memory>
#include <string>

namespace alx::training {

struct DataOptions {
  /// fashion_mnist (IDX files), folder (folder-per-class tree) or csv (image,label table).
  ALX_ARG(std::string, dataset) = "fashion_mnist";
  /// fashion_mnist: folder of the IDX files; folder: the tree; csv: the table file.
  ALX_ARG(std::string, path) = "/usr/share/datasets/fashion-mnist";
  /// folder / csv: fraction of the items held out for evaluation (fashion_mnist uses its test split).
  ALX_ARG(double, test_fraction) = 0.2;
  /// Use a random subset of this many items as the pool (0: all).
  ALX_ARG(int64_t, pool_size) = 0;
  /// Evaluate on a random subset of this many held-out items (0: all).
  ALX_ARG(int64_t, test_size) = 0;
  /// Labels revealed before the first round.
  ALX_ARG(int64_t, initial_labels) = 20;
  /// Spread the initial labels evenly over the classes.
  ALX_ARG(bool, initial_balanced) = true;

 public:
  template <class V>
  void visit(V&& v) {
    v("dataset", dataset_, "fashion_mnist, folder or csv");
    v("path", path_, "IDX folder, class-folder tree or CSV table");
    v("test_fraction", test_fraction_, "held-out fraction for folder/csv data", Range::between(0, 0.9));
    v("pool_size", pool_size_, "random subset of the items used as pool (0: all)", Range::at_least(0));
    v("test_size", test_size_, "random subset of the held-out items (0: all)", Range::at_least(0));
    v("initial_labels", initial_labels_, "labels revealed before the first round", Range::at_least(1));
    v("initial_balanced", initial_balanced_, "spread the initial labels evenly over classes");
  }
};

/// The whole configuration of a run.
struct RunConfig {
  ALX_ARG(DataOptions, data);
  ALX_ARG(ModelOptions, model);
  ALX_ARG(TrainerOptions, trainer);
  ALX_ARG(PredictorOptions, predictor);
  ALX_ARG(LoopOptions, loop);
  /// {train: [...], eval: [...]} transform lists (see alx/augment/pipeline.h).
  ALX_ARG(YAML::Node, augment) = YAML::Node();

 public:
  template <class V>
  void visit(V&& v) {
    v("data", data_, "the data set");
    v("model", model_, "the model");
    v("trainer", trainer_, "training");
    v("predictor", predictor_, "prediction over the pool");
    v("loop", loop_, "the active loop");
    v("augment", augment_, "augmentation pipelines: {train: [...], eval: [...]}");
  }

  /// The built-in default: Fashion-MNIST, Gal CNN, margin top-k, 20 + 10 × 100 labels.
  static RunConfig defaults();
  /// Defaults overridden by a YAML file; errors name the key and the file.
  static RunConfig load(const std::string& path);
  static RunConfig from_yaml(const YAML::Node& node, const config::Context& ctx);
  /// The configuration as YAML text (stored with every run).
  std::string to_yaml() const;
};

/// A data set split into a pool (labels hidden behind an oracle) and a held-out set.
struct SimulationData {
  Dataset pool;                 ///< every label removed; the truth is in `truth`
  std::vector<int> truth;       ///< ground truth per pool item
  std::shared_ptr<const ImageSource> test_images;
  std::vector<int64_t> test_indices;
  std::vector<int> test_labels;
};

/// Loads the data of `options` and splits it (deterministic for `seed`).
SimulationData load_simulation_data(const DataOptions& options, uint64_t seed);

/// A simulated run: the pool's labels are hidden behind a TruthOracle, a store keeps
/// every round, and an existing store is resumed (it must have been made by the same
/// configuration, apart from loop.rounds and loop.budget).
class Simulation {
 public:
  Simulation(RunConfig config, const std::string& store_path);
  ~Simulation();

  ActiveLoop& loop() { return *loop_; }
  Store& store() { return *store_; }
  const RunConfig& config() const noexcept { return config_; }
  const SimulationData& data() const noexcept { return data_; }

 private:
  RunConfig config_;
  SimulationData data_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ActiveLoop> loop_;
};

}  // namespace alx::training
