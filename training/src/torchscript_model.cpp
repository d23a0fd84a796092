// A model loaded from a TorchScript file, with its own head or a new one.
#include "internal.h"

#include <torch/script.h>

#include <filesystem>

namespace alx::training::detail {

namespace {

bool is_dropout_type(const torch::jit::Module& m) {
  const auto name = m.type()->name();
  return name && name->qualifiedName().find("Dropout") != std::string::npos;
}

class TorchScriptModel : public Model {
 public:
  explicit TorchScriptModel(const ModelOptions& o) : Model(o) {
    ALX_CHECK(!o.path().empty(), "torchscript model: option 'path' (the .pt file) is empty");
    ALX_CHECK_IO(std::filesystem::exists(o.path()), "torchscript model: cannot open '{}'", o.path());
    try {
      module_ = torch::jit::load(o.path(), torch::kCPU);
    } catch (const c10::Error& e) {
      ALX_THROW(IoError, "torchscript model: cannot load '{}': {}", o.path(), e.what_without_backtrace());
    }
    ALX_CHECK(module_.find_method(o.embed_method()).has_value(),
              "torchscript model '{}': it has no method '{}' (option embed_method) returning features [B, D]",
              o.path(), o.embed_method());
    ALX_CHECK(o.head() == "keep" || o.head() == "new",
              "torchscript model: head must be 'keep' or 'new', got '{}'", o.head());
    for (const auto& sub : module_.named_modules()) {
      // Dropout(p=0) is an identity: it neither samples nor blocks the fast path.
      if (is_dropout_type(sub.value) && (!sub.value.hasattr("p") || sub.value.attr("p").toDouble() > 0))
        jit_dropouts_.push_back(sub.value);
    }
    for (const auto& p : module_.named_parameters(true)) initial_.emplace_back(p.name, p.value.detach().clone());
    for (const auto& b : module_.named_buffers(true)) initial_.emplace_back(b.name, b.value.detach().clone());

    // Feature width from one zero image.
    {
      torch::NoGradGuard no_grad;
      module_.eval();
      auto probe = torch::zeros({1, o.in_channels(), o.image_size(), o.image_size()});
      torch::Tensor f;
      try {
        f = module_.get_method(o.embed_method())({probe}).toTensor();
      } catch (const c10::Error& e) {
        ALX_THROW(InvalidArgument, "torchscript model '{}': {}(x) failed on a [1, {}, {}, {}] input: {}", o.path(),
                  o.embed_method(), o.in_channels(), o.image_size(), o.image_size(), e.what_without_backtrace());
      }
      ALX_CHECK(f.dim() == 2, "torchscript model '{}': {}(x) must return [B, D], got {} dimensions", o.path(),
                o.embed_method(), f.dim());
      dim_ = f.size(1);
    }
    if (o.head() == "new") {
      const double p = std::max(0.0, o.dropout());
      new_head_drop_ = McDropout(p, std::vector<int64_t>{dim_});
      new_head_ = torch::nn::Linear(dim_, o.num_classes());
      new_head_->train(false);
      new_head_drop_->train(false);
      if (p > 0) dropouts_.push_back(new_head_drop_);
    } else {
      ALX_CHECK(module_.hasattr(o.head_layer()) && module_.attr(o.head_layer()).isModule(),
                "torchscript model '{}': no submodule '{}' (option head_layer); use head: new to add a head",
                o.path(), o.head_layer());
      auto fc = module_.attr(o.head_layer()).toModule();
      ALX_CHECK(fc.hasattr("weight"), "torchscript model '{}': '{}' has no weight; it must be a Linear layer",
                o.path(), o.head_layer());
      auto w = fc.attr("weight").toTensor();
      ALX_CHECK(w.dim() == 2 && w.size(0) == o.num_classes() && w.size(1) == dim_,
                "torchscript model '{}': head '{}' has weight [{}], expected [{}, {}] (num_classes, D); "
                "use head: new to replace it",
                o.path(), o.head_layer(), fmt::join(w.sizes(), ", "), o.num_classes(), dim_);
      head_module_ = fc;
    }
    reset_parameters(0);
  }

  int64_t embedding_dim() const override { return dim_; }

  torch::Tensor trunk(const torch::Tensor& x) override {
    return module_.get_method(options_.embed_method())({x}).toTensor();
  }
  ModelOutput head(const torch::Tensor& h) override {
    if (new_head_) return {new_head_(new_head_drop_(h)), h};
    auto w = head_module_.attr("weight").toTensor();
    torch::Tensor b;
    if (head_module_.hasattr("bias") && head_module_.attr("bias").isTensor()) b = head_module_.attr("bias").toTensor();
    return {torch::nn::functional::linear(h, w, b), h};
  }

  std::vector<HeadLayer> head_layers() const override {
    if (has_jit_dropout()) return {};  // dropout in the backbone: no deterministic trunk
    std::vector<HeadLayer> layers;
    if (new_head_) {
      if (new_head_drop_->p() > 0) layers.push_back({HeadLayer::Kind::kDropout, new_head_drop_->p(), {}, {}});
      layers.push_back({HeadLayer::Kind::kLinear, 0.0, new_head_->weight, new_head_->bias});
    } else {
      torch::Tensor b;
      if (head_module_.hasattr("bias") && head_module_.attr("bias").isTensor()) b = head_module_.attr("bias").toTensor();
      layers.push_back({HeadLayer::Kind::kLinear, 0.0, head_module_.attr("weight").toTensor(), b});
    }
    return layers;
  }

  std::vector<DropoutSite> dropout_sites() const override {
    std::vector<DropoutSite> sites;
    for (const auto& d : jit_dropouts_) {
      double p = 0.5;
      if (d.hasattr("p")) p = d.attr("p").toDouble();
      sites.push_back({p, {}});
    }
    for (const auto& d : dropouts_) sites.push_back(d->site());
    return sites;
  }
  bool supports_fixed_masks() const override { return !has_jit_dropout(); }

  void set_dropout(DropoutMode mode, c10::optional<at::Generator> generator,
                   std::vector<torch::Tensor> masks) override {
    ALX_CHECK(mode != DropoutMode::kFixed || !has_jit_dropout(),
              "torchscript model '{}': fixed dropout masks need alx's own dropout layers, but the file "
              "has {} dropout modules of its own",
              options_.path(), jit_dropouts_.size());
    mode_ = mode;
    set_dropouts(dropouts_, mode, std::move(generator), std::move(masks));
    apply_jit_dropout_mode();
  }

  void train(bool on) override {
    module_.train(on);
    if (new_head_) {
      new_head_->train(on);
      new_head_drop_->train(on);
    }
    apply_jit_dropout_mode();
  }
  bool is_training() const override { return module_.is_training(); }
  void to(torch::Device device) override {
    module_.to(device);
    if (new_head_) new_head_->to(device);
    device_ = device;
  }
  torch::Device device() const override { return device_; }

  std::vector<torch::Tensor> parameters(bool head_only) override {
    std::vector<torch::Tensor> out;
    if (new_head_) {
      if (!head_only)
        for (const auto& p : module_.parameters(true)) out.push_back(p);
      for (auto& p : new_head_->parameters()) out.push_back(p);
      return out;
    }
    const auto& src = head_only ? head_module_ : module_;
    for (const auto& p : src.parameters(true)) out.push_back(p);
    return out;
  }

  std::vector<std::pair<std::string, torch::Tensor>> state() override {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& p : module_.named_parameters(true)) out.emplace_back("backbone." + p.name, p.value);
    for (const auto& b : module_.named_buffers(true)) out.emplace_back("backbone." + b.name, b.value);
    if (new_head_) append_state(*new_head_, "head.", out);
    return out;
  }

  void reset_parameters(uint64_t seed) override {
    torch::NoGradGuard no_grad;
    // The file's weights are the starting point; only a new head is drawn from the seed.
    std::vector<std::pair<std::string, torch::Tensor>> start;
    for (const auto& kv : initial_) start.emplace_back("backbone." + kv.first, kv.second);
    auto current = state();
    for (auto& kv : current) {
      for (const auto& s : start)
        if (s.first == kv.first) kv.second.copy_(s.second);
    }
    if (new_head_) {
      auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
      const auto dev = device_;
      new_head_->to(torch::kCPU);
      init_module(*new_head_, gen, false);
      new_head_->to(dev);
    }
  }

 private:
  bool has_jit_dropout() const { return !jit_dropouts_.empty(); }
  void apply_jit_dropout_mode() {
    for (auto& d : jit_dropouts_) {
      // kSample: dropout stays stochastic while the rest (BatchNorm …) keeps its mode.
      d.train(mode_ == DropoutMode::kSample ? true : module_.is_training());
    }
  }

  torch::jit::Module module_;
  torch::jit::Module head_module_;
  std::vector<torch::jit::Module> jit_dropouts_;
  std::vector<std::pair<std::string, torch::Tensor>> initial_;
  int64_t dim_ = 0;
  McDropout new_head_drop_{nullptr};
  torch::nn::Linear new_head_{nullptr};
  std::vector<McDropout> dropouts_;
  DropoutMode mode_ = DropoutMode::kAuto;
  torch::Device device_ = torch::kCPU;
};

}  // namespace

std::unique_ptr<Model> make_torchscript(const ModelOptions& options) {
  return std::make_unique<TorchScriptModel>(options);
}

}  // namespace alx::training::detail
