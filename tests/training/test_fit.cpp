// Trainer: Fashion-MNIST accuracy, reproducibility, early stopping, class weights,
// TorchScript fine-tuning, metrics.
#include <alx/augment/pipeline.h>
#include <alx/core/error.h>
#include <alx/training/model.h>
#include <alx/training/predictor.h>
#include <alx/training/trainer.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "training_test_util.h"

namespace alx::training {
namespace {

using test::fashion;

TEST(Metrics, HandComputedValues) {
  // truth 0 0 1 1 2, predicted 0 1 1 1 0:
  // confusion [[1,1,0],[0,2,0],[1,0,0]]; recall .5 1 0; F1 .5 .8 0 → macro .4333
  auto m = compute_metrics(torch::tensor({0, 0, 1, 1, 2}, torch::kLong), torch::tensor({0, 1, 1, 1, 0}, torch::kLong), 3);
  EXPECT_EQ(m.n, 5);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.6);
  EXPECT_NEAR(m.macro_f1, (0.5 + 0.8 + 0.0) / 3, 1e-12);
  EXPECT_DOUBLE_EQ(m.per_class_accuracy[0], 0.5);
  EXPECT_DOUBLE_EQ(m.per_class_accuracy[1], 1.0);
  EXPECT_DOUBLE_EQ(m.per_class_accuracy[2], 0.0);
  EXPECT_TRUE(torch::equal(m.confusion, torch::tensor({1, 1, 0, 0, 2, 0, 1, 0, 0}, torch::kLong).view({3, 3})));
  // A class absent from truth and predictions does not count in macro-F1.
  auto m4 = compute_metrics(torch::tensor({0, 1}, torch::kLong), torch::tensor({0, 1}, torch::kLong), 4);
  EXPECT_DOUBLE_EQ(m4.macro_f1, 1.0);
  EXPECT_TRUE(std::isnan(m4.per_class_accuracy[3]));
  EXPECT_THROW(compute_metrics(torch::tensor({0, 5}, torch::kLong), torch::tensor({0, 1}, torch::kLong), 3),
               InvalidArgument);
}

std::shared_ptr<const augment::Pipeline> train_pipeline() {
  return std::make_shared<augment::Pipeline>(augment::Pipeline::from_yaml(
      YAML::Load("[{name: pad, padding: [2]}, {name: random_crop, height: 28, width: 28}, {name: hflip, p: 0.5}]")));
}

TEST(Fit, GalCnnOn1000FashionMnistImagesReaches70Percent) {
  const auto& train = fashion("train");
  const auto& test = fashion("test");
  std::vector<int64_t> idx;
  std::vector<int> labels;
  test::balanced(train.pool, 100, idx, labels);
  ASSERT_EQ(idx.size(), 1000u);
  auto model = make_model(ModelOptions().name("gal_cnn").num_classes(10));
  Trainer trainer(TrainerOptions().epochs(15).batch_size(64).lr(1e-3).seed(1), train_pipeline());
  auto r = trainer.fit(*model, train.images, idx, labels);
  EXPECT_EQ(r.epochs.size(), 15u);
  EXPECT_LT(r.epochs.back().loss, r.epochs.front().loss);
  EXPECT_EQ(r.model_version, 1);
  const auto all = test::iota(test.pool.size());
  auto m = trainer.evaluate(*model, test.images, all, test::labels_of(test.pool, all));
  std::printf("[ figure ] Gal CNN, 1,000 balanced Fashion-MNIST images, 15 epochs: test accuracy %.4f, "
              "macro-F1 %.4f on %lld images (training %.0f images/s)\n",
              m.accuracy, m.macro_f1, static_cast<long long>(m.n), r.images_per_second);
  EXPECT_EQ(m.n, 10000);
  EXPECT_GE(m.accuracy, 0.70);
  EXPECT_GT(m.macro_f1, 0.6);
  EXPECT_EQ(m.confusion.sum().item<int64_t>(), 10000);
  // Predictor agrees with evaluate().
  Predictor pred;
  auto p = pred.probs(*model, test.images, std::vector<int64_t>(all.begin(), all.begin() + 500));
  int64_t correct = 0;
  auto arg = p.argmax(1);
  for (int64_t i = 0; i < 500; ++i) correct += arg[i].item<int64_t>() == test.pool.label(i);
  EXPECT_GE(correct, 300);
}

TEST(Fit, SameSeedSameWeights) {
  const auto& train = fashion("train");
  std::vector<int64_t> idx;
  std::vector<int> labels;
  test::balanced(train.pool, 20, idx, labels);
  auto opts = TrainerOptions().epochs(2).seed(7).workers(2);
  auto a = make_model(ModelOptions());
  auto b = make_model(ModelOptions());
  Trainer(opts, train_pipeline()).fit(*a, train.images, idx, labels);
  Trainer(opts, train_pipeline()).fit(*b, train.images, idx, labels);
  EXPECT_TRUE(test::same_state(a->state(), b->state()));
  auto c = make_model(ModelOptions());
  Trainer(TrainerOptions(opts).seed(8), train_pipeline()).fit(*c, train.images, idx, labels);
  EXPECT_FALSE(test::same_state(a->state(), c->state()));
}

TEST(Fit, WarmStartKeepsWeightsAndReinitDoesNot) {
  const auto& train = fashion("train");
  std::vector<int64_t> idx;
  std::vector<int> labels;
  test::balanced(train.pool, 10, idx, labels);
  auto model = make_model(ModelOptions());
  Trainer sgd(TrainerOptions().optimizer("sgd").lr(0.05).momentum(0.9).weight_decay(1e-4).epochs(1).seed(3));
  sgd.fit(*model, train.images, idx, labels);
  const auto after_first = test::snapshot(model->state());
  // Warm start with a tiny learning rate stays near the previous weights …
  Trainer warm(TrainerOptions().reinit(false).lr(1e-7).epochs(1).seed(3));
  warm.fit(*model, train.images, idx, labels);
  EXPECT_LT((model->state()[0].second - after_first[0].second).abs().max().item<float>(), 1e-4);
  EXPECT_EQ(model->version(), 2);
  // … a re-initialising fit starts from the seed's weights.
  Trainer fresh(TrainerOptions().reinit(true).lr(1e-7).epochs(1).seed(99));
  fresh.fit(*model, train.images, idx, labels);
  EXPECT_GT((model->state()[0].second - after_first[0].second).abs().max().item<float>(), 1e-3);
}

TEST(Fit, EarlyStoppingOnAHeldOutSplitAndSchedules) {
  const auto& train = fashion("train");
  std::vector<int64_t> idx;
  std::vector<int> labels;
  test::balanced(train.pool, 30, idx, labels);
  auto model = make_model(ModelOptions());
  Trainer trainer(TrainerOptions()
                      .epochs(40)
                      .validation_fraction(0.2)
                      .patience(2)
                      .lr(3e-3)
                      .schedule("cosine")
                      .class_weighting("balanced")
                      .seed(2));
  auto r = trainer.fit(*model, train.images, idx, labels);
  EXPECT_EQ(r.num_val, 60);
  EXPECT_EQ(r.num_train, 240);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_LT(r.epochs.size(), 40u);
  EXPECT_GE(r.best_epoch, 0);
  EXPECT_EQ(static_cast<int>(r.epochs.size()), r.best_epoch + 3);
  EXPECT_GT(r.best_val_accuracy, 0.3);
  for (const auto& e : r.epochs) EXPECT_GE(e.val_accuracy, 0.0);
  EXPECT_LT(r.epochs.back().lr, 3e-3);

  auto step = Trainer(TrainerOptions().epochs(3).schedule("step").step_epochs(1).gamma(0.5).lr(1e-3))
                  .fit(*model, train.images, idx, labels);
  EXPECT_NEAR(step.epochs[2].lr, 2.5e-4, 1e-12);
  EXPECT_THROW(Trainer(TrainerOptions().class_weighting("explicit").class_weights({1.0, 2.0}))
                   .fit(*model, train.images, idx, labels),
               InvalidArgument);
  EXPECT_THROW(Trainer().fit(*model, train.images, {0, 1}, {0, 12}), InvalidArgument);
}

// min_steps: 20 labels at batch 32 are one step an epoch; 2 epochs with min_steps 9 run
// 9 epochs, while a labeled set with more steps per epoch keeps its 2.
TEST(Fit, MinStepsAddsEpochsOnlyWhereTheLabeledSetIsSmall) {
  const auto& train = fashion("train");
  std::vector<int64_t> idx;
  std::vector<int> labels;
  test::balanced(train.pool, 2, idx, labels);
  auto model = make_model(ModelOptions());
  const auto opts = TrainerOptions().epochs(2).batch_size(32).min_steps(9).seed(4);
  EXPECT_EQ(Trainer(opts).fit(*model, train.images, idx, labels).epochs.size(), 9u);
  idx.clear();
  labels.clear();
  test::balanced(train.pool, 40, idx, labels);  // 400 images: 13 steps an epoch
  EXPECT_EQ(Trainer(opts).fit(*model, train.images, idx, labels).epochs.size(), 2u);
  EXPECT_EQ(Trainer(TrainerOptions(opts).min_steps(0))
                .fit(*model, train.images, idx, labels)
                .epochs.size(),
            2u);
}

TEST(Fit, ExplicitClassWeightsSteerTheModel) {
  // With weight 0 on every class but 3, the model learns to answer 3.
  const auto& train = fashion("train");
  std::vector<int64_t> idx;
  std::vector<int> labels;
  test::balanced(train.pool, 20, idx, labels);
  std::vector<double> w(10, 0.0);
  w[3] = 1.0;
  auto model = make_model(ModelOptions());
  Trainer trainer(TrainerOptions().class_weighting("explicit").class_weights(w).epochs(3).seed(1));
  trainer.fit(*model, train.images, idx, labels);
  auto m = trainer.evaluate(*model, train.images, idx, labels);
  EXPECT_DOUBLE_EQ(m.per_class_accuracy[3], 1.0);
  EXPECT_NEAR(m.accuracy, 0.1, 0.02);
}

TEST(TorchScript, FineTunesFullyAndWithAFrozenBackbone) {
  const auto dir = test::torchscript_dir();
  const auto& train = fashion("train");
  const auto& test = fashion("test");
  std::vector<int64_t> idx;
  std::vector<int> labels;
  test::balanced(train.pool, 40, idx, labels);
  std::vector<int64_t> eval_idx = test::iota(1000);
  const auto eval_labels = test::labels_of(test.pool, eval_idx);

  // Whole network, its own head.
  auto full = make_model(ModelOptions().name("torchscript").path(dir + "/net.pt").num_classes(10));
  const auto start = test::snapshot(full->state());
  Trainer trainer(TrainerOptions().epochs(6).lr(2e-3).seed(1));
  const double before = trainer.evaluate(*full, test.images, eval_idx, eval_labels).accuracy;
  trainer.fit(*full, train.images, idx, labels);
  const double after = trainer.evaluate(*full, test.images, eval_idx, eval_labels).accuracy;
  std::printf("[ figure ] TorchScript full fine-tune on 400 images: %.3f -> %.3f\n", before, after);
  EXPECT_GT(after, before + 0.2);
  EXPECT_FALSE(torch::equal(start[0].second, full->state()[0].second));  // backbone moved

  // Frozen (pretrained: the fine-tuned one above) backbone, new head with dropout:
  // only the head moves, BatchNorm statistics stay.
  auto frozen = make_model(
      ModelOptions().name("torchscript").path(dir + "/net.pt").num_classes(10).head("new").dropout(0.2));
  {
    torch::NoGradGuard g;
    auto tuned = full->state();
    for (auto& kv : frozen->state())
      for (auto& t : tuned)
        if (t.first == kv.first) kv.second.copy_(t.second);
  }
  const auto frozen_start = test::snapshot(frozen->state());
  Trainer head_only(TrainerOptions().epochs(10).lr(1e-2).seed(1).freeze_backbone(true).reinit(false));
  head_only.fit(*frozen, train.images, idx, labels);
  const auto frozen_end = frozen->state();
  int moved = 0;
  for (size_t i = 0; i < frozen_end.size(); ++i) {
    const bool same = torch::equal(frozen_start[i].second, frozen_end[i].second);
    if (frozen_end[i].first.rfind("backbone.", 0) == 0) {
      EXPECT_TRUE(same) << frozen_end[i].first;
    } else {
      moved += !same;
    }
  }
  EXPECT_EQ(moved, 2);  // head weight and bias
  const double head_acc = head_only.evaluate(*frozen, test.images, eval_idx, eval_labels).accuracy;
  std::printf("[ figure ] TorchScript frozen backbone + new head on 400 images: %.3f\n", head_acc);
  EXPECT_GT(head_acc, 0.6);
  // Its head has dropout only in the head: the fast MC path applies, same masks → same samples.
  auto images = test.images;
  std::vector<int64_t> few = test::iota(16);
  auto a = Predictor(PredictorOptions().mc_passes(5).masks("fixed").path("full").seed(3)).mc_samples(*frozen, images, few);
  auto b = Predictor(PredictorOptions().mc_passes(5).masks("fixed").path("head").seed(3)).mc_samples(*frozen, images, few);
  EXPECT_LT((a - b).abs().max().item<float>(), 1e-5);
  // Checkpoint of a fine-tuned TorchScript model.
  const std::string path = test::temp_dir("checkpoint") + "/ts_head.alx";
  save_checkpoint(*frozen, path);
  auto loaded = load_checkpoint(path);
  Predictor pred;
  EXPECT_TRUE(torch::equal(pred.probs(*frozen, images, few), pred.probs(*loaded, images, few)));
}

}  // namespace
}  // namespace alx::training
