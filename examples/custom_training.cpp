// The first way alx is used: your own C++ training program and your own LibTorch model,
// with alx picking the next batch to label.
//
// This program trains its own small network on 200 labeled Fashion-MNIST images with its
// own loop, then asks alx: which 50 of the unlabeled images should a person label next?
//   - alx::io / alx::augment feed the images (IDX reader, threaded batch loader);
//   - the model's MC-dropout probabilities [N, T, C] go to alx::sampling::score (BALD);
//   - alx::sampling::make_sampler("hybrid" / "kcenter" / ...) picks a diverse batch from
//     the scores and the model's embeddings [N, D].
// A model written with alx::training::Model (or saved with torch.jit.save) can use
// alx::training::Predictor instead of the hand-written passes below.
//
//   build/examples/custom_training [--quick]
#include <alx/augment/loader.h>
#include <alx/core/io/idx.h>
#include <alx/sampling/sampler.h>
#include <alx/sampling/scorers.h>

#include <torch/torch.h>

#include <cstdio>
#include <cstring>

namespace {

/// The user's own model: an MLP with dropout, returning logits and its penultimate features.
struct MyNetImpl : torch::nn::Module {
  MyNetImpl() {
    fc1 = register_module("fc1", torch::nn::Linear(28 * 28, 256));
    fc2 = register_module("fc2", torch::nn::Linear(256, 10));
  }
  std::pair<torch::Tensor, torch::Tensor> forward(torch::Tensor x) {
    auto h = torch::relu(fc1->forward(x.flatten(1)));
    h = torch::dropout(h, 0.5, /*train=*/is_training());
    return {fc2->forward(h), h};
  }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(MyNet);

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  torch::manual_seed(0);
  at::set_num_threads(2);

  // Data through alx: every item of the pool, 200 of them labeled.
  alx::Dataset ds = alx::io::load_fashion_mnist(alx::io::kFashionMnistDir, "train");
  const int64_t pool_size = quick ? 3000 : 20000;
  std::vector<int64_t> labeled, unlabeled;
  std::vector<int> labels;
  for (int64_t i = 0; i < pool_size; ++i) {
    if (i < 200) {
      labeled.push_back(i);
      labels.push_back(ds.pool.label(i));
    } else {
      unlabeled.push_back(i);
    }
  }
  std::shared_ptr<const alx::ImageSource> images = ds.images;

  // Your training loop.
  MyNet net;
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  alx::augment::BatchLoader train(images, labeled, labels, nullptr,
                                  alx::augment::LoaderOptions().batch_size(32).shuffle(true).workers(1));
  for (int epoch = 0; epoch < (quick ? 5 : 20); ++epoch) {
    train.start_epoch(epoch);
    while (auto batch = train.next()) {
      opt.zero_grad();
      auto loss = torch::cross_entropy_loss(net->forward(batch->images).first, batch->labels);
      loss.backward();
      opt.step();
    }
  }

  // MC-dropout over the whole pool: T stochastic passes, and embeddings from an eval pass.
  constexpr int T = 10;
  std::vector<int64_t> all(static_cast<std::size_t>(pool_size));
  for (int64_t i = 0; i < pool_size; ++i) all[static_cast<std::size_t>(i)] = i;
  alx::augment::BatchLoader pool(images, all, {}, nullptr, alx::augment::LoaderOptions().batch_size(256).workers(1));
  pool.start_epoch(0);
  std::vector<torch::Tensor> mc, emb;
  torch::NoGradGuard no_grad;
  while (auto batch = pool.next()) {
    net->eval();
    emb.push_back(net->forward(batch->images).second);
    net->train();  // dropout on: each pass samples a new mask
    std::vector<torch::Tensor> passes;
    for (int t = 0; t < T; ++t) passes.push_back(torch::softmax(net->forward(batch->images).first, 1));
    mc.push_back(torch::stack(passes, 1));  // [B, T, C]
  }
  torch::Tensor probs = torch::cat(mc);           // [N, T, C]
  torch::Tensor embeddings = torch::cat(emb);     // [N, D]

  // alx picks the next batch: BALD pre-filters 500 uncertain items, k-center spreads 50 of them.
  torch::Tensor bald = alx::sampling::score(probs, "bald");
  torch::Tensor is_labeled = torch::zeros({pool_size}, torch::kBool);
  is_labeled.slice(0, 0, 200).fill_(true);
  alx::sampling::SamplerInput in;
  in.probs = probs;
  in.embeddings = embeddings;
  in.labeled = is_labeled;
  auto sampler = alx::sampling::make_sampler("hybrid", YAML::Load("{scorer: bald, top_m: 500, diversity: kcenter}"));
  const std::vector<int64_t> next = sampler->select(in, 50, /*seed=*/7);

  std::printf("pool %lld images (%zu labeled), mean BALD %.4f; next batch (%zu):", static_cast<long long>(pool_size),
              labeled.size(), bald.mean().item<double>(), next.size());
  for (int64_t i : next) std::printf(" %s", ds.pool.id(i).c_str());
  std::printf("\n");
  // The selection is unique, unlabeled, and among the most uncertain half of the pool.
  const double median = bald.median().item<double>();
  int above = 0;
  for (int64_t i : next) above += bald[i].item<double>() >= median;
  std::printf("custom_training ok: %zu picked, %d above the median BALD\n", next.size(), above);
  return next.size() == 50 && above == 50 ? 0 : 1;
}
