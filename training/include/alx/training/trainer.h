// alx/training/trainer.h — fits a Model on the labeled part of a pool, and evaluates it.
//
//   auto model = make_model(ModelOptions().name("gal_cnn"));
//   Trainer trainer(TrainerOptions().epochs(10).lr(1e-3), train_pipeline, eval_pipeline);
//   TrainResult r = trainer.fit(*model, images, pool);          // labeled items of `pool`
//   Metrics m = trainer.evaluate(*model, test_images, test_indices, test_labels);
//
// Data-parallel (several processes started with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT;
// see distributed.h):
//
//   trainer.set_communicator(alx::training::Communicator::create());  // RANK, WORLD_SIZE, …
//   TrainResult r = trainer.fit(*model, images, pool);                // on every rank
//
// Every rank holds the same pool, options and seed and calls fit/evaluate together. The
// global batch order comes from (seed, epoch) as in one process; each global batch of
// batch_size rows is split into contiguous rank shards (shard_of), and each rank decodes,
// augments and runs forward/backward on its rows only (a sharded augment::BatchLoader).
// Gradients are exact whatever the shard sizes: a rank's loss is its sum of per-item
// losses over the global denominator (the batch's rows, or with class weights the global
// sum of the weights of its labels, all-reduced), and the gradients are all-reduce-summed
// before clipping and the optimizer step; a rank whose shard of a batch is empty still
// joins every all-reduce. Parameters and buffers are broadcast from rank 0 at the start of
// every fit (after reinit, or of the warm-started model), so every rank steps the same
// model. Loss and accuracy statistics are sums over ranks, and a non-finite (global) loss
// throws on every rank at once. The held-out split is the same everywhere; evaluation
// shards the items and all-reduces the confusion matrix, so metrics, early stopping and
// the best epoch agree on every rank.
// What differs from one process: dropout masks come from a stream per rank (the seed
// mixed with the rank), so the result equals one process's (up to the order of float
// sums) only for models without dropout; BatchNorm normalises with its rank's shard's
// statistics (as PyTorch DDP without SyncBatchNorm), and the running statistics every
// rank ends with (and evaluates with) are rank 0's, broadcast before each held-out pass
// and at the end of the fit. A world of one (or no communicator) is plain one-process
// training, bit for bit.
// An error only one rank meets (an unreadable image in its shard) throws there; the other
// ranks then fail at their next collective's timeout (DistributedOptions::timeout_s).
// Ranks sharing a machine should share its cores: threads = cores / ranks per machine.
#pragma once

#include <alx/core/image_source.h>
#include <alx/core/options.h>
#include <alx/core/pool.h>
#include <alx/training/model.h>

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace alx::augment {
class Pipeline;
}

namespace alx::training {

class Communicator;

struct TrainerOptions {
  ALX_ARG(std::string, optimizer) = "adam";
  ALX_ARG(double, lr) = 1e-3;
  ALX_ARG(double, momentum) = 0.9;
  ALX_ARG(bool, nesterov) = false;
  ALX_ARG(double, weight_decay) = 0.0;
  /// constant, step (× gamma every step_epochs), cosine (to 0 over the epochs, per step)
  ALX_ARG(std::string, schedule) = "constant";
  ALX_ARG(int, step_epochs) = 10;
  ALX_ARG(double, gamma) = 0.1;
  ALX_ARG(int, epochs) = 10;
  /// At least this many optimizer steps per fit: more epochs where the labeled set is small
  /// (20 images at batch 32 are one step an epoch). 0: epochs alone.
  ALX_ARG(int64_t, min_steps) = 0;
  ALX_ARG(int64_t, batch_size) = 64;
  /// Fraction of the labeled items held out (stratified) for early stopping; 0: none.
  ALX_ARG(double, validation_fraction) = 0.0;
  /// Epochs without a better held-out accuracy before stopping; 0: never stop early.
  ALX_ARG(int, patience) = 0;
  /// With a held-out split: end with the weights of the best epoch.
  ALX_ARG(bool, restore_best) = true;
  /// none, balanced (n / (K · n_k)) or explicit (class_weights).
  ALX_ARG(std::string, class_weighting) = "none";
  ALX_ARG(std::vector<double>, class_weights) = {};
  /// true: fresh initialisation from `seed` at every fit (each round); false: warm start.
  ALX_ARG(bool, reinit) = true;
  /// Train only the head; the trunk runs in eval mode without gradients.
  ALX_ARG(bool, freeze_backbone) = false;
  ALX_ARG(double, grad_clip) = 0.0;
  /// LibTorch intra-op threads; 0: every core (LibTorch itself starts with 1 here).
  ALX_ARG(int, threads) = 0;
  /// Augmentation worker threads of the batch loader and batches prefetched.
  ALX_ARG(int, workers) = 2;
  ALX_ARG(int, prefetch) = 4;
  ALX_ARG(uint64_t, seed) = 0;
  ALX_ARG(std::string, device) = "cpu";
  ALX_ARG(int64_t, eval_batch_size) = 256;

 public:
  template <class V>
  void visit(V&& v) {
    v("optimizer", optimizer_, "adam or sgd");
    v("lr", lr_, "learning rate", Range::positive());
    v("momentum", momentum_, "sgd momentum", Range::between(0, 1));
    v("nesterov", nesterov_, "sgd Nesterov momentum");
    v("weight_decay", weight_decay_, "L2 weight decay", Range::at_least(0));
    v("schedule", schedule_, "learning-rate schedule: constant, step or cosine");
    v("step_epochs", step_epochs_, "step schedule: epochs between decays", Range::at_least(1));
    v("gamma", gamma_, "step schedule: decay factor", Range::positive());
    v("epochs", epochs_, "passes over the labeled set (maximum with early stopping)", Range::at_least(1));
    v("min_steps", min_steps_,
      "at least this many optimizer steps per fit (more epochs on few labels); 0: off",
      Range::at_least(0));
    v("batch_size", batch_size_, "training batch size", Range::at_least(1));
    v("validation_fraction", validation_fraction_, "held-out fraction for early stopping", Range::between(0, 0.9));
    v("patience", patience_, "epochs without improvement before stopping (0: never)", Range::at_least(0));
    v("restore_best", restore_best_, "end with the best held-out epoch's weights");
    v("class_weighting", class_weighting_, "loss weights: none, balanced or explicit");
    v("class_weights", class_weights_, "explicit loss weight per class", Range::at_least(0));
    v("reinit", reinit_, "re-initialise the model at every fit (false: warm start)");
    v("freeze_backbone", freeze_backbone_, "train only the head");
    v("grad_clip", grad_clip_, "clip the gradient norm (0: off)", Range::at_least(0));
    v("threads", threads_, "LibTorch threads (0: all cores)", Range::at_least(0));
    v("workers", workers_, "augmentation worker threads", Range::at_least(0));
    v("prefetch", prefetch_, "batches prepared ahead", Range::at_least(1));
    v("seed", seed_, "seed of initialisation, shuffling, augmentation and dropout");
    v("device", device_, "cpu, cuda or cuda:N");
    v("eval_batch_size", eval_batch_size_, "batch size of evaluation", Range::at_least(1));
  }
};

/// One epoch of a fit.
struct EpochStats {
  int epoch = 0;
  double loss = 0.0;            ///< mean training loss
  double train_accuracy = 0.0;  ///< on the augmented training batches
  double val_accuracy = -1.0;   ///< held-out accuracy, -1 without a split
  double lr = 0.0;              ///< at the end of the epoch
  double seconds = 0.0;
};

struct TrainResult {
  std::vector<EpochStats> epochs;
  int best_epoch = -1;           ///< by held-out accuracy; -1 without a split
  double best_val_accuracy = -1.0;
  bool stopped_early = false;
  int64_t num_train = 0, num_val = 0;
  double images_per_second = 0.0;  ///< training images per second over the fit (all ranks)
  int64_t model_version = 0;       ///< Model::version() after the fit
};

/// Classification metrics over K classes.
struct Metrics {
  int64_t n = 0;
  double accuracy = 0.0;
  double macro_f1 = 0.0;
  std::vector<double> per_class_accuracy;  ///< recall per class (NaN for an absent class)
  std::vector<double> per_class_f1;
  torch::Tensor confusion;  ///< [K, K] int64, rows = true class, columns = predicted
};

/// Metrics from true labels [N] and predicted labels [N] (int64) over `num_classes`.
Metrics compute_metrics(const torch::Tensor& truth, const torch::Tensor& predicted, int64_t num_classes);

class Trainer {
 public:
  /// `train` augments training batches, `eval` prepares held-out and evaluation
  /// images; null pipelines only convert images to tensors.
  explicit Trainer(TrainerOptions options = {}, std::shared_ptr<const augment::Pipeline> train = nullptr,
                   std::shared_ptr<const augment::Pipeline> eval = nullptr);

  const TrainerOptions& options() const noexcept { return options_; }

  /// Trains data-parallel over `comm`'s ranks from now on (see the file comment); fit and
  /// evaluate become collective calls. nullptr or a world of one: one process.
  void set_communicator(std::shared_ptr<Communicator> comm) { comm_ = std::move(comm); }
  const std::shared_ptr<Communicator>& communicator() const noexcept { return comm_; }

  /// Fits `model` on the labeled items of `pool` (images from `images`, same indices).
  TrainResult fit(Model& model, std::shared_ptr<const ImageSource> images, const Pool& pool) const;
  /// Fits on explicit items; labels in [0, num_classes).
  TrainResult fit(Model& model, std::shared_ptr<const ImageSource> images, std::vector<int64_t> indices,
                  std::vector<int> labels) const;

  /// Accuracy, per-class accuracy, macro-F1 and confusion matrix of `model` on items.
  /// With a communicator each rank predicts its shard of the items and the confusion
  /// matrices are summed: every rank gets the metrics of all items.
  Metrics evaluate(Model& model, std::shared_ptr<const ImageSource> images, const std::vector<int64_t>& indices,
                   const std::vector<int>& labels) const;

 private:
  TrainerOptions options_;
  std::shared_ptr<const augment::Pipeline> train_, eval_;
  std::shared_ptr<Communicator> comm_;
};

}  // namespace alx::training
