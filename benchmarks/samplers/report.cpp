// What a benchmark writes: results.csv, aubc.csv, summary.md, curves.png.
#include <alx/core/error.h>
#include <alx/core/plot.h>

#include <fmt/format.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "bench_samplers.h"

namespace fs = std::filesystem;

namespace alx::bench {
namespace {

/// Writes `text` to `path` through a temporary file, so a reader never sees half a report.
void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    ALX_CHECK_IO(f.good(), "cannot write '{}'", tmp);
    f << text;
    ALX_CHECK_IO(f.good(), "could not finish writing '{}'", tmp);
  }
  fs::rename(tmp, path);
}

/// The runs of an arm that count for its numbers: the finished ones (curves of different
/// lengths do not compare), or, while none has finished, whatever is stored.
std::vector<const RunResult*> runs_of(const std::string& label, const std::vector<RunResult>& runs) {
  std::vector<const RunResult*> finished, partial;
  for (const auto& r : runs) {
    if (r.arm != label || r.rounds.empty()) continue;
    (r.finished ? finished : partial).push_back(&r);
  }
  return finished.empty() ? partial : finished;
}

TargetStat target_stat(const std::vector<const RunResult*>& runs, double target) {
  TargetStat t;
  t.target = target;
  t.runs = static_cast<int>(runs.size());
  std::vector<double> labels;
  for (const RunResult* r : runs)
    if (auto l = labels_to_reach(r->labeled(), r->accuracy(), target)) labels.push_back(*l);
  t.reached = static_cast<int>(labels.size());
  t.labels = mean_std(labels);
  return t;
}

std::string target_cell(const TargetStat& t, double final_labeled) {
  if (t.runs == 0) return "-";
  if (t.reached == 0) return fmt::format("> {:.0f}", final_labeled);
  if (t.reached < t.runs) return fmt::format("{:.0f} ({}/{} seeds)", t.labels.mean, t.reached, t.runs);
  return format_mean_std(t.labels, 0);
}

std::string read_first_line_with(const std::string& path, const std::string& key) {
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) {
      auto colon = line.find(':');
      if (colon == std::string::npos) return "";
      auto v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  return "";
}

std::string seeds_text(const std::vector<uint64_t>& seeds) {
  return fmt::format("{}", fmt::join(seeds, ", "));
}

std::string duration(double s) {
  if (s < 120) return fmt::format("{:.0f} s", s);
  if (s < 7200) return fmt::format("{:.1f} min", s / 60);
  return fmt::format("{:.2f} h", s / 3600);
}

}  // namespace

std::vector<ArmSummary> summarise(const Plan& plan, const std::vector<RunResult>& runs) {
  std::vector<ArmSummary> out;
  // Random's numbers first: the others are compared with them.
  const bool has_random =
      std::any_of(plan.arms.begin(), plan.arms.end(), [](const Arm& a) { return a.label == "random"; });
  std::map<uint64_t, double> random_aubc;
  std::map<std::pair<uint64_t, double>, double> random_acc;  // (seed, labeled) → accuracy
  double random_final = std::numeric_limits<double>::quiet_NaN();
  if (has_random) {
    std::vector<double> finals;
    for (const RunResult* r : runs_of("random", runs)) {
      random_aubc[r->seed] = aubc(r->labeled(), r->accuracy());
      for (const auto& row : r->rounds) random_acc[{r->seed, row.labeled}] = row.accuracy;
      finals.push_back(r->rounds.back().accuracy);
    }
    if (!finals.empty()) random_final = mean_std(finals).mean;
  }

  for (const auto& arm : plan.arms) {
    ArmSummary s;
    s.label = arm.label;
    s.describe = arm.describe();
    for (const auto& r : runs) {
      if (r.arm != arm.label) continue;
      ++s.runs_total;
      s.runs_finished += r.finished ? 1 : 0;
      s.runs_failed += r.failed ? 1 : 0;
    }
    const auto used = runs_of(arm.label, runs);
    std::vector<double> areas, deltas, finals, train, predict_select;
    std::map<double, std::vector<double>> by_labels, diffs;
    for (const RunResult* r : used) {
      const double a = aubc(r->labeled(), r->accuracy());
      areas.push_back(a);
      if (auto it = random_aubc.find(r->seed); it != random_aubc.end()) deltas.push_back(a - it->second);
      finals.push_back(r->rounds.back().accuracy);
      s.final_labeled = std::max(s.final_labeled, r->rounds.back().labeled);
      for (const auto& row : r->rounds) {
        by_labels[row.labeled].push_back(row.accuracy);
        if (auto it = random_acc.find({r->seed, row.labeled}); it != random_acc.end())
          diffs[row.labeled].push_back(row.accuracy - it->second);
      }
    }
    for (const auto& r : runs)
      if (r.arm == arm.label)
        for (const auto& row : r.rounds) {
          train.push_back(row.s_train);
          predict_select.push_back(row.s_predict + row.s_select + row.s_score);
        }
    s.aubc = mean_std(areas);
    s.aubc_minus_random = mean_std(deltas);
    s.final_accuracy = mean_std(finals);
    s.s_train = mean_std(train);
    s.s_predict_select = mean_std(predict_select);
    for (double t : plan.targets) s.targets.push_back(target_stat(used, t));
    if (!std::isnan(random_final)) s.to_random_final = target_stat(used, random_final);
    for (const auto& [x, ys] : by_labels) {
      const MeanStd m = mean_std(ys);
      s.x.push_back(x);
      s.mean.push_back(m.mean);
      s.std.push_back(m.std);
      s.n.push_back(m.n);
    }
    for (const auto& [x, ds] : diffs) {
      const MeanStd m = mean_std(ds);
      s.dx.push_back(x);
      s.dmean.push_back(m.mean);
      s.dstd.push_back(m.std);
    }
    out.push_back(std::move(s));
  }
  std::stable_sort(out.begin(), out.end(), [](const ArmSummary& a, const ArmSummary& b) {
    if (std::isnan(a.aubc.mean) != std::isnan(b.aubc.mean)) return std::isnan(b.aubc.mean);
    return a.aubc.mean > b.aubc.mean;
  });
  return out;
}

void write_results_csv(const std::vector<RunResult>& runs, const std::string& path) {
  std::string text =
      "sampler,seed,round,labeled,accuracy,macro_f1,seconds_train,seconds_evaluate,seconds_predict,"
      "seconds_score,seconds_select,seconds_total\n";
  for (const auto& r : runs)
    for (const auto& row : r.rounds)
      text += fmt::format("{},{},{},{:.0f},{:.6f},{:.6f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f}\n", r.arm, r.seed,
                          row.round, row.labeled, row.accuracy, row.macro_f1, row.s_train, row.s_evaluate,
                          row.s_predict, row.s_score, row.s_select, row.s_total);
  write_atomically(path, text);
}

void write_aubc_csv(const Plan& plan, const std::vector<RunResult>& runs, const std::string& path) {
  std::string text = "sampler,seed,finished,rounds,first_labeled,last_labeled,aubc,final_accuracy";
  for (double t : plan.targets) text += fmt::format(",labels_to_{:.3f}", t);
  text += "\n";
  for (const auto& r : runs) {
    if (r.rounds.empty()) continue;
    text += fmt::format("{},{},{},{},{:.0f},{:.0f},{:.6f},{:.6f}", r.arm, r.seed, r.finished ? 1 : 0, r.rounds.size(),
                        r.rounds.front().labeled, r.rounds.back().labeled, aubc(r.labeled(), r.accuracy()),
                        r.rounds.back().accuracy);
    for (double t : plan.targets) {
      auto l = labels_to_reach(r.labeled(), r.accuracy(), t);
      text += l ? fmt::format(",{:.0f}", *l) : std::string(",");
    }
    text += "\n";
  }
  write_atomically(path, text);
}

std::string machine_description() {
  std::string cpu = read_first_line_with("/proc/cpuinfo", "model name");
  if (cpu.empty()) cpu = "unknown CPU";
  const std::string mem_kb = read_first_line_with("/proc/meminfo", "MemTotal");
  double gib = 0;
  try {
    gib = std::stod(mem_kb) / (1024.0 * 1024.0);
  } catch (...) {
  }
  std::string load;
  std::ifstream la("/proc/loadavg");
  std::getline(la, load);
  if (auto sp = load.find(' '); sp != std::string::npos) load = load.substr(0, load.find(' ', sp + 1));
  return fmt::format("{}, {} cores, {:.1f} GiB, LibTorch {}{}", cpu, std::thread::hardware_concurrency(), gib,
                     TORCH_VERSION, load.empty() ? "" : fmt::format(", load average {} at the start", load));
}

void write_summary_md(const Plan& plan, const std::vector<ArmSummary>& summary, const std::vector<RunResult>& runs,
                      const ReportContext& ctx, const std::string& path) {
  const auto& c = plan.run;
  std::string md = fmt::format("# Sampler benchmark: {}\n\n", plan.name);
  if (!plan.description.empty()) md += plan.description + "\n\n";

  // The ranking.
  std::string random_final_head;
  for (const auto& s : summary)
    if (s.label == "random" && s.final_accuracy.n > 0)
      random_final_head = fmt::format(" | labels to random's final ({:.3f})", s.final_accuracy.mean);
  md += "| # | sampler | AUBC | Δ AUBC vs random | final accuracy";
  for (double t : plan.targets) md += fmt::format(" | labels to {:.2f}", t);
  md += random_final_head + " | train s/round | predict+select s/round | runs |\n";
  md += "|--:|:--|:--|:--|:--";
  for (std::size_t i = 0; i < plan.targets.size(); ++i) md += "|--:";
  if (!random_final_head.empty()) md += "|--:";
  md += "|--:|--:|:--|\n";
  int rank = 0;
  for (const auto& s : summary) {
    const std::string name = s.label == s.describe ? fmt::format("**{}**", s.label)
                                                   : fmt::format("**{}** (`{}`)", s.label, s.describe);
    md += fmt::format("| {} | {} | {} | {} | {}", std::isnan(s.aubc.mean) ? std::string("-") : std::to_string(++rank),
                      name, format_mean_std(s.aubc, 4),
                      s.label == "random" ? std::string("—") : format_mean_std(s.aubc_minus_random, 4),
                      s.final_accuracy.n ? fmt::format("{} @ {:.0f}", format_mean_std(s.final_accuracy, 4), s.final_labeled)
                                         : std::string("-"));
    for (const auto& t : s.targets) md += " | " + target_cell(t, s.final_labeled);
    if (!random_final_head.empty()) md += " | " + target_cell(s.to_random_final, s.final_labeled);
    std::string runs_cell = fmt::format("{}/{} finished", s.runs_finished, s.runs_total);
    if (s.runs_failed) runs_cell += fmt::format(", {} failed", s.runs_failed);
    md += fmt::format(" | {:.1f} | {:.2f} | {} |\n", s.s_train.n ? s.s_train.mean : 0.0,
                      s.s_predict_select.n ? s.s_predict_select.mean : 0.0, runs_cell);
  }
  md += fmt::format(
      "\nAUBC: area under the test-accuracy vs labeled-images curve, trapezoids over the labeled range, divided by "
      "that range (Zhan et al. 2022), per run; mean ± sample std over seeds. Δ vs random is paired by seed (the "
      "same pool, initial labels and test images). Labels to a target: the first labeled count at which a run "
      "reached that accuracy, mean ± std over seeds (\"> N\": no seed reached it within N labels). Seconds are "
      "per round.\n\n");
  md += "![learning curves](curves.png)\n";
  if (fs::exists(fs::path(path).parent_path() / "curves_vs_random.png")) md += "\n![difference to random](curves_vs_random.png)\n";

  // The protocol, in words and in full.
  const auto& d = c.data();
  const auto& l = c.loop();
  md += "\n## Protocol\n\n";
  md += fmt::format("- data: {} ({}), pool {}, test images {}, {} initial labels{}\n", d.dataset(), d.path(),
                    d.pool_size() > 0 ? std::to_string(d.pool_size()) : std::string("all"),
                    d.test_size() > 0 ? std::to_string(d.test_size()) : std::string("all"), d.initial_labels(),
                    d.initial_balanced() ? " (balanced over classes)" : "");
  md += fmt::format("- loop: {} rounds × {} labels, candidates per round {}, budget {}\n", l.rounds(), l.batch_size(),
                    l.pool_subsample() > 0 ? std::to_string(l.pool_subsample()) : std::string("all unlabeled"),
                    l.budget() > 0 ? std::to_string(l.budget()) : std::string("none"));
  const std::string min_steps =
      c.trainer().min_steps() > 0 ? fmt::format(" (at least {} steps)", c.trainer().min_steps()) : std::string();
  md += fmt::format("- model: {}, trained from scratch each round: {}; {} epochs{}, {} lr {}, batch {}\n",
                    c.model().name(), c.trainer().reinit() ? "yes" : "no (warm start)", c.trainer().epochs(),
                    min_steps, c.trainer().optimizer(), c.trainer().lr(), c.trainer().batch_size());
  md += fmt::format("- MC passes (samplers that need them): {} ({}, masks {})\n", c.predictor().mc_passes(),
                    c.predictor().mc_source(), c.predictor().masks());
  md += fmt::format("- seeds: {}; plan: `{}`; every run's configuration: `runs/<sampler>/seed-<s>/run.yaml`\n",
                    seeds_text(plan.seeds), plan.source);

  md += "\n## Machine, command, time\n\n";
  md += fmt::format("- machine: {}\n", machine_description());
  md += fmt::format("- threads: trainer {}, predictor {} (0 = all cores)\n", c.trainer().threads(), c.predictor().threads());
  md += fmt::format("- command: `{}`\n", ctx.command);
  double compute = 0;
  for (const auto& r : runs)
    for (const auto& row : r.rounds) compute += row.s_total;
  md += fmt::format("- wall time of this invocation: {}; time in the stored rounds of all runs: {}{}\n",
                    duration(ctx.wall_seconds), duration(compute),
                    ctx.runs_resumed ? fmt::format(" ({} runs found in the output folder)", ctx.runs_resumed) : "");

  std::string problems;
  for (const auto& r : runs)
    if (r.failed || !r.finished)
      problems += fmt::format("- {} seed {}: {}\n", r.arm, r.seed, r.failed ? "FAILED: " + r.status : r.status);
  if (!problems.empty()) md += "\n## Runs not finished\n\n" + problems;
  write_atomically(path, md);
}

void write_curves_png(const Plan& plan, const std::vector<ArmSummary>& summary, const std::string& dir) {
  const auto& c = plan.run;
  const std::string setting = fmt::format("{}, {}, {} per round", c.data().dataset(), c.model().name(), c.loop().batch_size());
  plot::LineChart chart;
  int seeds = 0;  // seeds behind the curves so far (fewer than planned while a benchmark runs)
  for (const auto& s : summary)
    for (int n : s.n) seeds = std::max(seeds, n);
  chart.title = seeds < static_cast<int>(plan.seeds.size())
                    ? fmt::format("{}: {} - mean and std over {} of {} seeds", plan.name, setting, seeds, plan.seeds.size())
                    : fmt::format("{}: {} - mean and std over {} seeds", plan.name, setting, seeds);
  chart.xlabel = "labeled images";
  chart.ylabel = "test accuracy";
  chart.width = 1200;
  chart.height = 720;
  for (const auto& s : summary) {
    if (s.x.empty()) continue;
    plot::Series series{std::isnan(s.aubc.mean) ? s.label : fmt::format("{} {:.3f}", s.label, s.aubc.mean), s.x, s.mean,
                        {}, {}};
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      const double sd = std::isnan(s.std[i]) ? 0.0 : s.std[i];
      series.lo.push_back(s.mean[i] - sd);
      series.hi.push_back(s.mean[i] + sd);
    }
    chart.series.push_back(std::move(series));
  }
  plot::save(chart, dir + "/curves.png");

  // The differences are small next to the climb of every curve; a second chart shows them,
  // paired by seed (the same pool, initial labels and test images as random's run).
  const bool has_random = std::any_of(summary.begin(), summary.end(),
                                      [](const ArmSummary& s) { return s.label == "random" && !s.dx.empty(); });
  if (!has_random) return;
  plot::LineChart diff;
  diff.title = fmt::format("{}: accuracy minus random's, paired by seed (mean and std over seeds)", plan.name);
  diff.xlabel = "labeled images";
  diff.ylabel = "test accuracy - random";
  diff.width = 1200;
  diff.height = 720;
  for (const auto& s : summary) {
    plot::Series series{s.label, s.dx, s.dmean, {}, {}};
    for (std::size_t i = 0; i < s.dx.size(); ++i) {
      const double sd = std::isnan(s.dstd[i]) ? 0.0 : s.dstd[i];
      series.lo.push_back(s.dmean[i] - sd);
      series.hi.push_back(s.dmean[i] + sd);
    }
    if (!series.x.empty()) diff.series.push_back(std::move(series));
  }
  plot::save(diff, dir + "/curves_vs_random.png");
}

}  // namespace alx::bench
