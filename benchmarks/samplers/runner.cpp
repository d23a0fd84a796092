// Running a plan: one simulated loop per (seed, arm), each in its own store, resumed when
// the store exists.
#include <alx/core/error.h>
#include <alx/core/store.h>
#include <alx/training/experiment.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "bench_samplers.h"

namespace fs = std::filesystem;

namespace alx::bench {
namespace {

double value(const std::map<std::string, double>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? 0.0 : it->second;
}

RoundRow to_row(const RoundRecord& r) {
  RoundRow row;
  row.round = r.round;
  row.labeled = value(r.metrics, "labeled");
  row.accuracy = value(r.metrics, "accuracy");
  row.macro_f1 = value(r.metrics, "macro_f1");
  row.s_train = value(r.seconds, "train");
  row.s_evaluate = value(r.seconds, "evaluate");
  row.s_predict = value(r.seconds, "predict");
  row.s_score = value(r.seconds, "score");
  row.s_select = value(r.seconds, "select");
  row.s_total = value(r.seconds, "total");
  return row;
}

/// A folder name for a label: letters, digits, '.', '-', '_' kept, the rest '_'.
std::string folder_name(const std::string& label) {
  std::string s = label;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) c = '_';
  return s;
}

std::string run_dir(const std::string& out, const Arm& arm, uint64_t seed) {
  return fmt::format("{}/runs/{}/seed-{}", out, folder_name(arm.label), seed);
}

void write_text(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    ALX_CHECK_IO(f.good(), "cannot write '{}'", tmp);
    f << text;
    ALX_CHECK_IO(f.good(), "could not finish writing '{}'", tmp);
  }
  fs::rename(tmp, path);
}

}  // namespace

std::vector<double> RunResult::labeled() const {
  std::vector<double> v;
  for (const auto& r : rounds) v.push_back(r.labeled);
  return v;
}

std::vector<double> RunResult::accuracy() const {
  std::vector<double> v;
  for (const auto& r : rounds) v.push_back(r.accuracy);
  return v;
}

std::vector<RunResult> run_plan(const Plan& plan, const RunOptions& options,
                                const std::function<void(const std::vector<RunResult>&)>& on_progress) {
  ALX_CHECK(!plan.arms.empty(), "the plan has no samplers");
  fs::create_directories(options.out);
  const auto say = [&](const std::string& s) {
    if (options.print) options.print(s);
  };

  // Every (seed, arm) slot exists from the start, so a report written mid-way lists them all.
  std::vector<RunResult> results;
  for (uint64_t seed : plan.seeds)
    for (const auto& arm : plan.arms) {
      RunResult r;
      r.arm = arm.label;
      r.seed = seed;
      r.status = "not started";
      results.push_back(r);
    }

  // The stores of earlier invocations first: a report shows them before any new work.
  std::size_t slot = 0;
  for (uint64_t seed : plan.seeds)
    for (const auto& arm : plan.arms) {
      RunResult& r = results[slot++];
      const std::string store_path = run_dir(options.out, arm, seed) + "/store.h5";
      if (!fs::exists(store_path)) continue;
      try {
        Store store = Store::open(store_path);
        for (const auto& rec : store.rounds()) r.rounds.push_back(to_row(rec));
        const training::RunConfig config = plan.config_for(arm, seed);
        const auto& loop = config.loop();
        r.finished = store.last_round() >= loop.rounds() ||
                     (loop.budget() > 0 && store.pool().num_labeled() >= loop.budget());
        r.status = r.finished ? "finished" : "stored, unfinished";
      } catch (const std::exception& e) {
        r.status = fmt::format("unreadable store: {}", e.what());
      }
    }
  if (on_progress) on_progress(results);
  if (options.report_only) return results;

  const std::size_t total = results.size();
  slot = 0;
  for (uint64_t seed : plan.seeds)
    for (const auto& arm : plan.arms) {
      RunResult& r = results[slot++];
      const std::string dir = run_dir(options.out, arm, seed);
      const std::string tag = fmt::format("[{}/{}] {} seed {}", slot, total, arm.label, seed);
      try {
        fs::create_directories(dir);
        const training::RunConfig config = plan.config_for(arm, seed);
        write_text(dir + "/run.yaml", config.to_yaml());
        // Simulation resumes an existing store and refuses one made by another configuration.
        training::Simulation sim(config, dir + "/store.h5");
        r.rounds.clear();
        for (const auto& rec : sim.store().rounds()) r.rounds.push_back(to_row(rec));
        if (auto reason = sim.loop().stop_reason()) {
          r.finished = true;
          r.status = *reason;
          say(fmt::format("{}: done earlier ({} rounds, {})", tag, r.rounds.size(), *reason));
          continue;
        }
        if (!r.rounds.empty()) say(fmt::format("{}: resuming after round {}", tag, r.rounds.back().round));
        r.status = "in progress";
        const int rounds = config.loop().rounds();
        r.status = sim.loop().run([&](const training::RoundResult& res) {
          const RoundRow row = to_row(res.record);
          r.rounds.push_back(row);
          say(fmt::format("{}: round {}/{}  labeled {:>5.0f}  accuracy {:.4f}  train {:.1f}s  predict {:.1f}s  "
                          "select {:.2f}s",
                          tag, row.round, rounds, row.labeled, row.accuracy, row.s_train, row.s_predict,
                          row.s_select + row.s_score));
        });
        r.finished = true;
        say(fmt::format("{}: stopped: {}", tag, r.status));
      } catch (const std::exception& e) {
        // One broken sampler must not cost the other runs of a long benchmark.
        r.failed = true;
        r.status = e.what();
        say(fmt::format("{}: FAILED: {}", tag, e.what()));
      }
      if (on_progress) on_progress(results);
    }
  return results;
}

}  // namespace alx::bench
