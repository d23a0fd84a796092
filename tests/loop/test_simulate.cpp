// `alx simulate`: a real process on Fashion-MNIST, killed mid-round and resumed.
#include <alx/core/store.h>
#include <alx/training/experiment.h>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "loop_test_util.h"

using namespace alx::test;

namespace {

const char* kConfig =
    "data: {pool_size: 1500, test_size: 400, initial_labels: 20}\n"
    "trainer: {epochs: 3, batch_size: 32, threads: 2, workers: 1}\n"
    "predictor: {threads: 2}\n"
    "loop: {rounds: 4, batch_size: 10, sampler: topk, sampler_params: {scorer: margin}, seed: 3}\n";

int data_lines(const std::filesystem::path& csv) {
  std::ifstream in(csv);
  std::string line;
  int n = -1;  // header
  while (std::getline(in, line)) ++n;
  return std::max(n, 0);
}

}  // namespace

TEST(Simulate, KilledMidRoundResumesToTheSameResult) {
  TempDir dir;
  write_text(dir.path() / "run.yaml", kConfig);
  const std::string args = "simulate --config '" + dir.str("run.yaml") + "' --out ";

  // The reference: one uninterrupted run.
  CliRun a = run_alx(args + "'" + dir.str("a") + "'", dir.path());
  ASSERT_EQ(a.rc, 0) << a.out << a.err;
  EXPECT_NE(a.out.find("reached 4 rounds"), std::string::npos) << a.out;
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "a/curve.png"));
  EXPECT_EQ(data_lines(dir.path() / "a/curve.csv"), 4);

  // The same run, killed with SIGKILL once two rounds are stored, during the third.
  const pid_t child = fork();
  if (child == 0) {
    const std::string cmd = std::string(ALX_CLI) + " " + args + "'" + dir.str("b") + "' > /dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (data_lines(dir.path() / "b/curve.csv") < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // into round 3
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before it could be killed";
  {
    alx::Store partial = alx::Store::open(dir.str("b/store.h5"));
    EXPECT_GE(partial.last_round(), 2);
    EXPECT_LT(partial.last_round(), 4);
    EXPECT_EQ(partial.pool().num_labeled(), 20 + 10 * partial.last_round()) << "every label kept";
  }

  CliRun b = run_alx(args + "'" + dir.str("b") + "'", dir.path());
  ASSERT_EQ(b.rc, 0) << b.out << b.err;
  EXPECT_NE(b.out.find("(stored)"), std::string::npos) << "finished rounds were not recomputed:\n" << b.out;

  alx::Store sa = alx::Store::open(dir.str("a/store.h5"));
  alx::Store sb = alx::Store::open(dir.str("b/store.h5"));
  ASSERT_EQ(sa.rounds().size(), 4u);
  ASSERT_EQ(sb.rounds().size(), 4u);
  for (std::size_t r = 0; r < 4; ++r) {
    SCOPED_TRACE(r);
    EXPECT_EQ(sa.rounds()[r].selected_ids, sb.rounds()[r].selected_ids);
    EXPECT_DOUBLE_EQ(sa.rounds()[r].metrics.at("accuracy"), sb.rounds()[r].metrics.at("accuracy"));
  }
  EXPECT_TRUE(sa.pool() == sb.pool());
}

TEST(Simulate, BudgetStopsTheLoopAndStatusReportsIt) {
  TempDir dir;
  write_text(dir.path() / "run.yaml",
             "data: {pool_size: 800, test_size: 200, initial_labels: 20}\n"
             "trainer: {epochs: 2, threads: 2, workers: 1}\n"
             "loop: {rounds: 10, budget: 50, batch_size: 15}\n");
  CliRun r = run_alx("simulate --config '" + dir.str("run.yaml") + "' --sampler random --out '" + dir.str("o") + "'",
                  dir.path());
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("budget of 50 labels reached"), std::string::npos) << r.out;
  CliRun st = run_alx("status --store '" + dir.str("o/store.h5") + "'", dir.path());
  ASSERT_EQ(st.rc, 0) << st.err;
  EXPECT_NE(st.out.find("800 items, 50 labeled"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("rounds:   2"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("Ankle boot"), std::string::npos) << st.out;

  // Bad configuration: one line naming the key and the file, exit code 2.
  write_text(dir.path() / "bad.yaml", "loop: {batch_sise: 3}\n");
  CliRun bad = run_alx("simulate --config '" + dir.str("bad.yaml") + "' --out '" + dir.str("o2") + "'", dir.path());
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("bad.yaml:1: loop.batch_sise: unknown key"), std::string::npos) << bad.err;
}

TEST(Simulate, ShippedDefaultConfigEqualsTheBuiltInDefaults) {
  const auto shipped = alx::training::RunConfig::load(std::string(ALX_SOURCE_DIR) + "/examples/configs/fashion_mnist.yaml");
  EXPECT_EQ(shipped.to_yaml(), alx::training::RunConfig::defaults().to_yaml());
}
