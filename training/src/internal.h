// Internal pieces shared by the model implementations (not installed).
#pragma once

#include <alx/core/error.h>
#include <alx/training/model.h>

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace alx::training::detail {

/// Dropout whose randomness the caller controls: a generator, or fixed masks shared
/// by every item of a batch (DropoutMode). Elementwise, like torch.nn.Dropout.
class McDropoutImpl : public torch::nn::Module {
 public:
  McDropoutImpl(double p, std::vector<int64_t> shape) : p_(p), shape_(std::move(shape)) {}

  torch::Tensor forward(const torch::Tensor& x) {
    if (p_ <= 0.0) return x;
    switch (mode_) {
      case DropoutMode::kFixed:
        ALX_CHECK(mask_.defined(), "fixed dropout mode without a mask");
        return x * mask_;
      case DropoutMode::kSample:
        return sample(x);
      case DropoutMode::kAuto:
      default:
        return is_training() ? sample(x) : x;
    }
  }

  void set(DropoutMode mode, c10::optional<at::Generator> generator, torch::Tensor mask) {
    mode_ = mode;
    generator_ = std::move(generator);
    if (mode == DropoutMode::kFixed && p_ > 0.0) {
      ALX_CHECK(mask.defined(), "fixed dropout masks: one mask per dropout site is needed");
      std::vector<int64_t> got(mask.sizes().begin(), mask.sizes().end());
      ALX_CHECK(got == shape_, "fixed dropout mask has shape {}, the layer expects {}",
                fmt::join(got, "x"), fmt::join(shape_, "x"));
    }
    mask_ = std::move(mask);
  }

  DropoutSite site() const { return {p_, shape_}; }
  double p() const noexcept { return p_; }

 private:
  torch::Tensor sample(const torch::Tensor& x) {
    auto keep = torch::empty_like(x).bernoulli_(1.0 - p_, generator_);
    return x * keep.div_(1.0 - p_);
  }

  double p_;
  std::vector<int64_t> shape_;
  DropoutMode mode_ = DropoutMode::kAuto;
  c10::optional<at::Generator> generator_;
  torch::Tensor mask_;
};
TORCH_MODULE(McDropout);

/// Applies set_dropout to a list of McDropout layers (masks in the same order).
void set_dropouts(std::vector<McDropout>& layers, DropoutMode mode,
                  c10::optional<at::Generator> generator, std::vector<torch::Tensor> masks);

/// PyTorch's default initialisation of Linear / Conv2d (uniform ±1/sqrt(fan_in)) and
/// BatchNorm (1, 0, running stats reset), drawn from `gen`. With kaiming_conv, Conv2d
/// weights use kaiming_normal(fan_out, relu) as torchvision's ResNet does.
void init_module(torch::nn::Module& module, at::Generator& gen, bool kaiming_conv);

/// Named parameters and buffers of an nn::Module, names prefixed.
void append_state(torch::nn::Module& module, const std::string& prefix,
                  std::vector<std::pair<std::string, torch::Tensor>>& out);

std::unique_ptr<Model> make_gal_cnn(const ModelOptions& options);
std::unique_ptr<Model> make_resnet18(const ModelOptions& options);
std::unique_ptr<Model> make_torchscript(const ModelOptions& options);

}  // namespace alx::training::detail
