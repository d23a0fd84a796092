// The built-in models: Gal et al.'s small CNN and ResNet-18 (two stems).
#include "internal.h"

#include <cmath>

namespace alx::training::detail {

namespace nn = torch::nn;

void set_dropouts(std::vector<McDropout>& layers, DropoutMode mode,
                  c10::optional<at::Generator> generator, std::vector<torch::Tensor> masks) {
  if (mode == DropoutMode::kFixed) {
    ALX_CHECK(masks.size() == layers.size(), "fixed dropout: {} masks given, the model has {} dropout layers",
              masks.size(), layers.size());
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    layers[i]->set(mode, generator, mode == DropoutMode::kFixed ? masks[i] : torch::Tensor());
  }
}

void init_module(nn::Module& module, at::Generator& gen, bool kaiming_conv) {
  torch::NoGradGuard no_grad;
  auto uniform_fan_in = [&](torch::Tensor& w, torch::Tensor& b) {
    const int64_t fan_in = w.numel() / w.size(0);
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    w.uniform_(-bound, bound, gen);
    if (b.defined()) b.uniform_(-bound, bound, gen);
  };
  for (auto& m : module.modules(/*include_self=*/true)) {
    if (auto* conv = m->as<nn::Conv2d>()) {
      if (kaiming_conv) {
        const int64_t fan_out = conv->weight.size(0) * conv->weight[0][0].numel();
        conv->weight.normal_(0.0, std::sqrt(2.0 / static_cast<double>(fan_out)), gen);
        if (conv->bias.defined()) conv->bias.zero_();
      } else {
        uniform_fan_in(conv->weight, conv->bias);
      }
    } else if (auto* linear = m->as<nn::Linear>()) {
      uniform_fan_in(linear->weight, linear->bias);
    } else if (auto* bn = m->as<nn::BatchNorm2d>()) {
      bn->weight.fill_(1.0);
      bn->bias.zero_();
      bn->running_mean.zero_();
      bn->running_var.fill_(1.0);
      bn->num_batches_tracked.zero_();
    }
  }
}

void append_state(nn::Module& module, const std::string& prefix,
                  std::vector<std::pair<std::string, torch::Tensor>>& out) {
  for (auto& p : module.named_parameters(true)) out.emplace_back(prefix + p.key(), p.value());
  for (auto& b : module.named_buffers(true)) out.emplace_back(prefix + b.key(), b.value());
}

namespace {

/// Shared plumbing of models built from one nn::Module.
template <class Net>
class ModuleModel : public Model {
 public:
  ModuleModel(ModelOptions options, Net net) : Model(std::move(options)), net_(std::move(net)) {}

  void train(bool on) override { net_->train(on); }
  bool is_training() const override { return net_->is_training(); }
  void to(torch::Device device) override {
    net_->to(device);
    device_ = device;
  }
  torch::Device device() const override { return device_; }
  std::vector<std::pair<std::string, torch::Tensor>> state() override {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    append_state(*net_, "", out);
    return out;
  }
  std::vector<DropoutSite> dropout_sites() const override {
    std::vector<DropoutSite> sites;
    for (const auto& d : dropouts_) sites.push_back(d->site());
    return sites;
  }
  void set_dropout(DropoutMode mode, c10::optional<at::Generator> generator,
                   std::vector<torch::Tensor> masks) override {
    set_dropouts(dropouts_, mode, std::move(generator), std::move(masks));
  }

 protected:
  Net net_;
  std::vector<McDropout> dropouts_;  ///< with p > 0, in forward order
  torch::Device device_ = torch::kCPU;
};

// ---------------------------------------------------------------- Gal CNN

/// A stride-1, unpadded convolution. On the CPU with one input channel LibTorch 1.13's
/// oneDNN path is ~8x slower than its own im2col + GEMM (thnn_conv2d): 17 vs 2.2 ms for
/// 256 Fashion-MNIST images on 2 cores. With more input channels oneDNN wins.
torch::Tensor conv_valid(nn::Conv2d& conv, const torch::Tensor& x) {
  if (!x.device().is_cpu() || x.size(1) != 1) return conv->forward(x);
  const int64_t kh = conv->weight.size(2), kw = conv->weight.size(3);
  return at::thnn_conv2d(x, conv->weight, {kh, kw}, conv->bias, {1, 1}, {0, 0});
}

/// max_pool2d(h, 2), flooring odd sides. Without autograd, the maximum of four strided
/// views: ~6x faster than max_pool2d on NCHW here (2.0 vs 13.3 ms on [256, 32, 24, 24]).
/// With autograd, max_pool2d itself (its backward sends a gradient to one element of each
/// window; the views' would split it on ties).
torch::Tensor max_pool_2x2(const torch::Tensor& h) {
  if (torch::GradMode::is_enabled() && h.requires_grad()) return torch::max_pool2d(h, 2);
  const int64_t rows = h.size(2) / 2 * 2, cols = h.size(3) / 2 * 2;
  auto at = [&](int64_t r, int64_t c) { return h.slice(2, r, rows, 2).slice(3, c, cols, 2); };
  return torch::maximum(torch::maximum(at(0, 0), at(0, 1)), torch::maximum(at(1, 0), at(1, 1)));
}

struct GalCnnImpl : nn::Module {
  GalCnnImpl(int64_t in_channels, int64_t classes, int64_t image_size, int64_t kernel, double p_conv,
             double p_dense) {
    const int64_t side = (image_size - 2 * (kernel - 1)) / 2;
    ALX_CHECK(side >= 1, "gal_cnn: image_size {} is too small for kernel_size {}", image_size, kernel);
    flat = 32 * side * side;
    conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in_channels, 32, kernel)));
    conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(32, 32, kernel)));
    drop1 = register_module("drop1", McDropout(p_conv, std::vector<int64_t>{flat}));
    fc1 = register_module("fc1", nn::Linear(flat, 128));
    drop2 = register_module("drop2", McDropout(p_dense, std::vector<int64_t>{128}));
    fc2 = register_module("fc2", nn::Linear(128, classes));
  }
  int64_t flat = 0;
  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  McDropout drop1{nullptr}, drop2{nullptr};
  nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(GalCnn);

class GalCnnModel : public ModuleModel<GalCnn> {
 public:
  explicit GalCnnModel(const ModelOptions& o)
      : ModuleModel(o, GalCnn(o.in_channels(), o.num_classes(), o.image_size(), o.kernel_size(),
                              o.conv_dropout(), o.dropout() < 0 ? 0.5 : o.dropout())) {
    for (auto* d : {&net_->drop1, &net_->drop2})
      if ((*d)->p() > 0) dropouts_.push_back(*d);
  }
  int64_t embedding_dim() const override { return 128; }

  torch::Tensor trunk(const torch::Tensor& x) override {
    check_input(x);
    // In place: neither convolution's backward needs its output.
    auto h = conv_valid(net_->conv1, x).relu_();
    h = net_->conv2(h).relu_();
    return max_pool_2x2(h).flatten(1);
  }
  ModelOutput head(const torch::Tensor& h) override {
    auto e = torch::relu(net_->fc1(net_->drop1(h)));
    return {net_->fc2(net_->drop2(e)), e};
  }
  std::vector<HeadLayer> head_layers() const override {
    std::vector<HeadLayer> layers;
    if (net_->drop1->p() > 0) layers.push_back({HeadLayer::Kind::kDropout, net_->drop1->p(), {}, {}});
    layers.push_back({HeadLayer::Kind::kLinear, 0.0, net_->fc1->weight, net_->fc1->bias});
    layers.push_back({HeadLayer::Kind::kRelu, 0.0, {}, {}});
    if (net_->drop2->p() > 0) layers.push_back({HeadLayer::Kind::kDropout, net_->drop2->p(), {}, {}});
    layers.push_back({HeadLayer::Kind::kLinear, 0.0, net_->fc2->weight, net_->fc2->bias});
    return layers;
  }
  std::vector<torch::Tensor> parameters(bool head_only) override {
    if (!head_only) return net_->parameters();
    auto p = net_->fc1->parameters();
    for (auto& t : net_->fc2->parameters()) p.push_back(t);
    return p;
  }
  void reset_parameters(uint64_t seed) override {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    init_on_cpu(*net_, gen, false);
  }

 private:
  void check_input(const torch::Tensor& x) const {
    ALX_CHECK(x.dim() == 4 && x.size(1) == options_.in_channels() && x.size(2) == options_.image_size() &&
                  x.size(3) == options_.image_size(),
              "gal_cnn expects images [B, {}, {}, {}], got [{}]", options_.in_channels(),
              options_.image_size(), options_.image_size(), fmt::join(x.sizes(), ", "));
  }
  void init_on_cpu(nn::Module& m, at::Generator& gen, bool kaiming) {
    // Draw on the CPU (the generator is a CPU one) so a seed gives the same weights anywhere.
    const torch::Device dev = device_;
    if (dev != torch::kCPU) m.to(torch::kCPU);
    init_module(m, gen, kaiming);
    if (dev != torch::kCPU) m.to(dev);
  }
};

// ---------------------------------------------------------------- ResNet-18

struct BasicBlockImpl : nn::Module {
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride) {
    conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    bn1 = register_module("bn1", nn::BatchNorm2d(out));
    conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
    bn2 = register_module("bn2", nn::BatchNorm2d(out));
    if (stride != 1 || in != out) {
      down_conv = register_module("down_conv", nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
      down_bn = register_module("down_bn", nn::BatchNorm2d(out));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = torch::relu(bn1(conv1(x)));
    h = bn2(conv2(h));
    auto skip = down_conv ? down_bn(down_conv(x)) : x;
    return torch::relu(h + skip);
  }
  nn::Conv2d conv1{nullptr}, conv2{nullptr}, down_conv{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, down_bn{nullptr};
};
TORCH_MODULE(BasicBlock);

struct ResNet18Impl : nn::Module {
  ResNet18Impl(int64_t in_channels, int64_t classes, bool small, double p) : small_stem(small) {
    if (small) {
      stem = register_module("stem", nn::Conv2d(nn::Conv2dOptions(in_channels, 64, 3).padding(1).bias(false)));
    } else {
      stem = register_module("stem", nn::Conv2d(nn::Conv2dOptions(in_channels, 64, 7).stride(2).padding(3).bias(false)));
    }
    stem_bn = register_module("stem_bn", nn::BatchNorm2d(64));
    int64_t in = 64;
    const int64_t widths[4] = {64, 128, 256, 512};
    for (int s = 0; s < 4; ++s) {
      nn::Sequential stage;
      for (int b = 0; b < 2; ++b) {
        stage->push_back(BasicBlock(in, widths[s], (b == 0 && s > 0) ? 2 : 1));
        in = widths[s];
      }
      stages.push_back(register_module("layer" + std::to_string(s + 1), stage));
    }
    drop = register_module("drop", McDropout(p, std::vector<int64_t>{512}));
    fc = register_module("fc", nn::Linear(512, classes));
  }
  torch::Tensor features(const torch::Tensor& x) {
    auto h = torch::relu(stem_bn(stem(x)));
    if (!small_stem) h = torch::max_pool2d(h, 3, 2, 1);
    for (auto& s : stages) h = s->forward(h);
    return torch::adaptive_avg_pool2d(h, {1, 1}).flatten(1);
  }
  bool small_stem;
  nn::Conv2d stem{nullptr};
  nn::BatchNorm2d stem_bn{nullptr};
  std::vector<nn::Sequential> stages;
  McDropout drop{nullptr};
  nn::Linear fc{nullptr};
};
TORCH_MODULE(ResNet18);

class ResNet18Model : public ModuleModel<ResNet18> {
 public:
  explicit ResNet18Model(const ModelOptions& o)
      : ModuleModel(o, ResNet18(o.in_channels(), o.num_classes(), small(o), std::max(0.0, o.dropout()))) {
    if (net_->drop->p() > 0) dropouts_.push_back(net_->drop);
  }
  static bool small(const ModelOptions& o) {
    ALX_CHECK(o.variant() == "imagenet" || o.variant() == "small",
              "resnet18: unknown variant '{}'; valid: imagenet, small", o.variant());
    return o.variant() == "small";
  }
  int64_t embedding_dim() const override { return 512; }
  torch::Tensor trunk(const torch::Tensor& x) override {
    ALX_CHECK(x.dim() == 4 && x.size(1) == options_.in_channels(),
              "resnet18 expects images [B, {}, H, W], got [{}]", options_.in_channels(),
              fmt::join(x.sizes(), ", "));
    return net_->features(x);
  }
  ModelOutput head(const torch::Tensor& h) override { return {net_->fc(net_->drop(h)), h}; }
  std::vector<HeadLayer> head_layers() const override {
    std::vector<HeadLayer> layers;
    if (net_->drop->p() > 0) layers.push_back({HeadLayer::Kind::kDropout, net_->drop->p(), {}, {}});
    layers.push_back({HeadLayer::Kind::kLinear, 0.0, net_->fc->weight, net_->fc->bias});
    return layers;
  }
  std::vector<torch::Tensor> parameters(bool head_only) override {
    return head_only ? net_->fc->parameters() : net_->parameters();
  }
  void reset_parameters(uint64_t seed) override {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const torch::Device dev = device_;
    if (dev != torch::kCPU) net_->to(torch::kCPU);
    init_module(*net_, gen, /*kaiming_conv=*/true);
    if (dev != torch::kCPU) net_->to(dev);
  }
};

}  // namespace

std::unique_ptr<Model> make_gal_cnn(const ModelOptions& options) {
  auto m = std::make_unique<GalCnnModel>(options);
  m->reset_parameters(0);
  return m;
}

std::unique_ptr<Model> make_resnet18(const ModelOptions& options) {
  auto m = std::make_unique<ResNet18Model>(options);
  m->reset_parameters(0);
  return m;
}

}  // namespace alx::training::detail
