// The real program on a micro benchmark (2 samplers x 2 seeds x 2 rounds, 600 images): the
// files it writes, AUBC recomputed from results.csv, and a second invocation that redoes
// nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "metrics.h"

namespace fs = std::filesystem;
using alx::bench::aubc;

namespace {

struct Result {
  int rc = -1;
  std::string out;
};

Result run(const std::string& args) {
  Result r;
  const std::string cmd = std::string(ALX_BENCH) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

int count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST(BenchSamplersMicro, WritesTheReportsAndResumesWithoutRedoingRuns) {
  const fs::path out = fs::temp_directory_path() / ("alx-bench-micro-" + std::to_string(::getpid()));
  fs::remove_all(out);
  const std::string args = std::string("samplers --config ") + ALX_BENCH_MICRO + " --out " + out.string();

  const Result first = run(args);
  ASSERT_EQ(first.rc, 0) << first.out;
  for (const char* f : {"results.csv", "aubc.csv", "summary.md", "curves.png", "curves_vs_random.png", "plan.yaml",
                        "runs/random/seed-1/store.h5", "runs/margin/seed-2/store.h5", "runs/margin/seed-2/run.yaml"})
    EXPECT_TRUE(fs::exists(out / f)) << f;

  // results.csv: one row per (sampler, seed, round).
  const auto results = read_csv(out / "results.csv");
  ASSERT_EQ(results.size(), 1u + 2 * 2 * 2) << slurp(out / "results.csv");
  EXPECT_EQ(results[0][0], "sampler");
  EXPECT_EQ(results[0][3], "labeled");
  EXPECT_EQ(results[0][4], "accuracy");
  std::map<std::pair<std::string, std::string>, std::pair<std::vector<double>, std::vector<double>>> curves;
  for (std::size_t i = 1; i < results.size(); ++i) {
    auto& c = curves[{results[i][0], results[i][1]}];
    c.first.push_back(std::stod(results[i][3]));
    c.second.push_back(std::stod(results[i][4]));
  }
  ASSERT_EQ(curves.size(), 4u);
  for (const auto& [key, c] : curves) EXPECT_EQ(c.first, (std::vector<double>{20, 40})) << key.first;

  // aubc.csv agrees with AUBC recomputed from results.csv (two points: their mean).
  const auto areas = read_csv(out / "aubc.csv");
  ASSERT_EQ(areas.size(), 5u);
  EXPECT_EQ(areas[0][6], "aubc");
  for (std::size_t i = 1; i < areas.size(); ++i) {
    const auto& c = curves.at({areas[i][0], areas[i][1]});
    EXPECT_EQ(areas[i][2], "1") << "finished";
    EXPECT_NEAR(std::stod(areas[i][6]), aubc(c.first, c.second), 1e-5);
    EXPECT_NEAR(std::stod(areas[i][6]), (c.second[0] + c.second[1]) / 2, 1e-5);
  }

  const std::string md = slurp(out / "summary.md");
  for (const char* s : {"| **random**", "| **margin** (`topk {scorer: margin}`)", "AUBC", "machine:", "command:",
                        "wall time", "2/2 finished"})
    EXPECT_NE(md.find(s), std::string::npos) << s << "\n" << md;

  // A second invocation finds every run finished and changes no result.
  const std::string before = slurp(out / "results.csv");
  const Result second = run(args);
  ASSERT_EQ(second.rc, 0) << second.out;
  EXPECT_EQ(count(second.out, "done earlier"), 4) << second.out;
  EXPECT_EQ(count(second.out, "round 1/2"), 0) << second.out;
  EXPECT_EQ(slurp(out / "results.csv"), before);

  // A different configuration in the same folder is refused, not mixed in.
  const Result other = run(args + " --threads 2");
  EXPECT_NE(other.rc, 0) << other.out;
  EXPECT_NE(other.out.find("different configuration"), std::string::npos) << other.out;

  const Result report = run(args + " --report-only");
  ASSERT_EQ(report.rc, 0) << report.out;
  EXPECT_EQ(slurp(out / "results.csv"), before);
  fs::remove_all(out);
}
