// Trainer: the fit loop (optimizer, schedule, early stopping, class weights) and evaluation.
#include "internal.h"

#include <alx/augment/loader.h>
#include <alx/augment/pipeline.h>
#include <alx/core/log.h>
#include <alx/core/progress.h>
#include <alx/training/trainer.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <random>

namespace alx::training {

namespace F = torch::nn::functional;

constexpr double kPi = 3.14159265358979323846;

Metrics compute_metrics(const torch::Tensor& truth, const torch::Tensor& predicted, int64_t k) {
  ALX_CHECK(truth.dim() == 1 && predicted.sizes() == truth.sizes(),
            "metrics: truth and predicted must both be [N], got [{}] and [{}]", fmt::join(truth.sizes(), ", "),
            fmt::join(predicted.sizes(), ", "));
  auto t = truth.to(torch::kCPU, torch::kLong);
  auto p = predicted.to(torch::kCPU, torch::kLong);
  Metrics m;
  m.n = t.numel();
  if (m.n > 0) {
    ALX_CHECK(t.min().item<int64_t>() >= 0 && t.max().item<int64_t>() < k && p.min().item<int64_t>() >= 0 &&
                  p.max().item<int64_t>() < k,
              "metrics: labels must lie in [0, {})", k);
  }
  m.confusion = torch::bincount(t * k + p, {}, k * k).view({k, k});
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

}  // namespace

TrainResult Trainer::fit(Model& model, std::shared_ptr<const ImageSource> images, std::vector<int64_t> indices,
                         std::vector<int> labels) const {
  const auto& o = options_;
  check_items(model, images.get(), indices, labels);
  ALX_CHECK(!indices.empty(), "trainer: nothing to train on (no labeled items)");
  set_threads(o.threads());
  const torch::Device device = parse_device(o.device());
  model.to(device);
  if (o.reinit()) model.reset_parameters(o.seed());

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

  // Dropout draws from its own generator (CPU); on CUDA LibTorch's default one.
  c10::optional<at::Generator> gen;
  if (device.is_cpu()) gen = at::make_generator<at::CPUGeneratorImpl>(o.seed() * 0x9E3779B97F4A7C15ULL + 7);
  // Dropout inside a TorchScript file (and any dropout on CUDA) draws from LibTorch's
  // default generator: seed it so that a seed still gives one result.
  if (!gen || !model.supports_fixed_masks()) torch::manual_seed(o.seed());

  augment::BatchLoader loader(images, tr_idx, tr_lab, train_,
                              loader_options(o.batch_size(), o.workers(), o.prefetch(), true, o.seed()));
  const int64_t steps_per_epoch = std::max<int64_t>(1, loader.num_batches());
  const int64_t total_steps = steps_per_epoch * o.epochs();
  Progress bar(total_steps, "training");

  std::vector<std::pair<std::string, torch::Tensor>> best_state;
  int since_best = 0;
  int64_t step = 0, seen = 0;
  double lr = o.lr();
  const auto fit_start = std::chrono::steady_clock::now();
  for (int epoch = 0; epoch < o.epochs(); ++epoch) {
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
      if (freeze) {
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
      if (weight.defined()) {
        // Weighted mean as PyTorch defines it, but a batch whose items all weigh 0
        // contributes nothing instead of 0/0 = NaN.
        auto per_item = F::cross_entropy(out.logits, y, F::CrossEntropyFuncOptions().reduction(torch::kNone));
        auto w = weight.index_select(0, y);
        loss = (per_item * w).sum() / w.sum().clamp_min(1e-12);
      } else {
        loss = F::cross_entropy(out.logits, y);
      }
      ALX_CHECK(std::isfinite(loss.item<double>()),
                "trainer: the loss became {} at epoch {}, step {}; lower the learning rate (now {}) or check the inputs",
                loss.item<double>(), epoch, step, lr);
      opt->zero_grad();
      loss.backward();
      if (o.grad_clip() > 0) torch::nn::utils::clip_grad_norm_(params, o.grad_clip());
      opt->step();
      const int64_t b = y.size(0);
      loss_sum += loss.item<double>() * b;
      correct += out.logits.argmax(1).eq(y).sum().item<int64_t>();
      count += b;
      ++step;
      bar.advance(1);
    }
    seen += count;
    EpochStats st;
    st.epoch = epoch;
    st.loss = count ? loss_sum / count : 0.0;
    st.train_accuracy = count ? static_cast<double>(correct) / count : 0.0;
    st.lr = lr;
    if (!va_idx.empty()) {
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
      result.stopped_early = epoch + 1 < o.epochs();
      break;
    }
  }
  bar.finish();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
  if (!best_state.empty()) model.load_state(best_state);
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
  const torch::Device device = model.device();
  const bool was_training = model.is_training();
  model.train(false);
  model.set_dropout(DropoutMode::kAuto);
  torch::NoGradGuard no_grad;
  augment::BatchLoader loader(images, indices, labels, eval_,
                              loader_options(options_.eval_batch_size(), options_.workers(), options_.prefetch(),
                                             false, options_.seed()));
  loader.start_epoch(0);
  std::vector<torch::Tensor> truth, pred;
  while (auto batch = loader.next()) {
    pred.push_back(model.forward(batch->images.to(device)).argmax(1).cpu());
    truth.push_back(batch->labels.cpu());
  }
  model.train(was_training);
  if (pred.empty()) return compute_metrics(torch::zeros({0}, torch::kLong), torch::zeros({0}, torch::kLong), model.num_classes());
  return compute_metrics(torch::cat(truth), torch::cat(pred), model.num_classes());
}

}  // namespace alx::training
