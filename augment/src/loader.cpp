#include <alx/augment/loader.h>
#include <alx/augment/random.h>
#include <alx/augment/tensor.h>
#include <alx/core/error.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <unordered_map>

namespace alx::augment {

namespace {

// Re-raises `e` with `prefix` in front of its message, keeping its alx type.
std::exception_ptr with_context(std::exception_ptr e, const std::string& prefix) {
  try {
    std::rethrow_exception(e);
  } catch (const IoError& x) {
    return std::make_exception_ptr(IoError(prefix + x.what(), x.where()));
  } catch (const FormatError& x) {
    return std::make_exception_ptr(FormatError(prefix + x.what(), x.where()));
  } catch (const ConfigError& x) {
    return std::make_exception_ptr(ConfigError(prefix + x.what(), x.where()));
  } catch (const InvalidArgument& x) {
    return std::make_exception_ptr(InvalidArgument(prefix + x.what(), x.where()));
  } catch (const std::exception& x) {
    return std::make_exception_ptr(std::runtime_error(prefix + x.what()));
  } catch (...) {
    return e;
  }
}

using Shape = std::array<int, 3>;  // C, H, W

}  // namespace

struct BatchLoader::Slot {
  int64_t size = 0;       // items in this batch
  int64_t remaining = 0;  // items not finished yet
  torch::Tensor images;   // allocated by the first finished item
  Shape allocated{};      // its shape
  std::vector<Shape> shapes;
  int64_t error_pos = std::numeric_limits<int64_t>::max();
  std::exception_ptr error;
  bool ready = false;
  Batch batch;
};

// One item of one epoch, captured under the lock so that a concurrent start_epoch cannot
// mix epochs.
struct BatchLoader::Job {
  int64_t pos;
  uint64_t generation;
  int64_t epoch;
  int64_t j;  // position in indices_
  uint32_t occurrence;
  int64_t b, k;  // batch and row within this loader's part of it
};

struct BatchLoader::State {

  std::mutex mutex;
  std::condition_variable work_cv;   // workers wait for items
  std::condition_variable ready_cv;  // next() waits for its batch
  bool stop = false;
  bool started = false;
  uint64_t generation = 0;  // bumped by start_epoch: results of older epochs are dropped
  int64_t epoch = 0;
  std::vector<int64_t> order;  // epoch position (of this shard) → position in indices_
  std::vector<int64_t> begin;  // batch b holds the epoch positions [begin[b], begin[b + 1])
  int64_t total = 0;           // items served this epoch (by this shard)
  int64_t next_pos = 0;        // next epoch position handed to a worker
  int64_t returned = 0;        // batches handed out by next()
  std::map<int64_t, Slot> slots;
  Job take(int64_t pos) const {
    const int64_t j = order[static_cast<std::size_t>(pos)];
    const int64_t b = std::upper_bound(begin.begin(), begin.end(), pos) - begin.begin() - 1;
    const int64_t k = pos - begin[static_cast<std::size_t>(b)];
    return {pos, generation, epoch, j, occurrence[static_cast<std::size_t>(j)], b, k};
  }
  int64_t rows(int64_t b) const {
    return begin[static_cast<std::size_t>(b + 1)] - begin[static_cast<std::size_t>(b)];
  }
  std::vector<uint32_t> occurrence;  // per position in indices_: earlier copies of the same item
};

BatchLoader::BatchLoader(std::shared_ptr<const ImageSource> images, std::vector<int64_t> indices,
                         std::vector<int> labels, std::shared_ptr<const Pipeline> pipeline,
                         LoaderOptions opts)
    : images_(std::move(images)),
      indices_(std::move(indices)),
      labels_(std::move(labels)),
      pipeline_(std::move(pipeline)),
      opts_(std::move(opts)),
      state_(std::make_unique<State>()) {
  ALX_CHECK(images_ != nullptr, "BatchLoader: the image source is null");
  ALX_CHECK(opts_.batch_size() >= 1, "BatchLoader: batch_size must be >= 1, got {}", opts_.batch_size());
  ALX_CHECK(opts_.workers() >= 0, "BatchLoader: workers must be >= 0, got {}", opts_.workers());
  ALX_CHECK(opts_.prefetch() >= 0, "BatchLoader: prefetch must be >= 0, got {}", opts_.prefetch());
  ALX_CHECK(opts_.shard_world() >= 1 && opts_.shard_rank() >= 0 &&
                opts_.shard_rank() < opts_.shard_world(),
            "BatchLoader: shard_rank must lie in [0, shard_world), got shard {} of {}",
            opts_.shard_rank(), opts_.shard_world());
  ALX_CHECK(labels_.empty() || labels_.size() == indices_.size(),
            "BatchLoader: {} labels for {} indices (give one per index, or none)", labels_.size(),
            indices_.size());
  const int64_t n = images_->size();
  std::unordered_map<int64_t, uint32_t> seen;
  state_->occurrence.resize(indices_.size());
  for (std::size_t j = 0; j < indices_.size(); ++j) {
    ALX_CHECK(indices_[j] >= 0 && indices_[j] < n,
              "BatchLoader: indices[{}] = {} is outside the image source (size {})", j, indices_[j], n);
    state_->occurrence[j] = seen[indices_[j]]++;
  }
  threads_.reserve(static_cast<std::size_t>(opts_.workers()));
  for (int t = 0; t < opts_.workers(); ++t) threads_.emplace_back([this] { worker(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stop = true;
  }
  state_->work_cv.notify_all();
  for (auto& t : threads_) t.join();
}

std::pair<int64_t, int64_t> shard_of(int64_t n, int rank, int world) {
  ALX_CHECK(n >= 0 && world >= 1 && rank >= 0 && rank < world,
            "shard_of: bad arguments n={} rank={} world={}", n, rank, world);
  const int64_t base = n / world, extra = n % world;
  const int64_t lo = rank * base + std::min<int64_t>(rank, extra);
  return {lo, lo + base + (rank < extra ? 1 : 0)};
}

int64_t BatchLoader::num_batches() const noexcept {
  const int64_t n = size(), bs = opts_.batch_size();
  return opts_.drop_last() ? n / bs : (n + bs - 1) / bs;
}

int64_t BatchLoader::batch_rows(int64_t b) const noexcept {
  const int64_t bs = opts_.batch_size();
  return std::max<int64_t>(0, std::min(bs, size() - b * bs));
}

cv::Mat BatchLoader::load_item(int64_t item, int64_t epoch) const { return compute(item, 0, epoch); }

cv::Mat BatchLoader::compute(int64_t item, uint32_t occurrence, int64_t epoch) const {
  cv::Mat image = images_->load(item);
  ALX_CHECK_IO(!image.empty(), "the image could not be decoded (skipped by its source)");
  if (!pipeline_ || pipeline_->empty()) return image;
  // Repeated entries of one item (oversampling) get their own streams; a first
  // occurrence uses exactly sample_rng(seed, epoch, item).
  const uint64_t seed = occurrence == 0 ? opts_.seed() : opts_.seed() ^ mix64(occurrence);
  auto rng = sample_rng(seed, epoch, item);
  Sample s{image, {}};
  pipeline_->apply(s, rng);
  ALX_CHECK(!s.image.empty(), "the pipeline returned an empty image");
  return s.image;
}

void BatchLoader::start_epoch(int64_t epoch) {
  std::vector<int64_t> order;
  const int64_t n = size();
  if (opts_.shuffle()) {
    order = permutation(n, opts_.seed(), epoch);
  } else {
    order.resize(static_cast<std::size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  }
  // This shard's rows of every global batch, in batch order.
  const int64_t nb = num_batches(), bs = opts_.batch_size();
  std::vector<int64_t> begin(static_cast<std::size_t>(nb + 1), 0);
  std::vector<int64_t> mine;
  mine.reserve(static_cast<std::size_t>(std::min(n, nb * bs)));
  for (int64_t b = 0; b < nb; ++b) {
    const auto [lo, hi] = shard_of(batch_rows(b), opts_.shard_rank(), opts_.shard_world());
    for (int64_t r = lo; r < hi; ++r) mine.push_back(order[static_cast<std::size_t>(b * bs + r)]);
    begin[static_cast<std::size_t>(b + 1)] = static_cast<int64_t>(mine.size());
  }
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    State& st = *state_;
    ++st.generation;
    st.slots.clear();
    st.epoch = epoch;
    st.order = std::move(mine);
    st.begin = std::move(begin);
    st.total = st.begin.back();
    st.next_pos = 0;
    st.returned = 0;
    st.started = true;
  }
  state_->work_cv.notify_all();
}

// Positions a worker may start: the batch next() waits for and `prefetch` more.
static int64_t work_limit(int64_t returned, int prefetch, const std::vector<int64_t>& begin) {
  const auto last = static_cast<int64_t>(begin.size()) - 1;
  return begin[static_cast<std::size_t>(std::min(last, returned + std::max(prefetch, 1)))];
}

void BatchLoader::worker() {
  State& st = *state_;
  std::unique_lock<std::mutex> lock(st.mutex);
  for (;;) {
    st.work_cv.wait(lock, [&] {
      return st.stop ||
             (st.started && st.next_pos < work_limit(st.returned, opts_.prefetch(), st.begin));
    });
    if (st.stop) return;
    const Job job = st.take(st.next_pos++);
    lock.unlock();
    process(job, lock);
  }
}

// Decodes, augments and writes one item. Called without the lock held; returns with
// `lock` held.
void BatchLoader::process(const Job& job, std::unique_lock<std::mutex>& lock) {
  State& st = *state_;
  const int64_t pos = job.pos, epoch = job.epoch;
  const uint32_t occurrence = job.occurrence;
  const uint64_t generation = job.generation;
  const int64_t item = indices_[static_cast<std::size_t>(job.j)];
  cv::Mat image;
  std::exception_ptr error;
  try {
    image = compute(item, occurrence, epoch);
    const int c = image.channels();
    ALX_CHECK(c == 1 || c == 3 || c == 4, "the pipeline gave {} channels (expected 1, 3 or 4)", c);
  } catch (...) {
    error = with_context(std::current_exception(),
                         fmt::format("item {} ({}): ", item, images_->describe(item)));
  }

  const int64_t b = job.b, k = job.k;
  torch::Tensor target;
  lock.lock();
  if (generation != st.generation) return;  // the epoch was restarted meanwhile
  auto& slot = st.slots[b];
  if (slot.size == 0) {
    slot.size = st.rows(b);
    slot.remaining = slot.size;
    slot.shapes.assign(static_cast<std::size_t>(slot.size), Shape{0, 0, 0});
  }
  if (!error) {
    const Shape shape{image.channels(), image.rows, image.cols};
    slot.shapes[static_cast<std::size_t>(k)] = shape;
    if (!slot.images.defined()) {
      slot.images = torch::empty({slot.size, shape[0], shape[1], shape[2]}, torch::kFloat32);
      slot.allocated = shape;
    }
    if (shape == slot.allocated) target = slot.images;  // a mismatch is reported at the end
  }
  lock.unlock();

  if (target.defined()) {
    const int64_t per = static_cast<int64_t>(image.channels()) * image.rows * image.cols;
    write_chw(image, target.data_ptr<float>() + k * per);  // own row: no lock needed
  }

  lock.lock();
  if (generation != st.generation) return;
  auto& s2 = st.slots[b];
  if (error && pos < s2.error_pos) {
    s2.error_pos = pos;
    s2.error = error;
  }
  if (--s2.remaining > 0) return;
  finish_batch(b, s2);
  st.ready_cv.notify_all();
}

void BatchLoader::finish_batch(int64_t b, Slot& slot) {
  const State& st = *state_;
  const auto first = static_cast<std::size_t>(st.begin[static_cast<std::size_t>(b)]);
  slot.ready = true;
  if (slot.error) return;
  // Checked here, in batch order, so that the message does not depend on thread timing.
  for (std::size_t k = 1; k < slot.shapes.size(); ++k) {
    if (slot.shapes[k] == slot.shapes[0]) continue;
    auto item_of = [&](std::size_t kk) {
      return indices_[static_cast<std::size_t>(st.order[first + kk])];
    };
    const int64_t i0 = item_of(0), ik = item_of(k);
    slot.error = std::make_exception_ptr(InvalidArgument(fmt::format(
        "batch {}: item {} ({}) is {}×{}×{} (C×H×W) after the pipeline, but item {} ({}) is "
        "{}×{}×{}; all images of a batch must end at one size (add a resize or crop)",
        b, ik, images_->describe(ik), slot.shapes[k][0], slot.shapes[k][1], slot.shapes[k][2], i0,
        images_->describe(i0), slot.shapes[0][0], slot.shapes[0][1], slot.shapes[0][2])));
    return;
  }
  auto labels = torch::empty({slot.size}, torch::kInt64);
  auto indices = torch::empty({slot.size}, torch::kInt64);
  int64_t* lp = labels.data_ptr<int64_t>();
  int64_t* ip = indices.data_ptr<int64_t>();
  for (int64_t k = 0; k < slot.size; ++k) {
    const auto j = static_cast<std::size_t>(st.order[first + static_cast<std::size_t>(k)]);
    lp[k] = labels_.empty() ? -1 : labels_[j];
    ip[k] = indices_[j];
  }
  slot.batch = Batch{slot.images, labels, indices};
}

std::optional<Batch> BatchLoader::next() {
  State& st = *state_;
  std::unique_lock<std::mutex> lock(st.mutex);
  ALX_CHECK(st.started, "BatchLoader::next: call start_epoch(epoch) first");
  const int64_t b = st.returned;
  if (b >= num_batches()) return std::nullopt;
  if (st.rows(b) == 0) {  // this shard's part of the batch is empty: nothing to wait for
    ++st.returned;
    lock.unlock();
    st.work_cv.notify_all();
    return Batch{torch::empty({0, 0, 0, 0}, torch::kFloat32), torch::empty({0}, torch::kInt64),
                 torch::empty({0}, torch::kInt64)};
  }
  if (threads_.empty()) {  // workers = 0: do the work here
    while (st.next_pos < st.begin[static_cast<std::size_t>(b + 1)]) {
      const Job job = st.take(st.next_pos++);
      lock.unlock();
      process(job, lock);
    }
  } else {
    st.ready_cv.wait(lock, [&] {
      auto it = st.slots.find(b);
      return it != st.slots.end() && it->second.ready;
    });
  }
  Slot slot = std::move(st.slots.at(b));
  st.slots.erase(b);
  ++st.returned;
  lock.unlock();
  st.work_cv.notify_all();
  if (slot.error) std::rethrow_exception(slot.error);
  return std::move(slot.batch);
}

}  // namespace alx::augment
