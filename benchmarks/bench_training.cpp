// bench_training — training and pool-scoring throughput of the Gal CNN on Fashion-MNIST,
// with the same work done by Debian's Python torch measured in the same run.
//
//   ./bench_training                       # all, Python baseline best of 3 launches
//   ALX_BENCH_PY_LAUNCHES=1 ./bench_training --benchmark_filter=Plain --benchmark_repetitions=1
//
// Counters: items_per_second (images/s, pool images for MC), py_items_per_second (the
// Python baseline, best over launches: Python processes land in a fast or a slow mode),
// x_python (ours / Python). Targets on a 2-core machine with OpenBLAS: plain pass over
// 60,000 images >= 7,000 img/s; MC T=20 head-only >= 3,500 pool img/s; training >= 1.2x Python.
#include <alx/augment/pipeline.h>
#include <alx/core/io/idx.h>
#include <alx/training/model.h>
#include <alx/training/predictor.h>
#include <alx/training/trainer.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>

namespace {

using namespace alx;
using namespace alx::training;

constexpr int kPasses = 20;
constexpr int64_t kPlainPool = 60000;
constexpr int64_t kMcFullPool = 1000;   // full passes are slow: a smaller pool, same rate
constexpr int64_t kMcHeadPool = 2000;
constexpr int64_t kMcFoldedPool = 10000;
constexpr int64_t kTrainImages = 10000;

const Dataset& data() {
  static Dataset d = io::load_fashion_mnist(ALX_FASHION_MNIST_DIR, "train");
  return d;
}

std::vector<int64_t> first(int64_t n) {
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

int python_launches() {
  const char* env = std::getenv("ALX_BENCH_PY_LAUNCHES");
  return env ? std::atoi(env) : 3;
}

/// Best images/s of measurement `key` over several launches of the Python script, run
/// just before the C++ benchmark of the same work, so that both see the same machine
/// load (this machine is shared). Cached: measured once per benchmark.
double python_rate(const std::string& key) {
  static std::map<std::string, double> cache;
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const auto script = std::filesystem::path(__FILE__).parent_path() / "bench_training_baseline.py";
  std::ostringstream cmd;
  cmd << ALX_PYTHON << " " << script << " --data " << ALX_FASHION_MNIST_DIR << " --passes " << kPasses
      << " --mc-full-pool " << kMcFullPool << " --mc-head-pool " << kMcHeadPool << " --train-images " << kTrainImages
      << " --only " << key << " 2>/dev/null";
  double best = 0;
  const int launches = python_launches();
  for (int l = 0; l < launches; ++l) {
    FILE* p = popen(cmd.str().c_str(), "r");
    if (!p) break;
    char name[64];
    double value = 0;
    while (std::fscanf(p, "%63s %lf", name, &value) == 2)
      if (key == name) best = std::max(best, value);
    if (pclose(p) != 0) std::fprintf(stderr, "python baseline failed: %s\n", cmd.str().c_str());
  }
  if (launches > 0) std::fprintf(stderr, "python baseline %s: %.0f images/s (best of %d launches)\n", key.c_str(), best, launches);
  return cache[key] = best;
}

void report(benchmark::State& state, int64_t images, double python) {
  state.SetItemsProcessed(state.iterations() * images);
  if (python > 0) {
    state.counters["py_items_per_second"] = python;
    // Ours / Python: Python's seconds for the work divided by ours (a rate counter).
    state.counters["x_python"] = benchmark::Counter(static_cast<double>(images) / python,
                                                    benchmark::Counter::kIsIterationInvariantRate);
  }
}

std::unique_ptr<Model> gal_cnn() {
  auto m = make_model(ModelOptions().name("gal_cnn").num_classes(10));
  m->reset_parameters(1);
  return m;
}

void BM_PlainPass(benchmark::State& state) {
  auto model = gal_cnn();
  Predictor pred(PredictorOptions().batch_size(256));
  const auto idx = first(kPlainPool);
  const double py = python_rate("plain");
  for (auto _ : state) benchmark::DoNotOptimize(pred.probs(*model, data().images, idx));
  report(state, kPlainPool, py);
}

void run_mc(benchmark::State& state, int64_t pool, const std::string& path, const std::string& masks,
            const char* key) {
  auto model = gal_cnn();
  Predictor pred(PredictorOptions().mc_passes(kPasses).path(path).masks(masks).batch_size(256).seed(1));
  const auto idx = first(pool);
  const double py = python_rate(key);
  for (auto _ : state) benchmark::DoNotOptimize(pred.mc_samples(*model, data().images, idx));
  report(state, pool, py);
}

void BM_McFull_T20(benchmark::State& state) { run_mc(state, kMcFullPool, "full", "per_item", "mc_full"); }
void BM_McHead_T20(benchmark::State& state) { run_mc(state, kMcHeadPool, "head", "per_item", "mc_head"); }
/// The fast path: one mask per pass, folded into the first dense layer. Compared with
/// the Python head-only loop, the fastest thing a user would write.
void BM_McHeadFolded_T20(benchmark::State& state) {
  run_mc(state, kMcFoldedPool, "head", "fixed", "mc_head");
}

void BM_Train(benchmark::State& state) {
  auto model = gal_cnn();
  auto pipeline = std::make_shared<augment::Pipeline>(augment::Pipeline::from_yaml(YAML::Load(
      "[{name: pad, padding: [2]}, {name: random_crop, height: 28, width: 28}, {name: hflip, p: 0.5}]")));
  const auto idx = first(kTrainImages);
  std::vector<int> labels;
  for (auto i : idx) labels.push_back(data().pool.label(i));
  Trainer trainer(TrainerOptions().optimizer("adam").lr(1e-3).batch_size(64).epochs(1).workers(2).seed(1), pipeline);
  const double py = python_rate("train");
  for (auto _ : state) benchmark::DoNotOptimize(trainer.fit(*model, data().images, idx, labels));
  report(state, kTrainImages, py);
}

}  // namespace

BENCHMARK(BM_PlainPass)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_McFull_T20)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_McHead_T20)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_McHeadFolded_T20)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_Train)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  data();  // read the IDX files before anything is timed
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
