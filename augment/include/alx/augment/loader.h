// alx/augment/loader.h — decoding and augmenting batches on worker threads.
//
//   auto loader = alx::augment::BatchLoader(images, train_ids, train_labels,
//       std::make_shared<const Pipeline>(cfg.train),
//       LoaderOptions().batch_size(128).shuffle(true).seed(7));
//   for (int64_t epoch = 0; epoch < epochs; ++epoch) {
//     loader.start_epoch(epoch);
//     while (auto batch = loader.next()) fit_step(batch->images, batch->labels);
//   }
//
// Determinism: the order of an epoch comes from (seed, epoch), the augmentation of an
// item from sample_rng(seed, epoch, item) — so batches are byte-identical whatever the
// number of workers and however the threads are scheduled. An item listed several times
// in `indices` (oversampling) gets its own stream for each repetition.
// OpenCV's own threading inside a transform does not change any result.
// Prefetch: while the caller works on batch k, the workers prepare up to `prefetch`
// batches after it; the queue never grows beyond that.
//
// Sharding (data-parallel training): with shard(rank, world) the loader still walks the
// global batches of the epoch — same order, same num_batches() — but yields of every
// global batch only its rows [lo, hi) = shard_of(rows of that batch, rank, world), and
// decodes and augments only those. The rows are byte-identical to the same rows of an
// unsharded loader (an item's augmentation does not depend on who computes it). A shard
// of a batch can be empty (world larger than the last batch): next() then returns a
// batch of 0 rows (images [0, 0, 0, 0], as no image was decoded) rather than skipping
// it, so that every rank runs the same number of steps.
#pragma once

#include <alx/augment/pipeline.h>
#include <alx/core/image_source.h>
#include <alx/core/options.h>

#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace alx::augment {

/// Rows [lo, hi) of n that shard `rank` of `world` owns: contiguous, in rank order, sizes
/// differing by at most 1 (the first n % world shards get one more). Throws
/// alx::InvalidArgument unless n >= 0 and 0 <= rank < world.
std::pair<int64_t, int64_t> shard_of(int64_t n, int rank, int world);

struct LoaderOptions {
  ALX_ARG(int64_t, batch_size) = 256;
  ALX_ARG(int, workers) = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ALX_ARG(int, prefetch) = 2;
  ALX_ARG(bool, shuffle) = false;
  ALX_ARG(bool, drop_last) = false;
  ALX_ARG(uint64_t, seed) = 0;
  /// This loader's shard of every batch (see the file comment); 0 of 1: the whole batch.
  ALX_ARG(int, shard_rank) = 0;
  ALX_ARG(int, shard_world) = 1;

 public:
  /// Sets shard_rank and shard_world, e.g. .shard(comm->rank(), comm->world_size()).
  LoaderOptions& shard(int rank, int world) {
    shard_rank_ = rank;
    shard_world_ = world;
    return *this;
  }

  template <class V>
  void visit(V&& v) {
    v("batch_size", batch_size_, "images per batch", Range::at_least(1));
    v("workers", workers_,
      "decoding/augmenting threads (0: work on the calling thread inside next())",
      Range::at_least(0));
    v("prefetch", prefetch_, "batches prepared ahead of the one being consumed",
      Range::at_least(0));
    v("shuffle", shuffle_, "new item order every epoch, drawn from (seed, epoch)");
    v("drop_last", drop_last_, "skip the last batch when it is incomplete");
    v("seed", seed_, "seed of the order and of every augmentation");
    v("shard_rank", shard_rank_,
      "rows of every batch this loader yields: shard shard_rank of shard_world",
      Range::at_least(0));
    v("shard_world", shard_world_,
      "number of shards every batch is split into (data-parallel ranks)", Range::at_least(1));
  }
};

/// One batch (or this loader's shard of it). Rows follow the epoch's order.
struct Batch {
  torch::Tensor images;   ///< [B, C, H, W] float32, RGB order (see tensor.h)
  torch::Tensor labels;   ///< [B] int64, -1 where unknown or when no labels were given
  torch::Tensor indices;  ///< [B] int64, item indices into the ImageSource
};

class BatchLoader {
 public:
  /// images: where items are decoded from (thread-safe load()).
  /// indices: the items to serve, indices into `images` (repetitions allowed).
  /// labels: empty, or one label per entry of `indices`.
  /// pipeline: applied to every item (nullptr: none, images are only converted).
  BatchLoader(std::shared_ptr<const ImageSource> images, std::vector<int64_t> indices,
              std::vector<int> labels, std::shared_ptr<const Pipeline> pipeline,
              LoaderOptions opts = {});
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  /// Starts (or restarts) an epoch; work of an unfinished epoch is abandoned.
  void start_epoch(int64_t epoch);
  /// The next batch of the epoch, waiting for it if needed; std::nullopt at the end.
  /// An item that fails to decode or augment makes this throw (naming the item) for
  /// the batch it belongs to; the following call moves on to the next batch.
  std::optional<Batch> next();
  /// Batches per epoch (global: the same for every shard).
  int64_t num_batches() const noexcept;
  /// Rows of global batch b (0 <= b < num_batches()) over all shards.
  int64_t batch_rows(int64_t b) const noexcept;
  /// Items of an epoch over all shards (the size of `indices`).
  int64_t size() const noexcept { return static_cast<int64_t>(indices_.size()); }
  const LoaderOptions& options() const noexcept { return opts_; }

  /// The pipeline output of one item exactly as the loader computes it (before to_tensor).
  cv::Mat load_item(int64_t item, int64_t epoch) const;

 private:
  struct State;
  struct Slot;
  struct Job;
  void worker();
  void process(const Job& job, std::unique_lock<std::mutex>& lock);
  void finish_batch(int64_t b, Slot& slot);
  cv::Mat compute(int64_t item, uint32_t occurrence, int64_t epoch) const;

  std::shared_ptr<const ImageSource> images_;
  std::vector<int64_t> indices_;
  std::vector<int> labels_;
  std::shared_ptr<const Pipeline> pipeline_;
  LoaderOptions opts_;
  std::unique_ptr<State> state_;
  std::vector<std::thread> threads_;
};

}  // namespace alx::augment
