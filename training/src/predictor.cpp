// Predictor: streams items through a model; MC-dropout (full, head-only, folded fixed masks) and TTA.
#include "internal.h"

#include <alx/augment/loader.h>
#include <alx/augment/pipeline.h>
#include <alx/core/progress.h>
#include <alx/training/predictor.h>

#include <unordered_map>

namespace alx::training {

namespace {

/// model.trunk(x) in slices of `micro` items on the CPU (eval mode: BatchNorm uses its
/// running statistics, so slicing does not change the result).
torch::Tensor trunk_in_slices(Model& model, const torch::Tensor& x, int64_t micro) {
  if (micro <= 0 || x.size(0) <= micro || !x.device().is_cpu()) return model.trunk(x);
  std::vector<torch::Tensor> parts;
  for (int64_t b = 0; b < x.size(0); b += micro)
    parts.push_back(model.trunk(x.slice(0, b, b + micro)));
  return torch::cat(parts);
}

/// The head as a short program whose dropout masks are folded into the next Linear
/// layer. Linear(W) after a mask m computes x·(W ⊙ m)ᵀ, so T masks give T weight
/// matrices: stacked into one [T·out, in] matrix, all passes are one product.
/// Cheaper still where a mask is binary (0 or 1/(1−p)) and the layer input is shared by
/// the passes: x·(W ⊙ m)ᵀ = s·(x·Wᵀ − x_D·W_Dᵀ) with D the dropped columns (or s·x_K·W_Kᵀ
/// with K the kept ones, whichever is fewer), one product with W plus T thin ones —
/// for p = 0.25 about a third of the stacked product's work.
class FoldedHead {
 public:
  FoldedHead(const std::vector<HeadLayer>& layers, const std::vector<std::vector<torch::Tensor>>& masks,
             torch::Device device) {
    ALX_CHECK(!masks.empty(), "folded head: no passes");
    passes_ = static_cast<int64_t>(masks.size());
    torch::NoGradGuard no_grad;
    size_t site = 0;
    bool per_pass = false;  // whether the activation is already [B, T, F]
    torch::Tensor pending;  // [T, in] masks waiting for the next Linear
    for (const auto& l : layers) {
      switch (l.kind) {
        case HeadLayer::Kind::kDropout: {
          std::vector<torch::Tensor> m;
          for (const auto& pass : masks) {
            ALX_CHECK(site < pass.size(), "folded head: fewer masks than dropout layers");
            m.push_back(pass[site].reshape({-1}).to(device, torch::kFloat32));
          }
          auto stacked = torch::stack(m);
          pending = pending.defined() ? pending * stacked : stacked;
          ++site;
          break;
        }
        case HeadLayer::Kind::kRelu:
          ALX_CHECK(!pending.defined(), "folded head: a dropout mask must be followed by a Linear layer");
          ops_.push_back(Op{Op::kRelu});
          break;
        case HeadLayer::Kind::kLinear: {
          auto w = l.weight.detach().to(device);
          auto b = l.bias.defined() ? l.bias.detach().to(device) : torch::zeros({w.size(0)}, w.options());
          if (!pending.defined()) {
            ops_.push_back(Op{Op::kLinear, w, b});
          } else if (!per_pass && make_sparse(w, b, pending)) {
            per_pass = true;
          } else {
            // [T, out, in]: one weight matrix per pass.
            ops_.push_back(Op{per_pass ? Op::kPassLinear : Op::kStackedLinear, w.unsqueeze(0) * pending.unsqueeze(1), b});
            per_pass = true;
          }
          pending = torch::Tensor();
          break;
        }
      }
    }
    ALX_CHECK(!pending.defined(), "folded head: the head ends with a dropout layer");
    for (const auto& pass : masks)
      ALX_CHECK(pass.size() == site, "folded head: {} masks per pass, the head has {} dropout layers", pass.size(), site);
  }

  /// features [B, F] → logits [B, T, K].
  torch::Tensor operator()(const torch::Tensor& features) const {
    torch::Tensor a = features;  // [B, F] shared by all passes, or [B, T, F]
    const int64_t batch = features.size(0);
    bool per_pass = false;
    for (const auto& op : ops_) {
      switch (op.kind) {
        case Op::kRelu:
          a = torch::relu(a);
          break;
        case Op::kLinear:
          a = torch::nn::functional::linear(a, op.weight, op.bias);
          break;
        case Op::kStackedLinear: {
          // [B, F] · [T·out, F]ᵀ → [B, T, out]: the T passes in one matrix product.
          const int64_t t = op.weight.size(0), out = op.weight.size(1);
          a = torch::addmm(op.bias.repeat({t}), a, op.weight.reshape({t * out, -1}).t()).view({batch, t, out});
          per_pass = true;
          break;
        }
        case Op::kSparseLinear: {
          const int64_t out = op.weight.size(0);
          auto result = torch::empty({batch, passes_, out}, a.options());
          torch::Tensor full;
          if (op.any_dropped) full = torch::mm(a, op.weight.t());
          for (int64_t t = 0; t < passes_; ++t) {
            const auto& p = op.passes[t];
            auto part = torch::mm(a.index_select(1, p.cols), p.weight.t());
            auto z = p.dropped_form ? full - part : part;
            result.select(1, t).copy_(z.mul_(p.scale).add_(op.bias));
          }
          a = result;
          per_pass = true;
          break;
        }
        case Op::kPassLinear:
          // [T, B, F] ⊗ [T, F, out] → [B, T, out]: one batched product.
          a = torch::baddbmm(op.bias.view({1, 1, -1}), a.transpose(0, 1), op.weight.transpose(1, 2)).transpose(0, 1);
          break;
      }
    }
    if (!per_pass) a = a.unsqueeze(1).expand({a.size(0), passes_, a.size(1)});
    return a.contiguous();
  }

 private:
  struct Pass {
    double scale = 1.0;
    bool dropped_form = false;
    torch::Tensor cols;    ///< [n] column indices (dropped or kept)
    torch::Tensor weight;  ///< [out, n] = W[:, cols]
  };
  struct Op {
    enum Kind { kLinear, kStackedLinear, kSparseLinear, kPassLinear, kRelu };
    explicit Op(Kind k, torch::Tensor w = {}, torch::Tensor b = {})
        : kind(k), weight(std::move(w)), bias(std::move(b)) {}
    Kind kind;
    torch::Tensor weight, bias;
    std::vector<Pass> passes;
    bool any_dropped = false;
  };

  /// Adds a kSparseLinear op when every mask is binary and that saves work.
  bool make_sparse(const torch::Tensor& w, const torch::Tensor& b, const torch::Tensor& masks) {
    const int64_t in = masks.size(1);
    Op op{Op::kSparseLinear, w, b};
    int64_t work = 0;
    for (int64_t t = 0; t < masks.size(0); ++t) {
      auto m = masks[t].to(torch::kCPU);
      auto kept = m.nonzero().flatten();
      auto dropped = m.eq(0).nonzero().flatten();
      Pass p;
      if (kept.numel() > 0) {
        auto values = m.index_select(0, kept);
        p.scale = values.max().item<double>();
        if ((values - p.scale).abs().max().item<double>() > 1e-6 * std::abs(p.scale)) return false;  // not binary
      }
      p.dropped_form = dropped.numel() < kept.numel();
      p.cols = (p.dropped_form ? dropped : kept).to(w.device());
      p.weight = w.index_select(1, p.cols).contiguous();
      op.any_dropped = op.any_dropped || p.dropped_form;
      work += p.cols.numel();
      op.passes.push_back(std::move(p));
    }
    if (op.any_dropped) work += in;
    if (work * 10 > masks.size(0) * in * 6) return false;  // under 40% saved: the stacked product wins
    ops_.push_back(std::move(op));
    return true;
  }

  std::vector<Op> ops_;
  int64_t passes_ = 0;
};

augment::LoaderOptions loader_options(const PredictorOptions& o, uint64_t seed) {
  augment::LoaderOptions lo;
  lo.batch_size(o.batch_size()).workers(o.workers()).prefetch(o.prefetch()).shuffle(false).drop_last(false).seed(seed);
  return lo;
}

/// Restores eval mode and ordinary dropout however the prediction ends.
struct ModeGuard {
  explicit ModeGuard(Model& m) : model(m), was_training(m.is_training()) { model.train(false); }
  ~ModeGuard() {
    model.set_dropout(DropoutMode::kAuto);
    model.train(was_training);
  }
  Model& model;
  bool was_training;
};

}  // namespace

Predictor::Predictor(PredictorOptions options, std::shared_ptr<const augment::Pipeline> eval,
                     std::shared_ptr<const augment::Pipeline> tta)
    : options_(std::move(options)), eval_(std::move(eval)), tta_(std::move(tta)) {
  const auto& o = options_;
  ALX_CHECK(o.mc_source() == "dropout" || o.mc_source() == "tta", "predictor: mc_source must be dropout or tta, got '{}'",
            o.mc_source());
  ALX_CHECK(o.masks() == "per_item" || o.masks() == "fixed", "predictor: masks must be per_item or fixed, got '{}'",
            o.masks());
  ALX_CHECK(o.path() == "auto" || o.path() == "head" || o.path() == "full", "predictor: path must be auto, head or full, got '{}'",
            o.path());
  ALX_CHECK(o.mc_passes() >= 1 && o.batch_size() >= 1, "predictor: mc_passes and batch_size must be positive");
  if (!o.device().empty()) parse_device(o.device());
}

std::vector<std::vector<torch::Tensor>> Predictor::fixed_masks(const Model& model, int passes, uint64_t seed) {
  ALX_CHECK(model.supports_fixed_masks(), "model '{}' cannot take fixed dropout masks", model.name());
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto sites = model.dropout_sites();
  std::vector<std::vector<torch::Tensor>> masks(passes);
  for (int t = 0; t < passes; ++t) {
    for (const auto& s : sites) {
      auto keep = torch::empty(s.shape).bernoulli_(1.0 - s.p, gen);
      masks[t].push_back(keep.div_(1.0 - s.p));
    }
  }
  return masks;
}

torch::Tensor Predictor::folded_head_logits(const Model& model, const torch::Tensor& features,
                                            const std::vector<std::vector<torch::Tensor>>& masks) {
  const auto layers = model.head_layers();
  ALX_CHECK(!layers.empty(), "model '{}' has no head that the fast MC path can run", model.name());
  torch::NoGradGuard no_grad;
  return FoldedHead(layers, masks, features.device())(features);
}

Predictions Predictor::predict(Model& model, std::shared_ptr<const ImageSource> images,
                               const std::vector<int64_t>& indices, unsigned what) const {
  const auto& o = options_;
  ALX_CHECK(images != nullptr, "predictor: no image source");
  ALX_CHECK(what != 0, "predictor: nothing asked for");
  for (auto i : indices)
    ALX_CHECK(i >= 0 && i < images->size(), "predictor: item {} is outside the image source (size {})", i, images->size());
  set_threads(o.threads());
  if (!o.device().empty()) model.to(parse_device(o.device()));
  const torch::Device device = model.device();
  ModeGuard guard(model);
  torch::NoGradGuard no_grad;

  const int64_t n = static_cast<int64_t>(indices.size());
  const int64_t k = model.num_classes();
  const int64_t t_passes = o.mc_passes();
  const bool want_probs = what & kProbs, want_emb = what & kEmbeddings, want_grad = what & kGradEmbeddings;
  const bool want_mc = what & kMcSamples;
  const bool mc_dropout = want_mc && o.mc_source() == "dropout";
  const bool mc_tta = want_mc && o.mc_source() == "tta";

  // Which MC path.
  bool head_path = false, fixed = false;
  std::unique_ptr<FoldedHead> folded;
  std::vector<std::vector<torch::Tensor>> masks;
  c10::optional<at::Generator> gen;
  if (mc_dropout) {
    ALX_CHECK(!model.dropout_sites().empty(),
              "predictor: model '{}' has no dropout layers, so MC-dropout passes would all be equal; "
              "set model.dropout > 0 or use mc_source: tta",
              model.name());
    const bool head_ok = !model.head_layers().empty();
    ALX_CHECK(o.path() != "head" || head_ok,
              "predictor: path 'head' needs a model whose dropout sits only in a plain head; model '{}' has none "
              "(use path: full)",
              model.name());
    head_path = o.path() == "head" || (o.path() == "auto" && head_ok);
    fixed = o.masks() == "fixed";
    if (fixed) {
      masks = fixed_masks(model, static_cast<int>(t_passes), o.seed());
      for (auto& pass : masks)
        for (auto& m : pass) m = m.to(device);
      if (head_path) folded = std::make_unique<FoldedHead>(model.head_layers(), masks, device);
    } else if (device.is_cpu()) {
      gen = at::make_generator<at::CPUGeneratorImpl>(o.seed());
    } else {
      torch::manual_seed(o.seed());
    }
    if (!model.supports_fixed_masks()) torch::manual_seed(o.seed());  // dropout inside a TorchScript file
  }

  Predictions out;
  auto fopt = torch::TensorOptions().dtype(torch::kFloat32);
  if (want_probs) out.probs = torch::empty({n, k}, fopt);
  if (want_mc) out.mc_samples = torch::empty({n, t_passes, k}, fopt);
  if (want_emb) out.embeddings = torch::empty({n, model.embedding_dim()}, fopt);
  if (want_grad) out.grad_embeddings = torch::empty({n, k * model.embedding_dim()}, fopt);

  std::unordered_map<int64_t, int64_t> position;
  position.reserve(indices.size() * 2);
  for (int64_t i = 0; i < n; ++i) position.emplace(indices[i], i);
  ALX_CHECK(static_cast<int64_t>(position.size()) == n, "predictor: indices contain duplicates");
  auto rows_of = [&](const torch::Tensor& batch_indices) {
    auto bi = batch_indices.to(torch::kCPU, torch::kLong);
    auto rows = torch::empty({bi.size(0)}, torch::kLong);
    auto a = bi.accessor<int64_t, 1>();
    auto r = rows.accessor<int64_t, 1>();
    for (int64_t j = 0; j < bi.size(0); ++j) r[j] = position.at(a[j]);
    return rows;
  };

  const bool need_main = want_probs || want_emb || want_grad || mc_dropout;
  const std::vector<int> no_labels;  // the loader serves -1 labels
  if (need_main && n > 0) {
    Progress bar(n, mc_dropout ? "MC-dropout" : "predicting");
    augment::BatchLoader loader(images, indices, no_labels, eval_, loader_options(o, o.seed()));
    loader.start_epoch(0);
    while (auto batch = loader.next()) {
      auto x = batch->images.to(device);
      auto rows = rows_of(batch->indices);
      torch::Tensor h;
      if (want_probs || want_emb || want_grad || head_path)
        h = trunk_in_slices(model, x, o.micro_batch());
      if (want_probs || want_emb || want_grad) {
        model.set_dropout(DropoutMode::kAuto);
        auto res = model.head(h);
        auto p = torch::softmax(res.logits, 1);
        if (want_probs) out.probs.index_copy_(0, rows, p.to(torch::kCPU, torch::kFloat32));
        if (want_emb) out.embeddings.index_copy_(0, rows, res.embedding.to(torch::kCPU, torch::kFloat32));
        if (want_grad) {
          auto g = p - torch::one_hot(p.argmax(1), k).to(p.dtype());
          auto ge = (g.unsqueeze(2) * res.embedding.unsqueeze(1)).flatten(1);
          out.grad_embeddings.index_copy_(0, rows, ge.to(torch::kCPU, torch::kFloat32));
        }
      }
      if (mc_dropout) {
        torch::Tensor logits;  // [B, T, K]
        if (folded) {
          logits = (*folded)(h);
        } else {
          std::vector<torch::Tensor> passes;
          passes.reserve(t_passes);
          if (!fixed) model.set_dropout(DropoutMode::kSample, gen);
          for (int64_t t = 0; t < t_passes; ++t) {
            if (fixed) model.set_dropout(DropoutMode::kFixed, c10::nullopt, masks[t]);
            passes.push_back(head_path ? model.head(h).logits : model.forward(x));
          }
          model.set_dropout(DropoutMode::kAuto);
          logits = torch::stack(passes, 1);
        }
        out.mc_samples.index_copy_(0, rows, torch::softmax(logits, 2).to(torch::kCPU, torch::kFloat32));
      }
      bar.advance(batch->indices.size(0));
    }
    bar.finish();
  }

  if (mc_tta && n > 0) {
    ALX_CHECK(tta_ != nullptr, "predictor: mc_source 'tta' needs a TTA pipeline");
    Progress bar(n * t_passes, "TTA");
    for (int64_t t = 0; t < t_passes; ++t) {
      augment::BatchLoader loader(images, indices, no_labels, tta_, loader_options(o, o.seed() + static_cast<uint64_t>(t)));
      loader.start_epoch(0);
      while (auto batch = loader.next()) {
        auto p = torch::softmax(model.forward(batch->images.to(device)), 1).to(torch::kCPU, torch::kFloat32);
        out.mc_samples.select(1, t).index_copy_(0, rows_of(batch->indices), p);
        bar.advance(batch->indices.size(0));
      }
    }
    bar.finish();
  }
  return out;
}

}  // namespace alx::training
