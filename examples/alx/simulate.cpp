#include <alx/core/error.h>
#include <alx/core/io/csv.h>
#include <alx/training/experiment.h>

#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "commands.h"

namespace alx::cli {

int simulate(const SimulateArgs& args) {
  using training::RunConfig;
  RunConfig config = args.config.empty() ? RunConfig::defaults() : RunConfig::load(args.config);
  if (!args.sampler.empty()) {
    config.loop().sampler(args.sampler);
    if (args.params.empty()) config.loop().sampler_params(YAML::Node());  // the new sampler's defaults
  }
  if (!args.params.empty()) config.loop().sampler_params(parse_params(args.params));
  if (args.rounds > 0) config.loop().rounds(args.rounds);
  if (args.seed >= 0) config.loop().seed(static_cast<uint64_t>(args.seed));
  if (args.batch > 0) config.loop().batch_size(args.batch);
  if (args.threads >= 0) {
    config.trainer().threads(args.threads);
    config.predictor().threads(args.threads);
  }

  std::filesystem::create_directories(args.out);
  const std::string store_path = args.out + "/store.h5";
  training::Simulation sim(config, store_path);
  const auto& loop = config.loop();
  std::printf("alx simulate: %s, %lld pool images, %zu held-out, sampler %s %s, %lld per round, seed %llu\n",
              config.data().dataset().c_str(), static_cast<long long>(sim.store().pool().size()),
              sim.data().test_indices.size(), loop.sampler().c_str(),
              loop.sampler_params().IsMap() ? YAML::Dump(loop.sampler_params()).c_str() : "",
              static_cast<long long>(loop.batch_size()), static_cast<unsigned long long>(loop.seed()));
  std::printf("%s\n", round_table_header().c_str());
  for (const auto& r : sim.store().rounds()) std::printf("%s  (stored)\n", round_table_row(r).c_str());
  std::fflush(stdout);

  const std::string reason = sim.loop().run([&](const training::RoundResult& r) {
    std::printf("%s\n", round_table_row(r.record).c_str());
    std::fflush(stdout);
    write_curve_csv(sim.store(), args.out + "/curve.csv");  // after every round: a killed run keeps its curve
  });

  write_curve_csv(sim.store(), args.out + "/curve.csv");
  write_curve_png(sim.store(),
                  fmt::format("{} - {} - seed {}", config.data().dataset(), loop.sampler(), loop.seed()),
                  args.out + "/curve.png");
  // The last batch the sampler chose, as a labeling team would receive it.
  if (!sim.store().rounds().empty()) {
    const auto& last = sim.store().rounds().back();
    std::ofstream csv(args.out + "/next_batch.csv");
    csv << "rank,id,uncertainty,label\n";
    for (std::size_t i = 0; i < last.selected.size(); ++i)
      csv << i << ',' << io::csv_escape(last.selected_ids[i]) << ',' << last.scores[i] << ','
          << io::csv_escape(sim.store().pool().schema().name(sim.store().pool().label(last.selected[i]))) << '\n';
  }
  std::printf("stopped: %s\nstore:  %s/store.h5\ncurve:  %s/curve.csv, %s/curve.png\nbatch:  %s/next_batch.csv\n",
              reason.c_str(), args.out.c_str(), args.out.c_str(), args.out.c_str(), args.out.c_str());
  return 0;
}

}  // namespace alx::cli
