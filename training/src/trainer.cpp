// Trainer: the fit loop (optimizer, schedule, early stopping, class weights) and evaluation.
#include "internal.h"

#include <alx/augment/loader.h>
#include <alx/augment/pipeline.h>
#include <alx/augment/random.h>
#include <alx/core/log.h>
#include <alx/core/progress.h>
#include <alx/training/distributed.h>
#include <alx/training/trainer.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <unordered_set>

namespace alx::training {

namespace F = torch::nn::functional;

constexpr double kPi = 3.14159265358979323846;

namespace {

/// Metrics of a [K, K] int64 confusion matrix (rows = true class).
Metrics metrics_from_confusion(torch::Tensor confusion) {
  Metrics m;
  m.confusion = std::move(confusion);
  const int64_t k = m.confusion.size(0);
  m.n = m.confusion.sum().item<int64_t>();
  auto c = m.confusion.accessor<int64_t, 2>();
  int64_t correct = 0, present = 0;
  double f1_sum = 0.0;
  m.per_class_accuracy.assign(k, std::numeric_limits<double>::quiet_NaN());
  m.per_class_f1.assign(k, std::numeric_limits<double>::quiet_NaN());
  for (int64_t i = 0; i < k; ++i) {
    int64_t row = 0, col = 0;
    for (int64_t j = 0; j < k; ++j) {
      row += c[i][j];
      col += c[j][i];
    }
    const int64_t tp = c[i][i];
    correct += tp;
    if (row > 0) m.per_class_accuracy[i] = static_cast<double>(tp) / row;
    if (row == 0 && col == 0) continue;  // class absent from truth and predictions
    const double f1 = 2.0 * tp / static_cast<double>(row + col);
    m.per_class_f1[i] = f1;
    f1_sum += f1;
    ++present;
  }
  m.accuracy = m.n > 0 ? static_cast<double>(correct) / m.n : 0.0;
  m.macro_f1 = present > 0 ? f1_sum / present : 0.0;
  return m;
}

}  // namespace

Metrics compute_metrics(const torch::Tensor& truth, const torch::Tensor& predicted, int64_t k) {
  ALX_CHECK(truth.dim() == 1 && predicted.sizes() == truth.sizes(),
            "metrics: truth and predicted must both be [N], got [{}] and [{}]",
            fmt::join(truth.sizes(), ", "), fmt::join(predicted.sizes(), ", "));
  auto t = truth.to(torch::kCPU, torch::kLong);
  auto p = predicted.to(torch::kCPU, torch::kLong);
  if (t.numel() > 0) {
    ALX_CHECK(t.min().item<int64_t>() >= 0 && t.max().item<int64_t>() < k &&
                  p.min().item<int64_t>() >= 0 && p.max().item<int64_t>() < k,
              "metrics: labels must lie in [0, {})", k);
  }
  return metrics_from_confusion(torch::bincount(t * k + p, {}, k * k).view({k, k}));
}

Trainer::Trainer(TrainerOptions options, std::shared_ptr<const augment::Pipeline> train,
                 std::shared_ptr<const augment::Pipeline> eval)
    : options_(std::move(options)), train_(std::move(train)), eval_(std::move(eval)) {
  const auto& o = options_;
  ALX_CHECK(o.optimizer() == "adam" || o.optimizer() == "sgd", "trainer: optimizer must be adam or sgd, got '{}'",
            o.optimizer());
  ALX_CHECK(o.schedule() == "constant" || o.schedule() == "step" || o.schedule() == "cosine",
            "trainer: schedule must be constant, step or cosine, got '{}'", o.schedule());
  ALX_CHECK(o.class_weighting() == "none" || o.class_weighting() == "balanced" || o.class_weighting() == "explicit",
            "trainer: class_weighting must be none, balanced or explicit, got '{}'", o.class_weighting());
  ALX_CHECK(o.epochs() >= 1 && o.batch_size() >= 1 && o.lr() > 0, "trainer: epochs, batch_size and lr must be positive");
  ALX_CHECK(o.validation_fraction() >= 0 && o.validation_fraction() < 1,
            "trainer: validation_fraction must lie in [0, 1), got {}", o.validation_fraction());
  parse_device(o.device());
}

TrainResult Trainer::fit(Model& model, std::shared_ptr<const ImageSource> images, const Pool& pool) const {
  std::vector<int64_t> idx = pool.labeled();
  std::vector<int> labels;
  labels.reserve(idx.size());
  for (auto i : idx) labels.push_back(pool.label(i));
  return fit(model, std::move(images), std::move(idx), std::move(labels));
}

namespace {

void check_items(const Model& model, const ImageSource* images, const std::vector<int64_t>& indices,
                 const std::vector<int>& labels) {
  ALX_CHECK(images != nullptr, "trainer: no image source");
  ALX_CHECK(indices.size() == labels.size(), "trainer: {} indices but {} labels", indices.size(), labels.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    ALX_CHECK(indices[i] >= 0 && indices[i] < images->size(), "trainer: item {} is outside the image source (size {})",
              indices[i], images->size());
    ALX_CHECK(labels[i] >= 0 && labels[i] < model.num_classes(),
              "trainer: item {} ({}) has label {}, the model has {} classes", indices[i], images->describe(indices[i]),
              labels[i], model.num_classes());
  }
}

/// Stratified hold-out: round(fraction · n_k) items of every class with at least 2 items.
void split(const std::vector<int64_t>& idx, const std::vector<int>& labels, double fraction, uint64_t seed,
           std::vector<int64_t>& train_idx, std::vector<int>& train_lab, std::vector<int64_t>& val_idx,
           std::vector<int>& val_lab) {
  if (fraction <= 0) {
    train_idx = idx;
    train_lab = labels;
    return;
  }
  std::map<int, std::vector<size_t>> by_class;
  for (size_t i = 0; i < idx.size(); ++i) by_class[labels[i]].push_back(i);
  std::mt19937_64 rng(seed ^ 0x5eed5eedULL);
  std::vector<char> held(idx.size(), 0);
  for (auto& kv : by_class) {
    auto& pos = kv.second;
    std::shuffle(pos.begin(), pos.end(), rng);
    if (pos.size() < 2) continue;
    const size_t n = std::min(pos.size() - 1, std::max<size_t>(1, static_cast<size_t>(std::lround(fraction * pos.size()))));
    for (size_t j = 0; j < n; ++j) held[pos[j]] = 1;
  }
  for (size_t i = 0; i < idx.size(); ++i) {
    (held[i] ? val_idx : train_idx).push_back(idx[i]);
    (held[i] ? val_lab : train_lab).push_back(labels[i]);
  }
}

augment::LoaderOptions loader_options(int64_t batch, int workers, int prefetch, bool shuffle, uint64_t seed) {
  augment::LoaderOptions lo;
  lo.batch_size(batch).workers(workers).prefetch(prefetch).shuffle(shuffle).drop_last(false).seed(seed);
  return lo;
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& g : opt.param_groups()) g.options().set_lr(lr);
}

/// Rank 0's parameters and buffers (buffers_only: its buffers, e.g. BatchNorm running
/// statistics) into every rank's model: one broadcast per dtype, in a fixed order.
void broadcast_state(Communicator& comm, Model& model, bool buffers_only) {
  std::unordered_set<const void*> params;
  if (buffers_only)
    for (const auto& p : model.parameters()) params.insert(p.unsafeGetTensorImpl());
  std::map<int, std::vector<torch::Tensor>> by_dtype;
  for (const auto& kv : model.state())
    if (!params.count(kv.second.unsafeGetTensorImpl()))
      by_dtype[static_cast<int>(kv.second.scalar_type())].push_back(kv.second);
  for (const auto& kv : by_dtype) broadcast_parameters(comm, kv.second, 0);
}

/// The batch's loss of this rank's rows over the global denominator, with its statistics.
struct ShardLoss {
  torch::Tensor
      loss;  ///< this rank's part (undefined for an empty shard); the parts sum to the batch's loss
  double value = 0.0;             ///< the batch's loss, the same on every rank
  int64_t rows = 0, correct = 0;  ///< over all ranks
};

ShardLoss shard_loss(Communicator& comm, const ModelOutput& out, const torch::Tensor& y,
                     const torch::Tensor& weight) {
  const int64_t b = y.size(0);
  torch::Tensor sum, w;
  double local[4] = {0.0, 0.0, static_cast<double>(b), 0.0};  // loss sum, weight sum, rows, correct
  if (b > 0) {
    auto per_item =
        F::cross_entropy(out.logits, y, F::CrossEntropyFuncOptions().reduction(torch::kNone));
    if (weight.defined()) {
      w = weight.index_select(0, y);
      per_item = per_item * w;
      local[1] = w.sum().item<double>();
    }
    sum = per_item.sum();
    local[0] = sum.item<double>();
    local[3] = static_cast<double>(out.logits.argmax(1).eq(y).sum().item<int64_t>());
  }
  auto global = torch::tensor({local[0], local[1], local[2], local[3]}, torch::kDouble);
  comm.all_reduce_sum(global);
  const auto g = global.accessor<double, 1>();
  ShardLoss r;
  r.rows = static_cast<int64_t>(std::llround(g[2]));
  r.correct = static_cast<int64_t>(std::llround(g[3]));
  // As one process: a mean over the batch, or the weighted mean whose all-zero weights
  // give 0 instead of 0/0.
  const double den = weight.defined() ? std::max(g[1], 1e-12) : g[2];
  r.value = g[0] / den;
  if (b > 0) r.loss = sum / den;
  return r;
}

}  // namespace

TrainResult Trainer::fit(Model& model, std::shared_ptr<const ImageSource> images, std::vector<int64_t> indices,
                         std::vector<int> labels) const {
  const auto& o = options_;
  check_items(model, images.get(), indices, labels);
  ALX_CHECK(!indices.empty(), "trainer: nothing to train on (no labeled items)");
  set_threads(o.threads());
  const torch::Device device = parse_device(o.device());
  Communicator* comm = comm_ && comm_->world_size() > 1 ? comm_.get() : nullptr;
  const int rank = comm ? comm->rank() : 0, world = comm ? comm->world_size() : 1;
  model.to(device);
  if (o.reinit()) model.reset_parameters(o.seed());
  if (comm) broadcast_state(*comm, model, /*buffers_only=*/false);

  TrainResult result;
  std::vector<int64_t> tr_idx, va_idx;
  std::vector<int> tr_lab, va_lab;
  split(indices, labels, o.validation_fraction(), o.seed(), tr_idx, tr_lab, va_idx, va_lab);
  result.num_train = static_cast<int64_t>(tr_idx.size());
  result.num_val = static_cast<int64_t>(va_idx.size());

  // Loss weights.
  const int64_t k = model.num_classes();
  torch::Tensor weight;
  if (o.class_weighting() == "balanced") {
    std::vector<double> counts(k, 0.0);
    for (int l : tr_lab) counts[l] += 1;
    std::vector<float> w(k, 1.0f);
    for (int64_t c = 0; c < k; ++c)
      if (counts[c] > 0) w[c] = static_cast<float>(tr_lab.size() / (static_cast<double>(k) * counts[c]));
    weight = torch::tensor(w).to(device);
  } else if (o.class_weighting() == "explicit") {
    ALX_CHECK(static_cast<int64_t>(o.class_weights().size()) == k,
              "trainer: class_weights has {} entries, the model has {} classes", o.class_weights().size(), k);
    std::vector<float> w(o.class_weights().begin(), o.class_weights().end());
    weight = torch::tensor(w).to(device);
  }

  // Optimizer over the trainable parameters.
  const bool freeze = o.freeze_backbone();
  auto params = model.parameters(freeze);
  ALX_CHECK(!params.empty(), "trainer: model '{}' has no parameters to train", model.name());
  for (auto& p : params) p.set_requires_grad(true);
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (o.optimizer() == "adam") {
    opt = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(o.lr()).weight_decay(o.weight_decay()));
  } else {
    opt = std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(o.lr()).momentum(o.momentum()).nesterov(o.nesterov()).weight_decay(o.weight_decay()));
  }

  // Dropout draws from its own generator (CPU); on CUDA LibTorch's default one. Each rank
  // has its own stream (rank 0 that of one process).
  const uint64_t dropout_seed =
      rank == 0 ? o.seed() : o.seed() ^ augment::mix64(0xD0D0D0D0ULL + rank);
  c10::optional<at::Generator> gen;
  if (device.is_cpu())
    gen = at::make_generator<at::CPUGeneratorImpl>(dropout_seed * 0x9E3779B97F4A7C15ULL + 7);
  // Dropout inside a TorchScript file (and any dropout on CUDA) draws from LibTorch's
  // default generator: seed it so that a seed still gives one result.
  if (!gen || !model.supports_fixed_masks()) torch::manual_seed(dropout_seed);

  // Every rank walks the same global batches and decodes only its rows of each.
  augment::BatchLoader loader(
      images, tr_idx, tr_lab, train_,
      loader_options(o.batch_size(), o.workers(), o.prefetch(), true, o.seed()).shard(rank, world));
  const int64_t steps_per_epoch = std::max<int64_t>(1, loader.num_batches());
  // Epochs to run: enough for min_steps optimizer steps on a small labeled set.
  const int epochs = static_cast<int>(
      std::max<int64_t>(o.epochs(), (o.min_steps() + steps_per_epoch - 1) / steps_per_epoch));
  const int64_t total_steps = steps_per_epoch * epochs;
  std::optional<Progress> bar;  // one bar per job, not one per rank
  if (rank == 0) bar.emplace(total_steps, "training");

  std::vector<std::pair<std::string, torch::Tensor>> best_state;
  int since_best = 0;
  int64_t step = 0, seen = 0;
  double lr = o.lr();
  const auto fit_start = std::chrono::steady_clock::now();
  for (int epoch = 0; epoch < epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    if (o.schedule() == "step") lr = o.lr() * std::pow(o.gamma(), epoch / o.step_epochs());
    set_lr(*opt, lr);
    if (freeze) {
      model.train(false);  // BatchNorm of the frozen trunk keeps its statistics
      model.set_dropout(DropoutMode::kSample, gen);
    } else {
      model.train(true);
      model.set_dropout(DropoutMode::kAuto, gen);
    }
    loader.start_epoch(epoch);
    double loss_sum = 0.0;
    int64_t correct = 0, count = 0;
    while (auto batch = loader.next()) {
      if (o.schedule() == "cosine") {
        lr = o.lr() * 0.5 * (1.0 + std::cos(kPi * static_cast<double>(step) / static_cast<double>(total_steps)));
        set_lr(*opt, lr);
      }
      auto x = batch->images.to(device);
      auto y = batch->labels.to(device);
      ModelOutput out;
      if (comm && y.size(0) == 0) {
        // An empty shard of this batch: no forward pass, but every collective below.
      } else if (freeze) {
        torch::Tensor h;
        {
          torch::NoGradGuard no_grad;
          h = model.trunk(x);
        }
        out = model.head(h);
      } else {
        out = model.forward_all(x);
      }
      torch::Tensor loss;
      double loss_value = 0.0;
      int64_t b = 0, batch_correct = 0;  // over all ranks
      if (comm) {
        ShardLoss sl = shard_loss(*comm, out, y, weight);
        loss = std::move(sl.loss);
        loss_value = sl.value;
        b = sl.rows;
        batch_correct = sl.correct;
      } else if (weight.defined()) {
        // Weighted mean as PyTorch defines it, but a batch whose items all weigh 0
        // contributes nothing instead of 0/0 = NaN.
        auto per_item = F::cross_entropy(out.logits, y, F::CrossEntropyFuncOptions().reduction(torch::kNone));
        auto w = weight.index_select(0, y);
        loss = (per_item * w).sum() / w.sum().clamp_min(1e-12);
      } else {
        loss = F::cross_entropy(out.logits, y);
      }
      if (!comm) {
        loss_value = loss.item<double>();
        b = y.size(0);
        batch_correct = out.logits.argmax(1).eq(y).sum().item<int64_t>();
      }
      // With several ranks loss_value is the global loss: every rank throws together.
      ALX_CHECK(std::isfinite(loss_value),
                "trainer: the loss became {} at epoch {}, step {}; lower the learning rate (now "
                "{}) or check the inputs",
                loss_value, epoch, step, lr);
      opt->zero_grad();
      if (loss.defined()) loss.backward();
      if (comm) sum_gradients(*comm, params);
      if (o.grad_clip() > 0) torch::nn::utils::clip_grad_norm_(params, o.grad_clip());
      opt->step();
      loss_sum += loss_value * b;
      correct += batch_correct;
      count += b;
      ++step;
      if (bar) bar->advance(1);
    }
    seen += count;
    EpochStats st;
    st.epoch = epoch;
    st.loss = count ? loss_sum / count : 0.0;
    st.train_accuracy = count ? static_cast<double>(correct) / count : 0.0;
    st.lr = lr;
    if (!va_idx.empty()) {
      // One model on every rank: rank 0's BatchNorm statistics (evaluation is sharded).
      if (comm) broadcast_state(*comm, model, /*buffers_only=*/true);
      st.val_accuracy = evaluate(model, images, va_idx, va_lab).accuracy;
      if (st.val_accuracy > result.best_val_accuracy) {
        result.best_val_accuracy = st.val_accuracy;
        result.best_epoch = epoch;
        since_best = 0;
        if (o.restore_best()) {
          best_state.clear();
          for (auto& kv : model.state()) best_state.emplace_back(kv.first, kv.second.detach().clone());
        }
      } else {
        ++since_best;
      }
    }
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    log::debug("epoch {}: loss {:.4f}, train acc {:.4f}, held-out acc {:.4f}, lr {:.2e}, {:.1f} s", epoch, st.loss,
               st.train_accuracy, st.val_accuracy, lr, st.seconds);
    result.epochs.push_back(st);
    if (!va_idx.empty() && o.patience() > 0 && since_best >= o.patience()) {
      result.stopped_early = epoch + 1 < epochs;
      break;
    }
  }
  if (bar) bar->finish();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
  if (!best_state.empty()) model.load_state(best_state);
  if (comm) broadcast_state(*comm, model, /*buffers_only=*/true);
  model.train(false);
  model.set_dropout(DropoutMode::kAuto);
  model.set_version(model.version() + 1);
  result.model_version = model.version();
  // Validation passes are part of the fit; the rate counts training images only.
  result.images_per_second = secs > 0 ? seen / secs : 0.0;
  return result;
}

Metrics Trainer::evaluate(Model& model, std::shared_ptr<const ImageSource> images,
                          const std::vector<int64_t>& indices, const std::vector<int>& labels) const {
  check_items(model, images.get(), indices, labels);
  set_threads(options_.threads());
  Communicator* comm = comm_ && comm_->world_size() > 1 ? comm_.get() : nullptr;
  const torch::Device device = model.device();
  const bool was_training = model.is_training();
  model.train(false);
  model.set_dropout(DropoutMode::kAuto);
  torch::NoGradGuard no_grad;
  // Several ranks: each predicts its contiguous shard of the items.
  const auto [lo, hi] =
      comm ? shard_of(static_cast<int64_t>(indices.size()), comm->rank(), comm->world_size())
           : std::pair<int64_t, int64_t>{0, static_cast<int64_t>(indices.size())};
  augment::BatchLoader loader(images,
                              std::vector<int64_t>(indices.begin() + lo, indices.begin() + hi),
                              std::vector<int>(labels.begin() + lo, labels.begin() + hi), eval_,
                              loader_options(options_.eval_batch_size(), options_.workers(),
                                             options_.prefetch(), false, options_.seed()));
  loader.start_epoch(0);
  std::vector<torch::Tensor> truth, pred;
  while (auto batch = loader.next()) {
    pred.push_back(model.forward(batch->images.to(device)).argmax(1).cpu());
    truth.push_back(batch->labels.cpu());
  }
  model.train(was_training);
  const int64_t k = model.num_classes();
  if (comm) {
    torch::Tensor confusion = torch::zeros({k, k}, torch::kLong);
    if (!pred.empty())
      confusion = compute_metrics(torch::cat(truth), torch::cat(pred), k).confusion.contiguous();
    comm->all_reduce_sum(confusion);
    return metrics_from_confusion(confusion);
  }
  if (pred.empty())
    return compute_metrics(torch::zeros({0}, torch::kLong), torch::zeros({0}, torch::kLong), k);
  return compute_metrics(torch::cat(truth), torch::cat(pred), k);
}

}  // namespace alx::training
