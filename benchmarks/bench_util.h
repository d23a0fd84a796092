// Shared by the Google Benchmark programs: print the command and the machine, and after
// the run every benchmark's throughput as a ratio to a baseline measured in the same run.
#pragma once

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace alx::bench {

inline std::string machine() {
  std::ifstream cpu("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpu, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return fmt::format("{} ({} hardware threads), host {}", model, std::thread::hardware_concurrency(), host);
}

/// Console output plus a ratio table: items_per_second of each run / that of `baseline_of(name)`.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  using BaselineOf = std::string (*)(const std::string& name);
  explicit RatioReporter(BaselineOf baseline_of) : baseline_of_(baseline_of) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      auto it = r.counters.find("items_per_second");
      if (it != r.counters.end()) rate_[r.benchmark_name()] = it->second.value;
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nratios (items/s of the run / items/s of its baseline, same process):\n");
    for (const auto& [name, rate] : rate_) {
      const std::string base = baseline_of_(name);
      auto it = rate_.find(base);
      if (base.empty() || base == name || it == rate_.end()) continue;
      std::printf("  %-60s %8.3fx  vs %s\n", name.c_str(), rate / it->second, base.c_str());
    }
  }

 private:
  BaselineOf baseline_of_;
  std::map<std::string, double> rate_;
};

/// Runs all registered benchmarks with a RatioReporter; prints command and machine first.
inline int run_with_ratios(int argc, char** argv, RatioReporter::BaselineOf baseline_of) {
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  std::printf("command: %s\nmachine: %s\n", command.c_str(), machine().c_str());
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter(baseline_of);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace alx::bench
