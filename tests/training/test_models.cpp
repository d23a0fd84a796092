// Models, MC-dropout, the fast head path, BADGE embeddings, checkpoints.
#include <alx/augment/pipeline.h>
#include <alx/core/config.h>
#include <alx/core/error.h>
#include <alx/training/model.h>
#include <alx/training/predictor.h>
#include <alx/training/trainer.h>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include <map>
#include <string>

#include "training_test_util.h"

namespace alx::training {
namespace {

using test::iota;
using test::random_images;

TEST(Models, ShapesOfEveryBuiltIn) {
  auto gal = make_model(ModelOptions().name("gal_cnn").num_classes(7));
  gal->train(false);
  auto x = torch::rand({3, 1, 28, 28});
  EXPECT_EQ(gal->forward(x).sizes(), (std::vector<int64_t>{3, 7}));
  EXPECT_EQ(gal->embed(x).sizes(), (std::vector<int64_t>{3, 128}));
  EXPECT_EQ(gal->embedding_dim(), 128);
  EXPECT_EQ(gal->dropout_sites().size(), 2u);

  auto small = make_model(ModelOptions().name("resnet18").variant("small").in_channels(3).num_classes(5));
  small->train(false);
  auto y = torch::rand({2, 3, 32, 32});
  EXPECT_EQ(small->forward(y).sizes(), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(small->embed(y).sizes(), (std::vector<int64_t>{2, 512}));
  EXPECT_TRUE(small->dropout_sites().empty());

  auto big = make_model(ModelOptions().name("resnet18").variant("imagenet").in_channels(1).num_classes(3));
  big->train(false);
  EXPECT_EQ(big->forward(torch::rand({1, 1, 64, 64})).sizes(), (std::vector<int64_t>{1, 3}));
}

// The Gal CNN's trunk takes faster routes than conv2d + max_pool2d (thnn for one input
// channel, strided maxima without autograd): same values and the same gradients.
TEST(Models, GalCnnTrunkEqualsTheStandardOps) {
  for (int64_t channels : {1, 3}) {
    for (int64_t side : {28, 29}) {
      SCOPED_TRACE(fmt::format("{} channels, {}x{}", channels, side, side));
      auto gal = make_model(
          ModelOptions().name("gal_cnn").in_channels(channels).image_size(side).num_classes(4));
      std::map<std::string, torch::Tensor> w;
      for (auto& [name, t] : gal->state()) w[name] = t;
      const auto x = torch::randn({5, channels, side, side});
      auto reference = [&](const torch::Tensor& in) {
        auto h = torch::relu(torch::conv2d(in, w["conv1.weight"], w["conv1.bias"]));
        h = torch::relu(torch::conv2d(h, w["conv2.weight"], w["conv2.bias"]));
        return torch::max_pool2d(h, 2).flatten(1);
      };
      {
        torch::NoGradGuard no_grad;
        const auto ours = gal->trunk(x), ref = reference(x);
        ASSERT_EQ(ours.sizes(), ref.sizes());
        EXPECT_LT((ours - ref).abs().max().item<float>(), 1e-5f);
      }
      // With autograd: the weight gradients of the same loss agree.
      auto loss_grads = [&](const torch::Tensor& features) {
        for (auto& p : gal->parameters(false)) p.mutable_grad() = torch::Tensor();
        (features * torch::linspace(-1, 1, features.size(1))).sum().backward();
        return w["conv1.weight"].grad().clone();
      };
      const auto g_ours = loss_grads(gal->trunk(x));
      const auto g_ref = loss_grads(reference(x));
      EXPECT_LT((g_ours - g_ref).abs().max().item<float>(),
                1e-4f * (1 + g_ref.abs().max().item<float>()));
    }
  }
}

TEST(Models, ClearErrors) {
  EXPECT_THROW(make_model(ModelOptions().name("vgg")), InvalidArgument);
  EXPECT_THROW(make_model(ModelOptions().name("resnet18").variant("tiny")), InvalidArgument);
  auto gal = make_model(ModelOptions());
  try {
    gal->forward(torch::rand({2, 3, 28, 28}));
    FAIL() << "wrong channels accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("[B, 1, 28, 28]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_device("gpu7"), InvalidArgument);
  EXPECT_THROW(make_model(ModelOptions().name("torchscript").path("/nonexistent/model.pt")), IoError);
}

TEST(Models, OptionsReadFromYaml) {
  auto o = config::read<ModelOptions>(YAML::Load("{name: resnet18, variant: small, num_classes: 4, dropout: 0.2}"),
                                      {"t.yaml", "model"});
  EXPECT_EQ(o.name(), "resnet18");
  EXPECT_EQ(o.num_classes(), 4);
  EXPECT_DOUBLE_EQ(o.dropout(), 0.2);
  EXPECT_THROW(config::read<ModelOptions>(YAML::Load("{nme: x}"), {"t.yaml", "model"}), ConfigError);
  EXPECT_THROW(config::read<TrainerOptions>(YAML::Load("{lr: -1}"), {"t.yaml", "trainer"}), ConfigError);
  EXPECT_THROW(Trainer(TrainerOptions().optimizer("lbfgs")), InvalidArgument);
}

TEST(Models, ResetParametersIsSeeded) {
  auto a = make_model(ModelOptions());
  auto b = make_model(ModelOptions());
  a->reset_parameters(11);
  b->reset_parameters(11);
  EXPECT_TRUE(test::same_state(a->state(), b->state()));
  b->reset_parameters(12);
  EXPECT_FALSE(test::same_state(a->state(), b->state()));
}

// ---------------------------------------------------------------- MC-dropout

TEST(McDropout, PassesDifferWhileBatchNormStaysUntouched) {
  auto model = make_model(ModelOptions().name("resnet18").variant("small").num_classes(4).dropout(0.5));
  // Give BatchNorm non-trivial running statistics, as after training.
  model->train(true);
  {
    torch::NoGradGuard g;
    model->forward(torch::rand({16, 1, 28, 28}) * 3);
  }
  model->train(false);
  const auto before = test::snapshot(model->state());
  auto images = random_images(6, 1);
  Predictor plain(PredictorOptions().batch_size(4));
  const auto p0 = plain.probs(*model, images, iota(6));

  for (const char* path : {"full", "head"}) {
    Predictor mc(PredictorOptions().mc_passes(6).batch_size(4).path(path).seed(3));
    auto s = mc.mc_samples(*model, images, iota(6));
    ASSERT_EQ(s.sizes(), (std::vector<int64_t>{6, 6, 4})) << path;
    EXPECT_GT((s.select(1, 0) - s.select(1, 1)).abs().max().item<float>(), 1e-4) << path;
    EXPECT_TRUE(torch::allclose(s.sum(2), torch::ones({6, 6}), 1e-5, 1e-5)) << path;
    EXPECT_TRUE(test::same_state(before, model->state())) << "MC-dropout changed weights or BatchNorm statistics";
    EXPECT_FALSE(model->is_training());
  }
  // The deterministic pass is unchanged afterwards: dropout is back to identity in eval.
  EXPECT_TRUE(torch::equal(p0, plain.probs(*model, images, iota(6))));
  // Same seed, same samples.
  Predictor mc(PredictorOptions().mc_passes(3).seed(9));
  EXPECT_TRUE(torch::equal(mc.mc_samples(*model, images, iota(6)), mc.mc_samples(*model, images, iota(6))));
}

TEST(McDropout, NoDropoutIsAnError) {
  auto model = make_model(ModelOptions().name("resnet18").variant("small").num_classes(4));
  Predictor mc(PredictorOptions().mc_passes(2));
  EXPECT_THROW(mc.mc_samples(*model, random_images(2, 1), iota(2)), InvalidArgument);
}

TEST(McDropout, FoldedHeadEqualsFullPassesWithTheSameMasks) {
  auto model = make_model(ModelOptions().name("gal_cnn").num_classes(10));
  model->reset_parameters(5);
  auto images = random_images(40, 2);
  const int T = 7;
  Predictor full(PredictorOptions().mc_passes(T).masks("fixed").path("full").seed(42).batch_size(16));
  Predictor head(PredictorOptions().mc_passes(T).masks("fixed").path("head").seed(42).batch_size(16));
  auto a = full.mc_samples(*model, images, iota(40));
  auto b = head.mc_samples(*model, images, iota(40));
  ASSERT_EQ(a.sizes(), (std::vector<int64_t>{40, T, 10}));
  EXPECT_LT((a - b).abs().max().item<float>(), 1e-5);
  // Fixed masks: passes differ from each other, and items share a mask per pass.
  EXPECT_GT((a.select(1, 0) - a.select(1, 1)).abs().max().item<float>(), 1e-3);

  // At the logits level, against the model's own layers driven pass by pass.
  auto x = torch::rand({5, 1, 28, 28});
  auto masks = Predictor::fixed_masks(*model, T, 1);
  torch::NoGradGuard g;
  model->train(false);
  auto h = model->trunk(x);
  auto folded = Predictor::folded_head_logits(*model, h, masks);
  for (int t = 0; t < T; ++t) {
    model->set_dropout(DropoutMode::kFixed, c10::nullopt, masks[t]);
    auto ref = model->forward(x);
    EXPECT_LT((folded.select(1, t) - ref).abs().max().item<float>(), 1e-4) << "pass " << t;
  }
  // Masks that are not 0 or 1/(1-p) take the stacked-weights product instead of the
  // sparse one; the same check covers it.
  for (auto& pass : masks)
    for (auto& m : pass) m = m * (0.5 + torch::rand(m.sizes()));
  auto stacked = Predictor::folded_head_logits(*model, h, masks);
  for (int t = 0; t < T; ++t) {
    model->set_dropout(DropoutMode::kFixed, c10::nullopt, masks[t]);
    EXPECT_LT((stacked.select(1, t) - model->forward(x)).abs().max().item<float>(), 1e-4) << "pass " << t;
  }
  model->set_dropout(DropoutMode::kAuto);
  // A fixed mask multiplies every item alike: the dropped inputs are the same columns.
  EXPECT_EQ(masks[0].size(), 2u);
  EXPECT_EQ(masks[0][0].sizes(), (std::vector<int64_t>{model->dropout_sites()[0].shape}));
}

TEST(McDropout, PerItemHeadPathMatchesFullPathInDistribution) {
  auto model = make_model(ModelOptions().name("gal_cnn").num_classes(10));
  model->reset_parameters(8);
  auto images = random_images(32, 4);
  const int T = 120;
  Predictor full(PredictorOptions().mc_passes(T).path("full").seed(1).batch_size(32));
  Predictor head(PredictorOptions().mc_passes(T).path("head").seed(2).batch_size(32));
  auto a = full.mc_samples(*model, images, iota(32));
  auto b = head.mc_samples(*model, images, iota(32));
  // Different random streams, same distribution: means over 120 passes agree closely.
  EXPECT_LT((a.mean(1) - b.mean(1)).abs().max().item<float>(), 0.03);
  EXPECT_GT((a.std(1)).mean().item<float>(), 1e-3);
}

TEST(Predictor, BadgeGradientEmbeddingsAreLastLayerGradients) {
  auto model = make_model(ModelOptions().name("gal_cnn").num_classes(10));
  model->reset_parameters(2);
  auto images = random_images(6, 7);
  Predictor pred(PredictorOptions().batch_size(4));
  auto all = pred.predict(*model, images, iota(6), kProbs | kEmbeddings | kGradEmbeddings);
  ASSERT_EQ(all.grad_embeddings.sizes(), (std::vector<int64_t>{6, 10 * 128}));
  ASSERT_EQ(all.embeddings.sizes(), (std::vector<int64_t>{6, 128}));
  // Autograd on item 3: d CE(logits, argmax) / d W_last, flattened [K·D].
  model->train(false);
  auto x = torch::from_blob(images->load(3).data, {1, 1, 28, 28}, torch::kUInt8).to(torch::kFloat32) / 255.0;
  auto params = model->parameters(true);
  auto& w_last = params[2];  // fc2.weight of gal_cnn's head (fc1.w, fc1.b, fc2.w, fc2.b)
  ASSERT_EQ(w_last.sizes(), (std::vector<int64_t>{10, 128}));
  auto logits = model->forward(x);
  auto loss = torch::nn::functional::cross_entropy(logits, logits.argmax(1));
  auto grad = torch::autograd::grad({loss}, {w_last})[0];
  EXPECT_LT((grad.flatten() - all.grad_embeddings[3]).abs().max().item<float>(), 1e-4);
  EXPECT_LT((all.probs[3] - torch::softmax(logits, 1)[0]).abs().max().item<float>(), 1e-5);
}

TEST(Predictor, RowsFollowTheGivenIndices) {
  auto model = make_model(ModelOptions());
  auto images = random_images(20, 9);
  Predictor pred(PredictorOptions().batch_size(3).workers(2));
  auto all = pred.probs(*model, images, iota(20));
  std::vector<int64_t> some = {17, 2, 9, 0};
  auto part = pred.probs(*model, images, some);
  for (size_t i = 0; i < some.size(); ++i) EXPECT_TRUE(torch::allclose(part[i], all[some[i]]));
  EXPECT_THROW(pred.probs(*model, images, {1, 1}), InvalidArgument);
  EXPECT_THROW(pred.probs(*model, images, {25}), InvalidArgument);
}

// micro_batch slices each batch for the trunk: the results do not depend on the slicing.
TEST(Predictor, MicroBatchesGiveTheSameResults) {
  auto model = make_model(ModelOptions());
  auto images = random_images(40, 5);
  auto whole = Predictor(PredictorOptions().batch_size(16).micro_batch(0))
                   .predict(*model, images, iota(40), kProbs | kEmbeddings);
  auto sliced = Predictor(PredictorOptions().batch_size(16).micro_batch(5))
                    .predict(*model, images, iota(40), kProbs | kEmbeddings);
  EXPECT_TRUE(torch::allclose(whole.probs, sliced.probs, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(whole.embeddings, sliced.embeddings, 1e-5, 1e-5));
}

TEST(Predictor, TestTimeAugmentationGivesPasses) {
  auto model = make_model(ModelOptions());
  model->reset_parameters(1);
  auto tta = std::make_shared<augment::Pipeline>(augment::Pipeline::from_yaml(
      YAML::Load("[{name: hflip, p: 0.5}, {name: pad, padding: [3]}, {name: random_crop, height: 28, width: 28}]")));
  auto images = random_images(10, 3);
  Predictor pred(PredictorOptions().mc_source("tta").mc_passes(4).seed(5), nullptr, tta);
  auto s = pred.mc_samples(*model, images, iota(10));
  ASSERT_EQ(s.sizes(), (std::vector<int64_t>{10, 4, 10}));
  EXPECT_GT((s.select(1, 0) - s.select(1, 1)).abs().max().item<float>(), 1e-5);
  EXPECT_TRUE(torch::equal(s, pred.mc_samples(*model, images, iota(10))));
  Predictor no_pipeline(PredictorOptions().mc_source("tta"));
  EXPECT_THROW(no_pipeline.mc_samples(*model, images, iota(10)), InvalidArgument);
}

// ---------------------------------------------------------------- checkpoints

TEST(Checkpoint, SaveLoadGivesTheSamePredictions) {
  auto model = make_model(ModelOptions().name("resnet18").variant("small").num_classes(3).dropout(0.2));
  model->train(true);
  {
    torch::NoGradGuard g;
    model->forward(torch::rand({8, 1, 28, 28}));  // BatchNorm statistics must travel too
  }
  model->train(false);
  model->set_version(4);
  const std::string path = test::temp_dir("checkpoint") + "/resnet.alx";
  save_checkpoint(*model, path, "round 4");
  CheckpointInfo info;
  auto loaded = load_checkpoint(path, &info);
  EXPECT_EQ(info.version, 4);
  EXPECT_EQ(info.note, "round 4");
  EXPECT_EQ(loaded->version(), 4);
  EXPECT_EQ(loaded->options().variant(), "small");
  auto images = random_images(9, 5);
  Predictor pred(PredictorOptions().batch_size(4));
  EXPECT_TRUE(torch::equal(pred.probs(*model, images, iota(9)), pred.probs(*loaded, images, iota(9))));
  EXPECT_TRUE(test::same_state(model->state(), loaded->state()));

  auto other = make_model(ModelOptions().name("resnet18").variant("small").num_classes(3).dropout(0.2));
  load_checkpoint_into(*other, path);
  EXPECT_TRUE(test::same_state(model->state(), other->state()));
  auto wrong = make_model(ModelOptions().name("gal_cnn").num_classes(3));
  EXPECT_THROW(load_checkpoint_into(*wrong, path), InvalidArgument);
  EXPECT_THROW(load_checkpoint(path + ".missing"), IoError);
}

// ---------------------------------------------------------------- TorchScript

TEST(TorchScript, MadeByPythonRoundTrips) {
  const auto dir = test::torchscript_dir();
  auto model = make_model(ModelOptions().name("torchscript").path(dir + "/net.pt").num_classes(10));
  EXPECT_EQ(model->embedding_dim(), 32);
  auto io = torch::jit::load(dir + "/io.pt");
  auto x = io.attr("x").toTensor();
  auto y = io.attr("y").toTensor();
  model->train(false);
  torch::NoGradGuard g;
  EXPECT_LT((model->forward(x) - y).abs().max().item<float>(), 1e-5);
  EXPECT_EQ(model->embed(x).sizes(), (std::vector<int64_t>{4, 32}));

  const std::string path = test::temp_dir("checkpoint") + "/ts.alx";
  save_checkpoint(*model, path);
  auto loaded = load_checkpoint(path);
  EXPECT_LT((loaded->forward(x) - y).abs().max().item<float>(), 1e-5);

  EXPECT_THROW(make_model(ModelOptions().name("torchscript").path(dir + "/net.pt").num_classes(3)), InvalidArgument);
  EXPECT_THROW(make_model(ModelOptions().name("torchscript").path(dir + "/net.pt").embed_method("features")),
               InvalidArgument);
}

TEST(TorchScript, DropoutInsideTheFileSamplesWithBatchNormInEval) {
  const auto dir = test::torchscript_dir();
  auto model = make_model(ModelOptions().name("torchscript").path(dir + "/net_dropout.pt").num_classes(10));
  EXPECT_FALSE(model->supports_fixed_masks());
  EXPECT_TRUE(model->head_layers().empty());  // dropout in the trunk: no fast path
  const auto before = test::snapshot(model->state());
  auto images = random_images(8, 2);
  Predictor mc(PredictorOptions().mc_passes(4).seed(1));
  auto s = mc.mc_samples(*model, images, iota(8));
  EXPECT_GT((s.select(1, 0) - s.select(1, 1)).abs().max().item<float>(), 1e-5);
  EXPECT_TRUE(test::same_state(before, model->state()));
  EXPECT_TRUE(torch::equal(s, mc.mc_samples(*model, images, iota(8))));
  Predictor fixed(PredictorOptions().mc_passes(2).masks("fixed"));
  EXPECT_THROW(fixed.mc_samples(*model, images, iota(8)), InvalidArgument);
}

}  // namespace
}  // namespace alx::training
