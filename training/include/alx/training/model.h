// alx/training/model.h — the Model interface and the built-in models.
//
// A Model maps images [B, C_in, H, W] (float32) to logits [B, K] and to
// penultimate features [B, D]. It is split in two so that MC-dropout can run
// the expensive deterministic part once and only the stochastic head T times:
//
//   images ──trunk()──► features [B, F] ──head()──► logits [B, K] (+ embedding [B, D])
//
// Built-ins, by name for configs:
//   "gal_cnn"     conv32 → conv32 → max-pool → dropout .25 → dense 128 → dropout .5 → dense K
//                 (Gal, Islam & Ghahramani 2017), for small gray images such as Fashion-MNIST;
//   "resnet18"    ResNet-18, variant "imagenet" (7×7/2 stem + max-pool) or "small"
//                 (3×3/1 stem, no max-pool; 28–64 px inputs), any input channels;
//   "torchscript" a TorchScript file (torch.jit.save) whose method `embed_method`
//                 returns the features; keep its own head (`head_layer`, a Linear
//                 submodule) or put a new one on top ("head: new").
//
//   auto model = alx::training::make_model(ModelOptions().name("gal_cnn").num_classes(10));
//   torch::Tensor logits = model->forward(images);   // [B, 10]
#pragma once

#include <alx/core/options.h>

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace alx::training {

/// Options of make_model(). Fields that a model does not use are ignored by it.
struct ModelOptions {
  ALX_ARG(std::string, name) = "gal_cnn";
  ALX_ARG(int64_t, num_classes) = 10;
  ALX_ARG(int64_t, in_channels) = 1;
  /// Input side in pixels (gal_cnn sizes its dense layer from it).
  ALX_ARG(int64_t, image_size) = 28;
  /// gal_cnn: side of both convolution kernels (4 in Gal et al.'s code).
  ALX_ARG(int64_t, kernel_size) = 4;
  /// resnet18: "imagenet" or "small".
  ALX_ARG(std::string, variant) = "imagenet";
  /// Dropout probability of the head; < 0 keeps the model's default
  /// (gal_cnn: 0.5 before the last layer, resnet18 and new torchscript heads: none).
  ALX_ARG(double, dropout) = -1.0;
  /// gal_cnn: dropout probability after the max-pool.
  ALX_ARG(double, conv_dropout) = 0.25;
  /// torchscript: file written by torch.jit.save.
  ALX_ARG(std::string, path) = "";
  /// torchscript: method returning features [B, D] (the input of the last layer).
  ALX_ARG(std::string, embed_method) = "embed";
  /// torchscript: "keep" (use `head_layer` as the head) or "new" (a fresh Linear head).
  ALX_ARG(std::string, head) = "keep";
  /// torchscript with head "keep": attribute name of the final Linear submodule.
  ALX_ARG(std::string, head_layer) = "fc";

 public:
  template <class V>
  void visit(V&& v) {
    v("name", name_, "model: gal_cnn, resnet18 or torchscript");
    v("num_classes", num_classes_, "number of classes", Range::at_least(1));
    v("in_channels", in_channels_, "input channels (1 gray, 3 color)", Range::at_least(1));
    v("image_size", image_size_, "input side in pixels", Range::at_least(1));
    v("kernel_size", kernel_size_, "gal_cnn convolution kernel side", Range::at_least(1));
    v("variant", variant_, "resnet18 layout: imagenet or small");
    v("dropout", dropout_, "head dropout probability; negative: model default", Range::between(-1, 0.99));
    v("conv_dropout", conv_dropout_, "gal_cnn dropout after the max-pool", Range::between(0, 0.99));
    v("path", path_, "torchscript file");
    v("embed_method", embed_method_, "torchscript method returning features [B, D]");
    v("head", head_, "torchscript head: keep or new");
    v("head_layer", head_layer_, "torchscript: name of the Linear head submodule (head: keep)");
  }
};

/// How the dropout layers of a model behave.
enum class DropoutMode {
  kAuto,   ///< sample in training mode, identity in eval mode (the usual behaviour)
  kSample, ///< always sample a fresh mask per element (MC-dropout; BatchNorm stays in eval)
  kFixed,  ///< multiply by given masks, shared by every item of the batch
};

/// One dropout layer: its probability and the shape of its input without the batch dimension.
struct DropoutSite {
  double p = 0.0;
  std::vector<int64_t> shape;
};

/// One layer of a head as the fast MC-dropout path reads it.
struct HeadLayer {
  enum class Kind { kDropout, kLinear, kRelu };
  Kind kind = Kind::kLinear;
  double p = 0.0;         ///< kDropout
  torch::Tensor weight;   ///< kLinear: [out, in]
  torch::Tensor bias;     ///< kLinear: [out] (may be undefined)
};

/// Logits and penultimate features of one forward pass.
struct ModelOutput {
  torch::Tensor logits;     ///< [B, K]
  torch::Tensor embedding;  ///< [B, D]
};

/// A classifier. Not thread-safe: one Model is driven by one thread at a time.
class Model {
 public:
  virtual ~Model() = default;

  const ModelOptions& options() const noexcept { return options_; }
  const std::string& name() const noexcept { return options_.name(); }
  int64_t num_classes() const noexcept { return options_.num_classes(); }
  /// D of embed().
  virtual int64_t embedding_dim() const = 0;

  /// images: [B, C_in, H, W] → logits [B, K].
  torch::Tensor forward(const torch::Tensor& images) { return head(trunk(images)).logits; }
  /// images: [B, C_in, H, W] → penultimate features [B, D].
  torch::Tensor embed(const torch::Tensor& images) { return head(trunk(images)).embedding; }
  /// Both at once.
  ModelOutput forward_all(const torch::Tensor& images) { return head(trunk(images)); }

  /// The deterministic part: images [B, C_in, H, W] → head input [B, F].
  virtual torch::Tensor trunk(const torch::Tensor& images) = 0;
  /// The head: features [B, F] → logits [B, K] and embedding [B, D].
  virtual ModelOutput head(const torch::Tensor& features) = 0;

  /// The head as plain layers (dropout, linear, relu), for the fast MC path. Empty
  /// when the head cannot be described so, or when dropout also sits in the trunk.
  /// Its dropout layers are dropout_sites(), in order.
  virtual std::vector<HeadLayer> head_layers() const { return {}; }
  /// Dropout layers in forward order.
  virtual std::vector<DropoutSite> dropout_sites() const = 0;
  /// Sets how dropout layers behave. `generator` drives kSample (and kAuto in
  /// training; a null generator uses LibTorch's default one). kFixed takes one mask
  /// per dropout site, each of the site's shape, already scaled by 1/(1-p).
  virtual void set_dropout(DropoutMode mode, c10::optional<at::Generator> generator = c10::nullopt,
                           std::vector<torch::Tensor> masks = {}) = 0;
  /// True when every dropout layer obeys set_dropout's masks and generator
  /// (false for dropout inside a TorchScript file, which only knows kSample).
  virtual bool supports_fixed_masks() const { return true; }

  /// Training mode (BatchNorm batch statistics, dropout per kAuto) or eval mode.
  virtual void train(bool on) = 0;
  virtual bool is_training() const = 0;
  virtual void to(torch::Device device) = 0;
  virtual torch::Device device() const = 0;

  /// Parameters to optimise; head_only: only the head (frozen backbone).
  virtual std::vector<torch::Tensor> parameters(bool head_only = false) = 0;
  /// Every parameter and buffer by name (BatchNorm statistics included), for checkpoints.
  virtual std::vector<std::pair<std::string, torch::Tensor>> state() = 0;
  /// Copies `state` into the model; throws alx::InvalidArgument naming a missing or
  /// mis-shaped entry.
  void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& state);
  /// Fresh initialisation from `seed` (no global random state). TorchScript models
  /// restore the weights of their file and re-initialise a new head only.
  virtual void reset_parameters(uint64_t seed) = 0;

  /// Incremented by every Trainer::fit; saved in checkpoints.
  int64_t version() const noexcept { return version_; }
  void set_version(int64_t v) noexcept { version_ = v; }

 protected:
  explicit Model(ModelOptions options) : options_(std::move(options)) {}
  ModelOptions options_;

 private:
  int64_t version_ = 0;
};

/// Builds a model by options().name(). Throws alx::InvalidArgument listing the names on
/// an unknown one, alx::IoError when a TorchScript file cannot be read.
std::unique_ptr<Model> make_model(const ModelOptions& options);
/// Names make_model() accepts.
std::vector<std::string> model_names();

/// What a checkpoint holds besides the weights.
struct CheckpointInfo {
  int64_t version = 0;     ///< Model::version() when saved
  std::string model_yaml;  ///< ModelOptions as YAML
  std::string note;        ///< free text (e.g. "round 3")
};

/// Writes options, version and every parameter and buffer to `path` (atomically:
/// a temporary file, then a rename). Throws alx::IoError naming the file.
void save_checkpoint(Model& model, const std::string& path, const std::string& note = "");
/// Rebuilds the model a checkpoint was saved from (a TorchScript model needs its file
/// at the saved path) and loads its weights. `info` receives version and note.
std::unique_ptr<Model> load_checkpoint(const std::string& path, CheckpointInfo* info = nullptr);
/// Loads a checkpoint's weights into an existing model of the same architecture.
CheckpointInfo load_checkpoint_into(Model& model, const std::string& path);

/// Parses "cpu", "cuda", "cuda:1" with a message naming the value.
torch::Device parse_device(const std::string& text);
/// Sets LibTorch's intra-op threads: n > 0, or the hardware cores when n == 0.
void set_threads(int n);

}  // namespace alx::training
