#include <alx/core/error.h>
#include <alx/core/store.h>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include "alx_test_util.h"

namespace fs = std::filesystem;
using alx::Pool;
using alx::RoundRecord;
using alx::Schema;
using alx::Store;

namespace {

Pool make_pool(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back("img/" + std::to_string(i) + ".png");
  return Pool(Schema({"cat", "dog", "bird"}), ids);
}

RoundRecord make_round(int r) {
  RoundRecord rec;
  rec.round = r;
  rec.selected = {r, r + 10};
  rec.selected_ids = {"img/" + std::to_string(r) + ".png", "img/" + std::to_string(r + 10) + ".png"};
  rec.scores = {0.9f, 0.5f};
  rec.model_version = "gal_cnn-r" + std::to_string(r);
  rec.metrics = {{"accuracy", 0.5 + r * 0.01}, {"labeled", 20.0 + r}};
  rec.seconds = {{"train", 1.5}, {"select", 0.25}};
  rec.note = "round " + std::to_string(r);
  return rec;
}

}  // namespace

TEST(Store, WritesReopensAndCompares) {
  alx::test::TempDir dir;
  const std::string path = dir.str("project.h5");
  Pool pool = make_pool(50);
  pool.add_labels({1, 2, 3}, {0, 1, 2}, 0);
  alx::Object o;
  o.label = 1;
  o.box = {1, 2, 30, 40};
  o.score = 0.75f;
  o.polygons = {{{1, 2}, {30, 2}, {30, 40}}, {{5, 5}, {6, 6}, {5, 6}, {4, 4}}};
  pool.set_objects(7, {o, o});
  {
    Store store = Store::create(path, pool);
    store.pool().add_labels({4, 5}, {2, 2}, 1);
    store.add_round(make_round(1));
    store.set_array("embeddings", {{2, 3}, {1, 2, 3, 4, 5, 6}, "gal_cnn-r1"});
    store.set_meta("config", "sampler: entropy\n");
    store.save();
  }
  Store back = Store::open(path);
  Pool expected = pool;
  expected.add_labels({4, 5}, {2, 2}, 1);
  EXPECT_TRUE(back.pool() == expected);
  EXPECT_EQ(back.pool().label_round(4), 1);
  EXPECT_EQ(back.pool().label_round(1), 0);
  ASSERT_EQ(back.pool().objects(7).size(), 2u);
  EXPECT_EQ(back.pool().objects(7)[0].polygons[1].size(), 4u);
  ASSERT_EQ(back.rounds().size(), 1u);
  EXPECT_EQ(back.rounds()[0], make_round(1));
  EXPECT_EQ(back.last_round(), 1);
  ASSERT_NE(back.array("embeddings"), nullptr);
  EXPECT_EQ(back.array("embeddings")->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(back.array("embeddings")->data[5], 6.f);
  EXPECT_EQ(back.array("embeddings")->tag, "gal_cnn-r1");
  EXPECT_EQ(back.meta("config").value(), "sampler: entropy\n");
}

TEST(Store, RoundsMustIncreaseAndCreateRefusesExisting) {
  alx::test::TempDir dir;
  Store store = Store::create(dir.str("s.h5"), make_pool(5));
  store.add_round(make_round(1));
  EXPECT_THROW(store.add_round(make_round(1)), alx::InvalidArgument);
  EXPECT_THROW(Store::create(dir.str("s.h5"), make_pool(5)), alx::IoError);
}

TEST(Store, SecondOpenIsRefusedByTheLock) {
  alx::test::TempDir dir;
  const std::string path = dir.str("s.h5");
  { Store::create(path, make_pool(5)); }
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  if (child == 0) {
    Store held = Store::open(path);
    char c = 'x';
    (void)!write(ready[1], &c, 1);
    std::this_thread::sleep_for(std::chrono::seconds(30));
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  try {
    Store::open(path);
    ADD_FAILURE() << "second process got the store";
  } catch (const alx::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("in use by another alx process"), std::string::npos);
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_NO_THROW(Store::open(path));  // the lock dies with its process
}

// A writer process is killed at random moments while it saves round after round.
// Every time, the file must open and hold a complete, consistent state.
TEST(Store, KilledWriterNeverLeavesAHalfWrittenFile) {
  alx::test::TempDir dir;
  const std::string path = dir.str("crash.h5");
  { Store::create(path, make_pool(20000)); }
  std::mt19937 rng(42);
  int last_seen = 0;
  for (int trial = 0; trial < 8; ++trial) {
    const pid_t child = fork();
    if (child == 0) {
      Store s = Store::open(path);
      for (int r = s.last_round() + 1;; ++r) {
        s.pool().add_label(r % 20000, r % 3, r);
        s.add_round(make_round(r));
        s.set_array("big", {{200000}, std::vector<float>(200000, float(r)), ""});
        s.save();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 250));
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    Store s = Store::open(path);
    const int last = s.last_round();
    EXPECT_GE(last, last_seen);
    last_seen = last;
    // Round r labeled item r % 20000 in round r: every stored round has its label.
    EXPECT_EQ(s.pool().num_labeled(), last);
    for (const auto& rec : s.rounds()) EXPECT_EQ(s.pool().label_round(rec.round % 20000), rec.round);
    if (last > 0) {
      ASSERT_NE(s.array("big"), nullptr);
      EXPECT_EQ(s.array("big")->data.back(), float(last));
    }
  }
  EXPECT_GT(last_seen, 0) << "the writer never finished a save";
}

TEST(Store, TruncatedOrForeignFileIsDetectedWithRecoveryAdvice) {
  alx::test::TempDir dir;
  const std::string path = dir.str("s.h5");
  {
    Store s = Store::create(path, make_pool(3000));
    s.add_round(make_round(1));
    s.save();  // leaves the previous state in s.h5.bak
  }
  const auto size = fs::file_size(path);
  fs::resize_file(path, size / 2);
  try {
    Store::open(path);
    FAIL();
  } catch (const alx::IoError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("s.h5"), std::string::npos) << msg;
    EXPECT_NE(msg.find(".bak"), std::string::npos) << msg;
  }
  fs::copy_file(path + ".bak", path, fs::copy_options::overwrite_existing);
  EXPECT_NO_THROW(Store::open(path));

  alx::test::write_text(dir.path() / "text.h5", "hello");
  EXPECT_THROW(Store::open(dir.str("text.h5")), alx::IoError);
}

// A full disk during save(): an IoError that says the previous state is intact, no .tmp
// left behind, and the process still exits cleanly. The child leaves through exit(), which
// runs HDF5's library shutdown: that crashed (SIGSEGV in H5F__close_cb) while HDF5 still
// held the .tmp file whose close had failed, before save() built the file in memory.
TEST(Store, FullDiskKeepsTheOldState) {
  alx::test::TempDir dir;
  const std::string path = dir.str("s.h5");
  { Store::create(path, make_pool(100)); }
  const pid_t child = fork();
  if (child == 0) {
    // A file-size limit stands in for a full disk: writes beyond 64 KiB fail.
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {64 * 1024, 64 * 1024};
    setrlimit(RLIMIT_FSIZE, &lim);
    int rc = 1;
    {
      Store s = Store::open(path);
      s.pool().add_label(0, 1, 1);
      s.set_array("big", {{100000}, std::vector<float>(100000, 1.f), ""});
      try {
        s.save();
      } catch (const alx::IoError& e) {
        const std::string what = e.what();
        rc = what.find("previous state") != std::string::npos &&
                     what.find(path + ".tmp") != std::string::npos &&
                     what.find(std::strerror(EFBIG)) != std::string::npos
                 ? 0
                 : 2;
        if (rc) std::fprintf(stderr, "unexpected message: %s\n", what.c_str());
      }
    }
    std::exit(rc);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died with signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  Store s = Store::open(path);
  EXPECT_EQ(s.pool().num_labeled(), 0);
  EXPECT_EQ(s.array("big"), nullptr);
}
