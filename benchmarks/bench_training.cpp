// bench_training — training and pool-scoring throughput of the Gal CNN on Fashion-MNIST,
// with the same work done by Debian's Python torch measured in the same run.
//
//   ./bench_training                       # all, Python baseline best of 3 launches
//   ALX_BENCH_PY_LAUNCHES=1 ./bench_training --benchmark_filter=Plain --benchmark_repetitions=1
//
// Counters: items_per_second (images/s, pool images for MC), py_items_per_second (the
// Python baseline, best over launches: Python processes land in a fast or a slow mode),
// x_python (ours / Python); cpu_items_per_second and x_python_cpu: the same per CPU
// second of the process, a measure that a busy shared machine disturbs less
// (ALX_BENCH_THREADS=1 makes it exact: no spinning OpenMP threads). Targets on a 2-core machine with OpenBLAS: plain pass over
// 60,000 images >= 7,000 img/s; MC T=20 head-only >= 3,500 pool img/s; training >= 1.2x Python.
#include <alx/augment/pipeline.h>
#include <alx/core/io/idx.h>
#include <alx/training/model.h>
#include <alx/training/predictor.h>
#include <alx/training/trainer.h>

#include <benchmark/benchmark.h>
#include <sys/resource.h>

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

/// LibTorch threads of both sides (ALX_BENCH_THREADS; 0: every core).
int bench_threads() {
  const char* env = std::getenv("ALX_BENCH_THREADS");
  return env ? std::atoi(env) : 0;
}

/// CPU seconds of this process (all threads), for a measure that a shared machine's
/// load disturbs less than wall time.
double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Rates {
  double wall = 0, cpu = 0;  ///< images per second, per CPU second
};

int python_launches() {
  const char* env = std::getenv("ALX_BENCH_PY_LAUNCHES");
  return env ? std::atoi(env) : 3;
}

/// Best images/s of measurement `key` over several launches of the Python script, run
/// just before the C++ benchmark of the same work, so that both see the same machine
/// load (this machine is shared). Cached: measured once per benchmark.
Rates python_rate(const std::string& key) {
  static std::map<std::string, Rates> cache;
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const auto script = std::filesystem::path(ALX_BENCH_DIR) / "bench_training_baseline.py";
  std::ostringstream cmd;
  cmd << ALX_PYTHON << " " << script << " --data " << ALX_FASHION_MNIST_DIR << " --passes " << kPasses
      << " --mc-full-pool " << kMcFullPool << " --mc-head-pool " << kMcHeadPool << " --train-images " << kTrainImages
      << " --threads " << bench_threads() << " --only " << key << " 2>/dev/null";
  Rates best;
  const int launches = python_launches();
  for (int l = 0; l < launches; ++l) {
    FILE* p = popen(cmd.str().c_str(), "r");
    if (!p) break;
    char name[64];
    double wall = 0, cpu = 0;
    while (std::fscanf(p, "%63s %lf %lf", name, &wall, &cpu) == 3) {
      if (key != name) continue;
      best.wall = std::max(best.wall, wall);
      best.cpu = std::max(best.cpu, cpu);
    }
    if (pclose(p) != 0) std::fprintf(stderr, "python baseline failed: %s\n", cmd.str().c_str());
  }
  if (launches > 0)
    std::fprintf(stderr, "python baseline %s: %.0f images/s, %.0f images/CPU-s (best of %d launches)\n", key.c_str(),
                 best.wall, best.cpu, launches);
  return cache[key] = best;
}

/// Runs `work` once per iteration and reports rates, CPU rates and ratios to Python.
template <class Work>
void measure(benchmark::State& state, int64_t images, const Rates& py, Work&& work) {
  double cpu = 0;
  for (auto _ : state) {
    const double c0 = process_cpu_seconds();
    work();
    cpu += process_cpu_seconds() - c0;
  }
  state.SetItemsProcessed(state.iterations() * images);
  const double ours_cpu = cpu > 0 ? state.iterations() * images / cpu : 0;
  state.counters["cpu_items_per_second"] = ours_cpu;
  if (py.wall > 0) {
    state.counters["py_items_per_second"] = py.wall;
    // Ours / Python: Python's seconds for the work divided by ours (a rate counter).
    state.counters["x_python"] = benchmark::Counter(static_cast<double>(images) / py.wall,
                                                    benchmark::Counter::kIsIterationInvariantRate);
  }
  if (py.cpu > 0) state.counters["x_python_cpu"] = ours_cpu / py.cpu;
}

std::unique_ptr<Model> gal_cnn() {
  auto m = make_model(ModelOptions().name("gal_cnn").num_classes(10));
  m->reset_parameters(1);
  return m;
}

void BM_PlainPass(benchmark::State& state) {
  auto model = gal_cnn();
  Predictor pred(PredictorOptions().batch_size(256).threads(bench_threads()));
  const auto idx = first(kPlainPool);
  measure(state, kPlainPool, python_rate("plain"),
          [&] { benchmark::DoNotOptimize(pred.probs(*model, data().images, idx)); });
}

void run_mc(benchmark::State& state, int64_t pool, const std::string& path, const std::string& masks,
            const char* key) {
  auto model = gal_cnn();
  Predictor pred(PredictorOptions().mc_passes(kPasses).path(path).masks(masks).batch_size(256).seed(1).threads(
      bench_threads()));
  const auto idx = first(pool);
  measure(state, pool, python_rate(key), [&] { benchmark::DoNotOptimize(pred.mc_samples(*model, data().images, idx)); });
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
  Trainer trainer(
      TrainerOptions().optimizer("adam").lr(1e-3).batch_size(64).epochs(1).workers(2).seed(1).threads(bench_threads()),
      pipeline);
  // CPU counters of training include the augmentation workers here, not in Python
  // (its DataLoader workers are other processes): compare training by wall time.
  measure(state, kTrainImages, python_rate("train"),
          [&] { benchmark::DoNotOptimize(trainer.fit(*model, data().images, idx, labels)); });
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
