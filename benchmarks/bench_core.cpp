// bench_core: reading Fashion-MNIST (70,000 images) into a Pool + ImageSource, next to a
// plain gzip read of the same files in the same run (the ratio is the figure).
//
//   build/benchmarks/bench_core
#include <alx/core/io/idx.h>

#include <benchmark/benchmark.h>

#include "bench_util.h"
#include <zlib.h>

#include <string>
#include <vector>

namespace {

const std::vector<std::string> kFiles = {
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz"};

/// Baseline: gunzip the four files into memory, nothing else.
void BM_PlainGzipRead(benchmark::State& state) {
  std::vector<char> buf(1 << 20);
  for (auto _ : state) {
    std::size_t total = 0;
    for (const auto& f : kFiles) {
      gzFile in = gzopen((std::string(ALX_FASHION_MNIST_DIR) + "/" + f).c_str(), "rb");
      int got;
      while ((got = gzread(in, buf.data(), static_cast<unsigned>(buf.size()))) > 0) total += got;
      gzclose(in);
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(state.iterations() * 70000);
}

/// alx: both splits into a Pool (ids, labels) + MemoryImageSource, then every image loaded.
void BM_AlxLoadFashionMnist(benchmark::State& state) {
  for (auto _ : state) {
    uint64_t checksum = 0;
    for (const char* split : {"train", "test"}) {
      auto ds = alx::io::load_fashion_mnist(ALX_FASHION_MNIST_DIR, split);
      for (int64_t i = 0; i < ds.images->size(); ++i) checksum += ds.images->load(i).at<uint8_t>(14, 14);
      benchmark::DoNotOptimize(ds.pool.num_labeled());
    }
    benchmark::DoNotOptimize(checksum);
  }
  state.SetItemsProcessed(state.iterations() * 70000);
}

}  // namespace

BENCHMARK(BM_PlainGzipRead)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_AlxLoadFashionMnist)->Unit(benchmark::kMillisecond)->MinTime(2.0);
int main(int argc, char** argv) {
  return alx::bench::run_with_ratios(argc, argv, [](const std::string& name) -> std::string {
    return name.find("BM_Alx") == 0 ? "BM_PlainGzipRead/min_time:2.000" : "";
  });
}
