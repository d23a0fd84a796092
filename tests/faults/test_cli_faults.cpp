// The `alx` program under faults: SIGKILL at 20 random moments of a run, a full disk during
// a store write, and a second process on the same store.
#include <alx/core/store.h>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "alx_test_util.h"

namespace fs = std::filesystem;
using alx::Store;
using alx::test::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

// A micro run: 300 pool images, 6 rounds of 10, one epoch, one thread.
const char* kConfig =
    "data: {pool_size: 300, test_size: 100, initial_labels: 20}\n"
    "trainer: {epochs: 1, batch_size: 32, threads: 1, workers: 1}\n"
    "predictor: {threads: 1}\n"
    "loop: {rounds: 6, batch_size: 10, sampler: topk, sampler_params: {scorer: margin}, seed: 5}\n";
constexpr int kRounds = 6, kInitial = 20, kBatch = 10;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Starts `alx <args>` with stdout/stderr in <log>.out/.err; with `max_file_bytes` >= 0 the
/// process may not write files larger than that (SIGXFSZ ignored: writes fail with EFBIG,
/// as they fail with ENOSPC on a full disk).
pid_t spawn_alx(const std::string& args, const fs::path& log, long max_file_bytes = -1) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (max_file_bytes >= 0) {
      signal(SIGXFSZ, SIG_IGN);
      struct rlimit lim = {static_cast<rlim_t>(max_file_bytes),
                           static_cast<rlim_t>(max_file_bytes)};
      setrlimit(RLIMIT_FSIZE, &lim);
    }
    const std::string cmd = "exec '" + std::string(ALX_CLI) + "' " + args + " > '" + log.string() +
                            ".out' 2> '" + log.string() + ".err'";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

/// Waits for the process; returns its exit code, or 128 + signal.
int wait_rc(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string simulate_args(const TempDir& dir, const std::string& out) {
  return "simulate --config '" + dir.str("run.yaml") + "' --out '" + dir.str(out) + "'";
}

/// Label and label round of every labeled item.
std::map<int64_t, std::pair<int, int>> labels_of(const alx::Pool& pool) {
  std::map<int64_t, std::pair<int, int>> out;
  for (int64_t i = 0; i < pool.size(); ++i)
    if (pool.is_labeled(i)) out[i] = {pool.label(i), pool.label_round(i)};
  return out;
}

void expect_same_run(const Store& a, const Store& b) {
  ASSERT_EQ(a.rounds().size(), b.rounds().size());
  for (std::size_t r = 0; r < a.rounds().size(); ++r) {
    SCOPED_TRACE("round " + std::to_string(r + 1));
    EXPECT_EQ(a.rounds()[r].selected_ids, b.rounds()[r].selected_ids);
    EXPECT_EQ(a.rounds()[r].metrics, b.rounds()[r].metrics);
  }
  EXPECT_TRUE(a.pool() == b.pool());
}

}  // namespace

// SIGKILL at 20 moments drawn uniformly over the length of an uninterrupted run (start-up,
// training, prediction, mid-save …), each time starting the run again on the same folder.
// After every kill the store opens, every label stored before is still there with its class
// and round, and labels only arrive with finished rounds. A run that completes between kills
// must equal the uninterrupted run; then the next trials start a fresh folder.
TEST(CliFaults, KilledAtTwentyRandomMomentsEveryLabelIsKept) {
  TempDir dir;
  alx::test::write_text(dir.path() / "run.yaml", kConfig);

  const auto t0 = Clock::now();
  ASSERT_EQ(wait_rc(spawn_alx(simulate_args(dir, "ref"), dir.path() / "ref")), 0)
      << slurp(dir.path() / "ref.err");
  const double run_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  const Store ref = Store::open(dir.str("ref/store.h5"));
  ASSERT_EQ(ref.last_round(), kRounds);

  std::mt19937 rng(20261201);
  std::uniform_real_distribution<double> moment(0.0, run_ms);
  int kills = 0, completed = 0, folder = 0, opened = 0;
  std::map<int64_t, std::pair<int, int>> before;
  int last_round_before = 0;
  while (kills < 20) {
    const std::string out = "run" + std::to_string(folder);
    const fs::path store = dir.path() / out / "store.h5";
    const pid_t pid = spawn_alx(simulate_args(dir, out), dir.path() / out);
    const auto deadline =
        Clock::now() + std::chrono::microseconds(static_cast<long>(moment(rng) * 1000));
    int status = 0;
    pid_t done = 0;
    while (Clock::now() < deadline && (done = waitpid(pid, &status, WNOHANG)) == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (done != pid) {
      // The run may finish between the last poll and the kill: then it exited, not died.
      ASSERT_EQ(kill(pid, SIGKILL), 0);
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      if (WIFEXITED(status)) done = pid;
    }
    if (done == pid) {  // finished before its moment came: the whole run must be right
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << slurp(dir.path() / (out + ".err"));
      const Store s = Store::open(store.string());
      expect_same_run(ref, s);
      ++completed;
      ++folder;
      before.clear();
      last_round_before = 0;
      continue;
    }
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ++kills;
    SCOPED_TRACE("kill " + std::to_string(kills) + " of " + out);
    if (!fs::exists(store)) {  // killed before the store was first renamed into place
      ASSERT_TRUE(before.empty());
      continue;
    }
    ++opened;
    const Store s = Store::open(store.string());  // never half-written: opens after any kill
    const auto now = labels_of(s.pool());
    for (const auto& [i, lr] : before) {
      auto it = now.find(i);
      ASSERT_TRUE(it != now.end()) << "item " << i << " lost its label";
      EXPECT_EQ(it->second, lr) << "item " << i << " changed its label or round";
    }
    EXPECT_GE(s.last_round(), last_round_before);
    EXPECT_EQ(s.pool().num_labeled(), kInitial + kBatch * s.last_round());
    before = now;
    last_round_before = s.last_round();
  }
  // The interrupted folder runs to its end and equals the uninterrupted run.
  const std::string out = "run" + std::to_string(folder);
  ASSERT_EQ(wait_rc(spawn_alx(simulate_args(dir, out), dir.path() / out)), 0)
      << slurp(dir.path() / (out + ".err"));
  const Store last = Store::open(dir.str(out + "/store.h5"));
  EXPECT_EQ(last.last_round(), kRounds);
  expect_same_run(ref, last);
  std::printf(
      "[ kills ] 20 kills (%d with a store to check), %d runs completed between kills, "
      "uninterrupted run %.1f s\n",
      opened, completed, run_ms / 1000);
}

// A second `alx simulate` on the output folder of a running one is refused by the store's
// lock with a message naming the store, and changes nothing; the first finishes normally.
TEST(CliFaults, SecondProcessOnOneStoreIsRefused) {
  TempDir dir;
  alx::test::write_text(dir.path() / "run.yaml", kConfig);
  const std::string args = simulate_args(dir, "out") + " --rounds 20";  // 220 of 300 labeled
  const pid_t first = spawn_alx(args, dir.path() / "first");
  const auto deadline = Clock::now() + std::chrono::minutes(3);
  while (!fs::exists(dir.path() / "out/store.h5") && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs::exists(dir.path() / "out/store.h5"));
  int status = 0;
  ASSERT_EQ(waitpid(first, &status, WNOHANG), 0) << "the first run ended too early";

  const int rc = wait_rc(spawn_alx(args, dir.path() / "second"));
  const std::string err = slurp(dir.path() / "second.err");
  EXPECT_EQ(rc, 1) << err;
  EXPECT_NE(err.find("in use by another alx process"), std::string::npos) << err;
  EXPECT_NE(err.find(dir.str("out/store.h5")), std::string::npos) << err;

  ASSERT_EQ(wait_rc(first), 0) << slurp(dir.path() / "first.err");
  const Store s = Store::open(dir.str("out/store.h5"));
  EXPECT_EQ(s.last_round(), 20);
  EXPECT_EQ(s.pool().num_labeled(), kInitial + kBatch * 20);
}

// A full disk while `alx simulate` saves a round: the run stops with a message saying that
// the store could not be written and that its previous state is intact, and it is.
// (The process used to die afterwards with SIGSEGV in HDF5's library shutdown, which still
// held the .tmp file whose close had failed; Store::save now builds the file in memory.)
TEST(CliFaults, FullDiskDuringASaveKeepsTheStoreAndSaysSo) {
  TempDir dir;
  alx::test::write_text(dir.path() / "run.yaml", kConfig);
  ASSERT_EQ(wait_rc(spawn_alx(simulate_args(dir, "out") + " --rounds 2", dir.path() / "a")), 0)
      << slurp(dir.path() / "a.err");
  const std::string path = dir.str("out/store.h5");
  const auto labels_before = labels_of(Store::open(path).pool());
  const long size = static_cast<long>(fs::file_size(path));

  // No file may grow beyond the current store: the next save cannot complete.
  const int rc =
      wait_rc(spawn_alx(simulate_args(dir, "out") + " --rounds 4", dir.path() / "b", size));
  const std::string err = slurp(dir.path() / "b.err");
  EXPECT_EQ(rc, 1) << err;
  EXPECT_NE(err.find("could not write store '" + path + "'"), std::string::npos) << err;
  EXPECT_NE(err.find("previous state in '" + path + "' is intact"), std::string::npos) << err;

  {
    const Store s = Store::open(path);
    EXPECT_EQ(s.last_round(), 2);
    EXPECT_EQ(labels_of(s.pool()), labels_before);
    EXPECT_FALSE(fs::exists(path + ".tmp"));
  }
  // With room again, the run resumes and finishes.
  ASSERT_EQ(wait_rc(spawn_alx(simulate_args(dir, "out") + " --rounds 4", dir.path() / "c")), 0)
      << slurp(dir.path() / "c.err");
  EXPECT_EQ(Store::open(path).last_round(), 4);
}

// `alx round --max-pixels N` reaches the reader: an image whose header claims more pixels
// (or, without the flag, a pixel bomb over the default 2^28) stops the round with exit code
// != 0 and one line naming the file and the item, before the store is touched.
TEST(CliFaults, RoundObeysMaxPixels) {
  TempDir dir;
  // Eight 40x30 images (1200 pixels), four of them labeled, in a Label Studio export.
  std::string tasks;
  for (int i = 0; i < 8; ++i) {
    const std::string name = "img" + std::to_string(i) + ".png";
    alx::test::write_pattern_image(dir.path() / "images" / name, 40, 30, 3, 40 * i);
    std::string annotations;
    if (i < 4)
      annotations = R"([{"result": [{"from_name": "choice", "to_name": "image", "type": "choices",
                         "value": {"choices": [")" +
                    std::string(i % 2 ? "cat" : "dog") + R"("]}}]}])";
    tasks += std::string(i ? ",\n" : "") + R"({"id": )" + std::to_string(i + 1) +
             R"(, "data": {"image": ")" + name + R"("}, "annotations": )" +
             (annotations.empty() ? "[]" : annotations) + "}";
  }
  alx::test::write_text(dir.path() / "export.json", "[" + tasks + "]");
  alx::test::write_text(dir.path() / "run.yaml",
                        "trainer: {epochs: 1, batch_size: 4, threads: 1, workers: 1}\n"
                        "predictor: {threads: 1}\n");
  const std::string store = dir.str("out/store.h5");
  const auto round_args = [&](const std::string& extra) {
    return "round --export '" + dir.str("export.json") + "' --images '" + dir.str("images") +
           "' --config '" + dir.str("run.yaml") + "' --batch 2 --out '" + dir.str("out") + "' " +
           extra;
  };
  const auto expect_refused = [&](const std::string& log, const std::string& file,
                                  const std::vector<std::string>& fragments) {
    const std::string err = slurp(dir.path() / (log + ".err"));
    EXPECT_NE(err.find(file), std::string::npos) << err;
    for (const auto& f : fragments) EXPECT_NE(err.find(f), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "not one line: " << err;
  };

  // No store yet: a refused round does not create one.
  EXPECT_NE(wait_rc(spawn_alx(round_args("--max-pixels 1000"), dir.path() / "a")), 0);
  expect_refused("a", dir.str("images/img0.png"), {"item 0", "40x30", "limit of 1000"});
  EXPECT_FALSE(fs::exists(store));

  // With room for 1200 pixels the round runs and records itself in the store.
  ASSERT_EQ(wait_rc(spawn_alx(round_args("--max-pixels 1200"), dir.path() / "b")), 0)
      << slurp(dir.path() / "b.err");
  ASSERT_TRUE(fs::exists(store));
  const std::string before = slurp(store);

  // An existing store is left byte for byte as it was.
  EXPECT_NE(wait_rc(spawn_alx(round_args("--max-pixels 1000"), dir.path() / "c")), 0);
  expect_refused("c", dir.str("images/img0.png"), {"item 0", "limit of 1000"});
  EXPECT_EQ(slurp(store), before);

  // A pixel bomb among the unlabeled images is refused under the default limit.
  alx::test::write_pixel_bomb(dir.path() / "images/img6.png", 30000, 30000);
  EXPECT_NE(wait_rc(spawn_alx(round_args(""), dir.path() / "d")), 0);
  expect_refused("d", dir.str("images/img6.png"), {"item 6", "30000x30000", "before decoding"});
  EXPECT_EQ(slurp(store), before);
  EXPECT_FALSE(fs::exists(store + ".tmp"));
}
