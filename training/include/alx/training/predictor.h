// alx/training/predictor.h — streams pool items through a model: probabilities,
// MC-dropout samples, embeddings and BADGE gradient embeddings.
//
// MC-dropout done right: the model stays in eval mode (BatchNorm uses its running
// statistics and never updates them); only dropout layers sample. Three ways to get
// T passes, same distribution:
//   path "full"  T forward passes of the whole model;
//   path "head"  the deterministic trunk once, the head T times (needs dropout only in the head);
//   masks "fixed" one mask per pass and dropout layer shared by every item (as BatchBALD wants);
//                with path "head" the masks fold into the weights of the following
//                Linear layer, so the T passes of a batch are one matrix product.
// Same seed and fixed masks: "full" and "head" give the same samples (up to float rounding).
// Test-time augmentation (mc_source "tta") is another source of passes: pass t runs the
// TTA pipeline with seed + t, dropout off.
//
//   Predictor predictor(PredictorOptions().mc_passes(20).masks("fixed"), eval_pipeline);
//   torch::Tensor mc = predictor.mc_samples(*model, images, pool.unlabeled());  // [N, 20, K]
#pragma once

#include <alx/core/image_source.h>
#include <alx/core/options.h>
#include <alx/training/model.h>

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace alx::augment {
class Pipeline;
}

namespace alx::training {

struct PredictorOptions {
  ALX_ARG(int64_t, batch_size) = 256;
  /// Items per trunk call within a batch, on the CPU (0: the whole batch). Small slices keep
  /// activations in cache and within glibc's heap: larger ones are mapped and unmapped on
  /// every call and page-fault afresh. Gal CNN, 2 cores: ~7,300 images/s in slices of 32,
  /// ~4,200 in one call of 256.
  ALX_ARG(int64_t, micro_batch) = 32;
  ALX_ARG(int, workers) = 1;
  ALX_ARG(int, prefetch) = 4;
  /// LibTorch intra-op threads; 0: every core.
  ALX_ARG(int, threads) = 0;
  /// "" keeps the model's device; otherwise cpu, cuda, cuda:N.
  ALX_ARG(std::string, device) = "";
  /// T of mc_samples().
  ALX_ARG(int, mc_passes) = 20;
  /// dropout or tta.
  ALX_ARG(std::string, mc_source) = "dropout";
  /// per_item (a fresh mask per item and pass) or fixed (one mask per pass, shared by all items).
  ALX_ARG(std::string, masks) = "per_item";
  /// auto (head when the model allows it), head or full.
  ALX_ARG(std::string, path) = "auto";
  ALX_ARG(uint64_t, seed) = 0;

 public:
  template <class V>
  void visit(V&& v) {
    v("batch_size", batch_size_, "items per batch", Range::at_least(1));
    v("micro_batch", micro_batch_,
      "items per trunk call within a batch on the CPU (0: whole batch)", Range::at_least(0));
    v("workers", workers_, "image loading threads", Range::at_least(0));
    v("prefetch", prefetch_, "batches prepared ahead", Range::at_least(1));
    v("threads", threads_, "LibTorch threads (0: all cores)", Range::at_least(0));
    v("device", device_, "device ('' keeps the model's)");
    v("mc_passes", mc_passes_, "stochastic passes T", Range::at_least(1));
    v("mc_source", mc_source_, "source of the passes: dropout or tta");
    v("masks", masks_, "dropout masks: per_item or fixed");
    v("path", path_, "MC path: auto, head or full");
    v("seed", seed_, "seed of dropout masks and TTA");
  }
};

/// What predict() computes (bit flags).
enum PredictWhat : unsigned {
  kProbs = 1u,
  kMcSamples = 2u,
  kEmbeddings = 4u,
  kGradEmbeddings = 8u,
};

/// Results of predict(); row i belongs to indices[i]. Tensors not asked for are undefined.
struct Predictions {
  torch::Tensor probs;            ///< [N, K] softmax of the deterministic pass
  torch::Tensor mc_samples;       ///< [N, T, K] softmax of each stochastic pass
  torch::Tensor embeddings;       ///< [N, D] penultimate features
  torch::Tensor grad_embeddings;  ///< [N, K·D] BADGE: (p − onehot(argmax p)) ⊗ embedding
};

class Predictor {
 public:
  /// `eval` prepares images (null: conversion to tensors only); `tta` draws the
  /// augmented views of mc_source "tta".
  explicit Predictor(PredictorOptions options = {}, std::shared_ptr<const augment::Pipeline> eval = nullptr,
                     std::shared_ptr<const augment::Pipeline> tta = nullptr);

  const PredictorOptions& options() const noexcept { return options_; }

  /// Everything in `what` from one stream over the items (the trunk runs once per batch
  /// for all of it when MC uses the head path).
  Predictions predict(Model& model, std::shared_ptr<const ImageSource> images, const std::vector<int64_t>& indices,
                      unsigned what) const;

  /// [N, K] class probabilities.
  torch::Tensor probs(Model& model, std::shared_ptr<const ImageSource> images,
                      const std::vector<int64_t>& indices) const {
    return predict(model, std::move(images), indices, kProbs).probs;
  }
  /// [N, T, K] probabilities of T stochastic passes.
  torch::Tensor mc_samples(Model& model, std::shared_ptr<const ImageSource> images,
                           const std::vector<int64_t>& indices) const {
    return predict(model, std::move(images), indices, kMcSamples).mc_samples;
  }
  /// [N, D] penultimate features.
  torch::Tensor embeddings(Model& model, std::shared_ptr<const ImageSource> images,
                           const std::vector<int64_t>& indices) const {
    return predict(model, std::move(images), indices, kEmbeddings).embeddings;
  }
  /// [N, K·D] BADGE gradient embeddings.
  torch::Tensor grad_embeddings(Model& model, std::shared_ptr<const ImageSource> images,
                                const std::vector<int64_t>& indices) const {
    return predict(model, std::move(images), indices, kGradEmbeddings).grad_embeddings;
  }

  /// The fixed masks a call with this seed uses: masks[t][s] for pass t and dropout site s,
  /// scaled by 1 / (1 − p). Exposed so that callers (and tests) can reproduce passes.
  static std::vector<std::vector<torch::Tensor>> fixed_masks(const Model& model, int passes, uint64_t seed);

  /// [B, T, K] logits of T passes over features [B, F] (the trunk's output) through the
  /// model's head layers with fixed masks folded into the weights. The fast path, exposed.
  static torch::Tensor folded_head_logits(const Model& model, const torch::Tensor& features,
                                          const std::vector<std::vector<torch::Tensor>>& masks);

 private:
  PredictorOptions options_;
  std::shared_ptr<const augment::Pipeline> eval_, tta_;
};

}  // namespace alx::training
