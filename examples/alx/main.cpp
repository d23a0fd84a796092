// alx — the example loop program: simulate active learning on a labeled data set, run one
// round against a labeling tool's export, or show a store's state.
#include <alx/core/error.h>
#include <alx/core/log.h>

#include <alx/training/experiment.h>

#include <CLI/CLI.hpp>

#include <cstdio>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"alx — active learning for image labeling: which images should people label next?"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "alx 0.1.0");

  alx::cli::SimulateArgs sim;
  auto* s = app.add_subcommand("simulate",
                               "Simulate labeling on a labeled data set (default: Fashion-MNIST): "
                               "train, score, select and reveal labels round after round");
  s->add_option("--config", sim.config, "YAML run configuration (default: built-in Fashion-MNIST preset)")
      ->check(CLI::ExistingFile);
  s->add_option("--sampler", sim.sampler, "sampler name (e.g. random, topk, kcenter, badge)");
  s->add_option("--param", sim.params, "sampler parameter key=value (repeatable), e.g. scorer=entropy");
  s->add_option("--rounds", sim.rounds, "number of rounds")->check(CLI::PositiveNumber);
  s->add_option("--seed", sim.seed, "seed of the run")->check(CLI::NonNegativeNumber);
  s->add_option("--batch", sim.batch, "items acquired per round")->check(CLI::PositiveNumber);
  s->add_option("--threads", sim.threads, "LibTorch threads (0: all cores)")->check(CLI::NonNegativeNumber);
  s->add_option("--out", sim.out, "output folder: store.h5, curve.csv, curve.png, next_batch.csv")->required();
  {
    std::string keys = "\nConfiguration keys (YAML file of --config; defaults in examples/configs/fashion_mnist.yaml):\n";
    for (const auto& line : alx::config::help<alx::training::RunConfig>(alx::training::RunConfig::defaults()))
      keys += "  " + line + "\n";
    s->footer(keys);
  }

  alx::cli::RoundArgs rnd;
  auto* r = app.add_subcommand("round",
                               "One round against a labeling export: train on its labels, pick the "
                               "next batch, write it back with pre-annotations");
  r->add_option("--export", rnd.export_file, "the export (Label Studio JSON, CVAT XML, COCO JSON, CSV, folder)")
      ->required();
  r->add_option("--format", rnd.format, "labelstudio, cvat, coco, folder or csv (default: from the file)")
      ->check(CLI::IsMember({"labelstudio", "cvat", "coco", "folder", "csv"}));
  r->add_option("--images", rnd.images, "folder the export's image paths are relative to");
  r->add_option("--config", rnd.config, "YAML configuration (model, trainer, augment, loop)")->check(CLI::ExistingFile);
  r->add_option("--batch", rnd.batch, "items in the next batch")->check(CLI::PositiveNumber);
  r->add_option("--classes", rnd.classes, "fixed class list: a label outside it is an error")->delimiter(',');
  r->add_option("--max-pixels", rnd.max_pixels,
                "refuse images whose header claims more pixels (default 2^28), before decoding")
      ->check(CLI::PositiveNumber);
  r->add_option("--store", rnd.store, "the project's store (default: <out>/store.h5)");
  r->add_option("--out", rnd.out, "output folder: next_batch.json, next_batch.csv (+ .xml for CVAT)")->required();

  alx::cli::StatusArgs st;
  auto* t = app.add_subcommand("status", "Pool size, labels per class, rounds and last metrics of a store");
  t->add_option("--store", st.store, "the store file")->required()->check(CLI::ExistingFile);

  alx::cli::ReviewArgs rv;
  auto* v = app.add_subcommand("review", "Label review: label statistics, suspected mislabels (cross-fitted), "
                                         "near-duplicates, test leaks and embedding maps");
  v->add_option("--store", rv.store, "the store file")->required()->check(CLI::ExistingFile);
  v->add_option("--out", rv.out, "output folder")->required();
  v->add_option("--images", rv.images, "folder the item ids are relative to (stores made by `alx round`)");
  v->add_option("--folds", rv.folds, "cross-fitting folds")->check(CLI::Range(2, 50));
  v->add_option("--epochs", rv.epochs, "epochs per fold (default: the store's config)")->check(CLI::PositiveNumber);
  v->add_option("--threads", rv.threads, "LibTorch threads (0: all cores)")->check(CLI::NonNegativeNumber);
  v->add_option("--threshold", rv.threshold, "cosine similarity of near-duplicates")->check(CLI::Range(0.0, 1.0));
  v->add_option("--min-share", rv.min_share, "warn about classes under this share of the labels");
  v->add_option("--map-unlabeled", rv.map_unlabeled, "unlabeled items drawn into the maps at most");
  v->add_flag("--no-tsne", rv.no_tsne, "skip the t-SNE map");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*s) return alx::cli::simulate(sim);
    if (*r) return alx::cli::round(rnd);
    if (*t) return alx::cli::status(st);
    if (*v) return alx::cli::review(rv);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "alx: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "alx: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
