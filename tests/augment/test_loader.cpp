// The batch loader: determinism across worker counts, order, labels, errors, prefetch.
#include "helpers.h"

#include <alx/augment/loader.h>
#include <alx/augment/tensor.h>
#include <alx/core/config.h>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>

namespace aug = alx::augment;
using aug::testing::random_image;

namespace {

std::shared_ptr<const alx::ImageSource> color_images(int n, bool varied_sizes = true) {
  std::vector<cv::Mat> images;
  for (int i = 0; i < n; ++i) {
    const int w = varied_sizes ? 40 + (i * 7) % 23 : 40, h = varied_sizes ? 36 + (i * 5) % 17 : 36;
    images.push_back(random_image(w, h, CV_8UC3, static_cast<uint64_t>(i + 1)));
  }
  return std::make_shared<alx::MemoryImageSource>(std::move(images));
}

std::shared_ptr<const aug::Pipeline> train_pipeline() {
  return std::make_shared<const aug::Pipeline>(aug::Pipeline::from_yaml(YAML::Load(R"(
    - {name: random_resized_crop, height: 24, width: 28}
    - {name: hflip}
    - {name: color_jitter, brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1}
    - {name: random_erasing, p: 0.5}
    - {name: normalize}
  )")));
}

std::vector<aug::Batch> epoch_batches(aug::BatchLoader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<aug::Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

// Counts loads, optionally slowly, to observe prefetching.
class CountingSource : public alx::ImageSource {
 public:
  explicit CountingSource(int64_t n) : n_(n) {}
  int64_t size() const override { return n_; }
  cv::Mat load(int64_t i) const override {
    ++loads;
    return cv::Mat(8, 8, CV_8UC1, cv::Scalar(static_cast<double>(i % 256)));
  }
  std::string describe(int64_t i) const override { return "counting[" + std::to_string(i) + "]"; }
  mutable std::atomic<int64_t> loads{0};

 private:
  int64_t n_;
};

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

}  // namespace

TEST(Loader, ByteIdenticalBatchesWithOneOrManyWorkers) {
  const auto images = color_images(53);
  const auto pipeline = train_pipeline();
  std::vector<int> labels;
  for (int i = 0; i < 53; ++i) labels.push_back(i % 10);
  auto opts = aug::LoaderOptions().batch_size(8).shuffle(true).seed(42);
  aug::BatchLoader inline_loader(images, iota(53), labels, pipeline, aug::LoaderOptions(opts).workers(0));
  aug::BatchLoader one(images, iota(53), labels, pipeline, aug::LoaderOptions(opts).workers(1));
  aug::BatchLoader many(images, iota(53), labels, pipeline, aug::LoaderOptions(opts).workers(5).prefetch(3));
  for (int64_t epoch : {0, 1}) {
    const auto a = epoch_batches(inline_loader, epoch);
    const auto b = epoch_batches(one, epoch);
    const auto c = epoch_batches(many, epoch);
    ASSERT_EQ(a.size(), 7u);
    ASSERT_EQ(b.size(), 7u);
    ASSERT_EQ(c.size(), 7u);
    for (std::size_t k = 0; k < a.size(); ++k) {
      EXPECT_EQ(a[k].images.sizes().vec(), (std::vector<int64_t>{k < 6 ? 8 : 5, 3, 24, 28}));
      EXPECT_EQ(a[k].images.scalar_type(), torch::kFloat32);
      // Byte-identical, not merely close.
      ASSERT_EQ(std::memcmp(a[k].images.data_ptr(), b[k].images.data_ptr(), a[k].images.nbytes()), 0);
      ASSERT_EQ(std::memcmp(a[k].images.data_ptr(), c[k].images.data_ptr(), a[k].images.nbytes()), 0);
      EXPECT_TRUE(a[k].labels.equal(c[k].labels));
      EXPECT_TRUE(a[k].indices.equal(c[k].indices));
      for (int64_t r = 0; r < a[k].indices.size(0); ++r)
        EXPECT_EQ(a[k].labels[r].item<int64_t>(), a[k].indices[r].item<int64_t>() % 10);
    }
  }
  // A different epoch gives a different order and different augmentations.
  const auto e0 = epoch_batches(many, 0), e1 = epoch_batches(many, 1);
  EXPECT_FALSE(e0[0].indices.equal(e1[0].indices));
}

TEST(Loader, EachRowIsThePipelineOfItsItemWithItsOwnRng) {
  const auto images = color_images(20);
  const auto pipeline = train_pipeline();
  aug::BatchLoader loader(images, iota(20), {}, pipeline,
                          aug::LoaderOptions().batch_size(6).shuffle(true).seed(3).workers(2));
  for (const auto& batch : epoch_batches(loader, 4)) {
    for (int64_t r = 0; r < batch.indices.size(0); ++r) {
      const int64_t item = batch.indices[r].item<int64_t>();
      EXPECT_EQ(batch.labels[r].item<int64_t>(), -1);
      auto rng = aug::sample_rng(3, 4, item);
      const cv::Mat expect = pipeline->apply(images->load(item), rng);
      EXPECT_TRUE(batch.images[r].equal(aug::to_tensor(expect)));
      EXPECT_TRUE(aug::testing::same_mat(loader.load_item(item, 4), expect));
    }
  }
}

TEST(Loader, OrderCoversEveryItemOnceAndDropLastWorks) {
  const auto images = color_images(23, false);
  aug::BatchLoader loader(images, iota(23), {}, nullptr, aug::LoaderOptions().batch_size(5).shuffle(true).workers(2));
  EXPECT_EQ(loader.num_batches(), 5);
  std::multiset<int64_t> seen;
  for (const auto& b : epoch_batches(loader, 0))
    for (int64_t r = 0; r < b.indices.size(0); ++r) seen.insert(b.indices[r].item<int64_t>());
  EXPECT_EQ(seen.size(), 23u);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 23u);

  aug::BatchLoader dropping(images, iota(23), {}, nullptr,
                            aug::LoaderOptions().batch_size(5).drop_last(true).workers(2));
  EXPECT_EQ(dropping.num_batches(), 4);
  const auto batches = epoch_batches(dropping, 0);
  ASSERT_EQ(batches.size(), 4u);
  EXPECT_EQ(batches[3].indices[4].item<int64_t>(), 19);  // no shuffle: items in order
  // No pipeline: the decoded image, scaled to [0, 1], RGB.
  EXPECT_TRUE(batches[0].images[2].equal(aug::to_tensor(images->load(2))));
}

TEST(Loader, GrayscaleImagesGiveOneChannel) {
  std::vector<cv::Mat> images;
  for (int i = 0; i < 10; ++i) images.push_back(random_image(28, 28, CV_8UC1, static_cast<uint64_t>(i)));
  auto source = std::make_shared<alx::MemoryImageSource>(std::move(images));
  aug::BatchLoader loader(source, iota(10), {}, nullptr, aug::LoaderOptions().batch_size(4).workers(2));
  loader.start_epoch(0);
  const auto b = loader.next();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->images.sizes().vec(), (std::vector<int64_t>{4, 1, 28, 28}));
}

TEST(Loader, RepeatedItemsGetTheirOwnAugmentation) {
  const auto images = color_images(3);
  aug::BatchLoader loader(images, {1, 1, 1}, {}, train_pipeline(), aug::LoaderOptions().batch_size(3).workers(2));
  loader.start_epoch(0);
  const auto b = loader.next();
  EXPECT_FALSE(b->images[0].equal(b->images[1]));
  EXPECT_FALSE(b->images[1].equal(b->images[2]));
}

TEST(Loader, MixedSizesNameTheItem) {
  const auto images = color_images(12);  // varied sizes, and no resize in the pipeline
  for (int workers : {0, 3}) {
    aug::BatchLoader loader(images, iota(12), {}, nullptr, aug::LoaderOptions().batch_size(4).workers(workers));
    loader.start_epoch(0);
    try {
      loader.next();
      FAIL() << "batches of mixed sizes must fail";
    } catch (const alx::InvalidArgument& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("item 1 (memory[1])"), std::string::npos) << msg;
      EXPECT_NE(msg.find("item 0"), std::string::npos) << msg;
      EXPECT_NE(msg.find("one size"), std::string::npos) << msg;
    }
    EXPECT_THROW(loader.next(), alx::InvalidArgument);  // the next batch, same problem
  }
}

TEST(Loader, UnreadableFileNamesTheFile) {
  const std::filesystem::path dir = std::filesystem::path(ALX_TEST_TMP) / "loader_files";
  std::filesystem::create_directories(dir);
  cv::imwrite((dir / "a.png").string(), random_image(16, 16, CV_8UC3));
  cv::imwrite((dir / "c.png").string(), random_image(16, 16, CV_8UC3));
  auto source = std::make_shared<alx::FileImageSource>(dir, std::vector<std::string>{"a.png", "missing.png", "c.png"});
  aug::BatchLoader loader(source, iota(3), {}, nullptr, aug::LoaderOptions().batch_size(2).workers(2));
  loader.start_epoch(0);
  try {
    loader.next();
    FAIL();
  } catch (const alx::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.png"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("item 1"), std::string::npos) << e.what();
  }
  const auto last = loader.next();  // the loader moves on
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->indices[0].item<int64_t>(), 2);
  EXPECT_FALSE(loader.next().has_value());
}

TEST(Loader, PrefetchIsBounded) {
  auto source = std::make_shared<CountingSource>(1000);
  aug::BatchLoader loader(source, iota(1000), {}, nullptr,
                          aug::LoaderOptions().batch_size(10).workers(3).prefetch(2));
  // Waits (up to 10 s on a busy machine) until n loads happened, then a little longer
  // to see whether more than allowed happen.
  auto settle = [&](int64_t n) {
    for (int i = 0; i < 1000 && source->loads.load() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    return source->loads.load();
  };
  loader.start_epoch(0);
  EXPECT_EQ(settle(20), 20);  // two batches ahead, no more
  ASSERT_TRUE(loader.next().has_value());
  EXPECT_EQ(settle(30), 30);
}

TEST(Loader, RestartingAnEpochMidwayIsClean) {
  const auto images = color_images(40);
  const auto pipeline = train_pipeline();
  aug::BatchLoader loader(images, iota(40), {}, pipeline, aug::LoaderOptions().batch_size(4).shuffle(true).workers(3));
  loader.start_epoch(0);
  loader.next();
  loader.next();
  const auto restarted = epoch_batches(loader, 0);
  aug::BatchLoader fresh(images, iota(40), {}, pipeline, aug::LoaderOptions().batch_size(4).shuffle(true).workers(0));
  const auto expect = epoch_batches(fresh, 0);
  ASSERT_EQ(restarted.size(), expect.size());
  for (std::size_t k = 0; k < expect.size(); ++k) EXPECT_TRUE(restarted[k].images.equal(expect[k].images));
}

TEST(Loader, ShardsYieldExactlyTheirRowsOfEveryBatch) {
  // 23 items in batches of 7: 7, 7, 7, 2. World 3 splits the last batch 1 + 1 + 0, world 8
  // leaves shards of every batch empty; drop_last ends at three full batches.
  const auto images = color_images(23);
  const auto pipeline = train_pipeline();
  std::vector<int> labels;
  for (int i = 0; i < 23; ++i) labels.push_back(i % 4);
  for (const bool drop_last : {false, true}) {
    const auto opts = aug::LoaderOptions().batch_size(7).shuffle(true).seed(5).drop_last(drop_last);
    aug::BatchLoader whole(images, iota(23), labels, pipeline, aug::LoaderOptions(opts).workers(2));
    for (const int world : {1, 2, 3, 4, 8}) {
      for (int rank = 0; rank < world; ++rank) {
        SCOPED_TRACE("drop_last " + std::to_string(drop_last) + ", rank " + std::to_string(rank) +
                     " of " + std::to_string(world));
        aug::BatchLoader shard(
            images, iota(23), labels, pipeline,
            aug::LoaderOptions(opts).workers(rank % 2 == 0 ? 0 : 3).prefetch(1).shard(rank, world));
        EXPECT_EQ(shard.num_batches(), whole.num_batches());
        for (int64_t epoch : {0, 1}) {
          const auto want = epoch_batches(whole, epoch);
          const auto got = epoch_batches(shard, epoch);
          ASSERT_EQ(got.size(), want.size());
          for (std::size_t b = 0; b < want.size(); ++b) {
            const int64_t rows = want[b].indices.size(0);
            EXPECT_EQ(rows, shard.batch_rows(static_cast<int64_t>(b)));
            const auto [lo, hi] = aug::shard_of(rows, rank, world);
            ASSERT_EQ(got[b].indices.size(0), hi - lo) << "batch " << b;
            ASSERT_EQ(got[b].labels.size(0), hi - lo);
            ASSERT_EQ(got[b].images.size(0), hi - lo);
            if (hi == lo) {
              EXPECT_EQ(got[b].images.dim(), 4);
              continue;
            }
            const auto rows_want = want[b].images.slice(0, lo, hi).contiguous();
            ASSERT_EQ(got[b].images.sizes(), rows_want.sizes());
            // Byte-identical, not merely close.
            EXPECT_EQ(
                std::memcmp(got[b].images.data_ptr(), rows_want.data_ptr(), rows_want.nbytes()), 0)
                << "batch " << b;
            EXPECT_TRUE(got[b].indices.equal(want[b].indices.slice(0, lo, hi)));
            EXPECT_TRUE(got[b].labels.equal(want[b].labels.slice(0, lo, hi)));
          }
        }
      }
    }
  }
}

TEST(Loader, ShardOfSplitsContiguouslyAndEvenly) {
  for (int64_t n : {0, 1, 2, 7, 10}) {
    for (int world : {1, 3, 4, 12}) {
      int64_t next = 0;
      for (int rank = 0; rank < world; ++rank) {
        const auto [lo, hi] = aug::shard_of(n, rank, world);
        EXPECT_EQ(lo, next);
        EXPECT_TRUE(hi - lo == n / world || hi - lo == n / world + 1);
        next = hi;
      }
      EXPECT_EQ(next, n);
    }
  }
  EXPECT_THROW(aug::shard_of(3, 2, 2), alx::InvalidArgument);
  const auto images = color_images(5);
  EXPECT_THROW(aug::BatchLoader(images, {0}, {}, nullptr, aug::LoaderOptions().shard(1, 1)),
               alx::InvalidArgument);
  EXPECT_THROW(aug::BatchLoader(images, {0}, {}, nullptr, aug::LoaderOptions().shard(0, 0)),
               alx::InvalidArgument);
}

TEST(Loader, ArgumentErrors) {
  const auto images = color_images(5);
  EXPECT_THROW(aug::BatchLoader(images, {0, 5}, {}, nullptr), alx::InvalidArgument);
  EXPECT_THROW(aug::BatchLoader(images, {0, 1}, {1}, nullptr), alx::InvalidArgument);
  EXPECT_THROW(aug::BatchLoader(nullptr, {}, {}, nullptr), alx::InvalidArgument);
  aug::BatchLoader loader(images, {0}, {}, nullptr, aug::LoaderOptions().workers(1));
  EXPECT_THROW(loader.next(), alx::InvalidArgument);  // start_epoch first
}

TEST(Loader, OptionsFromYaml) {
  const auto opts = alx::config::read<aug::LoaderOptions>(
      YAML::Load("{batch_size: 64, workers: 3, shuffle: true, seed: 9}"), {"loader.yaml", "loader"});
  EXPECT_EQ(opts.batch_size(), 64);
  EXPECT_EQ(opts.workers(), 3);
  EXPECT_TRUE(opts.shuffle());
  EXPECT_EQ(opts.seed(), 9u);
  EXPECT_EQ(opts.prefetch(), 2);
  EXPECT_THROW(alx::config::read<aug::LoaderOptions>(YAML::Load("{batch: 1}"), {}), alx::ConfigError);
}
