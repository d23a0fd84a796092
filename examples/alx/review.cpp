// `alx review`: label statistics, suspected mislabels, near-duplicates and test leaks, and
// embedding maps for a project's store (alx/training/review.h).
//
// The model and trainer come from the store's meta "config". Images: a simulation store
// re-loads its data set (experiment.h's load_simulation_data, which also gives the test
// split for the leak check); a store made by `alx round` needs --images, the folder its
// item ids (image paths) are relative to.
#include <alx/augment/pipeline.h>
#include <alx/core/error.h>
#include <alx/core/image_source.h>
#include <alx/core/log.h>
#include <alx/training/experiment.h>
#include <alx/training/review.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include "commands.h"

namespace alx::cli {

int review(const ReviewArgs& a) {
  Store store = Store::open(a.store);
  const Pool& pool = store.pool();
  ALX_CHECK(pool.num_labeled() >= a.folds, "store '{}' has {} labels; the review needs at least {} (--folds)",
            a.store, pool.num_labeled(), a.folds);
  const auto yaml = store.meta("config");
  training::RunConfig config = training::RunConfig::defaults();
  if (yaml) config = training::RunConfig::from_yaml(YAML::Load(*yaml), {a.store + " (meta config)", ""});
  config.model().num_classes(pool.schema().size());
  if (a.epochs > 0) config.trainer().epochs(a.epochs);
  if (a.threads >= 0) {
    config.trainer().threads(a.threads);
    config.predictor().threads(a.threads);
  }

  training::ReviewInputs in;
  in.store = &store;
  training::SimulationData sim;
  if (!a.images.empty()) {
    FileImageOptions fo;
    fo.color = config.model().in_channels() == 1 ? ColorMode::kGray : ColorMode::kColor;
    in.images = std::make_shared<FileImageSource>(a.images, pool.ids(), fo);
  } else {
    ALX_CHECK(yaml.has_value(), "store '{}' has no meta config; pass --images with the folder of its images", a.store);
    sim = training::load_simulation_data(config.data(), config.loop().seed());
    ALX_CHECK(sim.pool.pool.ids() == pool.ids(),
              "store '{}' does not hold the pool of its configured data set (a store made by `alx round`?); "
              "pass --images with the folder its image paths are relative to",
              a.store);
    in.images = sim.pool.images;
    in.test_images = sim.test_images;
    in.test_indices = sim.test_indices;
  }
  const auto aug = augment::AugmentConfig::from_yaml(config.augment(), {a.store + " (meta config)", "augment"});
  in.model.model = config.model();
  in.model.trainer = config.trainer();
  in.model.predictor = config.predictor();
  in.model.train_pipeline = std::make_shared<augment::Pipeline>(aug.train);
  in.model.eval_pipeline = std::make_shared<augment::Pipeline>(aug.eval);

  training::ReviewOptions opts;
  opts.folds(a.folds).min_share(a.min_share).map_unlabeled(a.map_unlabeled).tsne(!a.no_tsne).seed(config.loop().seed());
  opts.duplicates().threshold(a.threshold);
  fmt::print("alx review: {} items, {} labeled, {} classes; {}-fold cross-fitting, {} epochs per fold\n", pool.size(),
             pool.num_labeled(), pool.schema().size(), a.folds, config.trainer().epochs());
  std::fflush(stdout);
  const training::ReviewResult r = training::run_review(in, opts, a.out);
  fmt::print("{}{}", training::format_label_stats(r.stats), training::format_review_summary(r, pool));
  for (const auto& f : r.files) fmt::print("wrote {}\n", f);
  fmt::print("store: {} (review_label_stats, review_label_counts, review_suspects, review_duplicate_skip, "
             "review_summary)\n",
             a.store);
  return 0;
}

}  // namespace alx::cli
