// alx-bench samplers: the command line of the sampler benchmark.
#include <alx/core/error.h>
#include <alx/sampling/sampler.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "bench_samplers.h"

namespace fs = std::filesystem;

namespace alx::bench {
namespace {

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:@+") ==
                        std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// The plan as a plan file: what ran, re-runnable with --config.
std::string plan_yaml(const Plan& plan) {
  YAML::Node root;
  root["name"] = plan.name;
  if (!plan.description.empty()) root["description"] = plan.description;
  root["seeds"] = static_cast<int>(plan.seeds.size());
  root["first_seed"] = plan.seeds.front();
  for (double t : plan.targets) root["targets"].push_back(t);
  for (const auto& a : plan.arms) {
    YAML::Node e;
    e["label"] = a.label;
    e["sampler"] = a.sampler;
    if (a.params.IsDefined() && !a.params.IsNull()) e["params"] = a.params;
    root["samplers"].push_back(e);
  }
  YAML::Node run = YAML::Load(plan.run.to_yaml());
  run["loop"].remove("sampler");
  run["loop"].remove("sampler_params");
  run["loop"].remove("seed");
  root["run"] = run;
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

void list(std::FILE* f) {
  std::fprintf(f, "presets: %s\n", fmt::format("{}", fmt::join(preset_names(), ", ")).c_str());
  std::fprintf(f, "registered samplers:\n");
  for (const auto& name : sampling::sampler_names())
    std::fprintf(f, "  %-16s %s\n", name.c_str(), sampling::sampler_summary(name).c_str());
}

struct Args {
  std::string preset, config, out;
  std::vector<std::string> samplers;
  std::vector<double> targets;
  int seeds = 0, rounds = 0, threads = -1;
  bool report_only = false, list = false;
};

int run_samplers(const Args& args, const std::string& command) {
  const auto start = std::chrono::steady_clock::now();
  ALX_CHECK(args.preset.empty() != args.config.empty(), "give either --preset NAME ({}) or --config FILE",
            fmt::join(preset_names(), ", "));
  ALX_CHECK(!args.out.empty(), "--out DIR is required");
  Plan plan = load_plan(args.preset.empty() ? args.config : preset_path(args.preset));
  if (!args.samplers.empty()) select_arms(plan, args.samplers);
  if (args.seeds > 0) {
    const uint64_t first = plan.seeds.front();
    plan.seeds.clear();
    for (int i = 0; i < args.seeds; ++i) plan.seeds.push_back(first + static_cast<uint64_t>(i));
  }
  if (args.rounds > 0) plan.run.loop().rounds(args.rounds);
  if (args.threads >= 0) {
    plan.run.trainer().threads(args.threads);
    plan.run.predictor().threads(args.threads);
  }
  if (!args.targets.empty()) plan.targets = args.targets;

  fs::create_directories(args.out);
  {
    std::ofstream f(args.out + "/plan.yaml");
    f << plan_yaml(plan);
  }
  std::vector<std::string> labels;
  for (const auto& a : plan.arms) labels.push_back(a.label);
  std::printf("alx-bench samplers: %s, %zu samplers (%s) x %zu seeds, %d rounds of %lld, output %s\n",
              plan.name.c_str(), plan.arms.size(), fmt::format("{}", fmt::join(labels, ", ")).c_str(),
              plan.seeds.size(), plan.run.loop().rounds(), static_cast<long long>(plan.run.loop().batch_size()),
              args.out.c_str());
  std::printf("machine: %s\n", machine_description().c_str());
  std::fflush(stdout);

  ReportContext ctx;
  ctx.command = command;
  bool counted = false;
  auto report = [&](const std::vector<RunResult>& runs) {
    if (!counted) {  // the first call shows what earlier invocations left
      for (const auto& r : runs) ctx.runs_resumed += r.rounds.empty() ? 0 : 1;
      counted = true;
    }
    ctx.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto summary = summarise(plan, runs);
    write_results_csv(runs, args.out + "/results.csv");
    write_aubc_csv(plan, runs, args.out + "/aubc.csv");
    write_curves_png(plan, summary, args.out);
    write_summary_md(plan, summary, runs, ctx, args.out + "/summary.md");
  };

  RunOptions options;
  options.out = args.out;
  options.report_only = args.report_only;
  options.print = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  const auto runs = run_plan(plan, options, report);
  report(runs);

  const auto summary = summarise(plan, runs);
  std::printf("\n%-18s %-17s %-17s %s\n", "sampler", "AUBC", "vs random", "runs");
  for (const auto& s : summary)
    std::printf("%-18s %-17s %-17s %d/%d finished%s\n", s.label.c_str(), format_mean_std(s.aubc, 4).c_str(),
                s.label == "random" ? "" : format_mean_std(s.aubc_minus_random, 4).c_str(), s.runs_finished,
                s.runs_total, s.runs_failed ? fmt::format(", {} failed", s.runs_failed).c_str() : "");
  std::printf("\nwall time %.0f s\nreport: %s/summary.md, %s/curves.png, %s/results.csv\n", ctx.wall_seconds,
              args.out.c_str(), args.out.c_str(), args.out.c_str());
  for (const auto& r : runs)
    if (r.failed) return 1;
  return 0;
}

}  // namespace

int samplers_main(int argc, char** argv) {
  CLI::App app{"alx-bench — benchmarks of alx that answer questions with learning curves"};
  app.require_subcommand(1);
  Args args;
  auto* s = app.add_subcommand(
      "samplers",
      "Simulated active learning for samplers x seeds on one data set and protocol: results.csv, aubc.csv, "
      "summary.md (ranked by AUBC) and curves.png in --out. Finished runs are kept, interrupted ones resume.");
  s->add_option("--preset", args.preset, "a preset by name: quick, gal2017, full (see --list)");
  s->add_option("--config", args.config, "a plan file (presets/*.yaml show the format) or a plain run config")
      ->check(CLI::ExistingFile);
  s->add_option("--samplers", args.samplers,
                "only these: labels of the plan, registered sampler names or scorer names (topk with that scorer)")
      ->delimiter(',');
  s->add_option("--seeds", args.seeds, "number of seeds (overrides the plan)")->check(CLI::PositiveNumber);
  s->add_option("--rounds", args.rounds, "rounds per run (overrides the plan)")->check(CLI::PositiveNumber);
  s->add_option("--threads", args.threads, "LibTorch threads for training and prediction (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  s->add_option("--targets", args.targets, "accuracy targets for labels-to-target, e.g. 0.7,0.8")->delimiter(',');
  s->add_option("--out", args.out, "output folder (one store per sampler and seed under runs/)");
  s->add_flag("--report-only", args.report_only, "rewrite the reports from the stores in --out; run nothing");
  s->add_flag("--list", args.list, "list the presets and the registered samplers");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + shell_quote(argv[i]);
  try {
    if (args.list) {
      list(stdout);
      return 0;
    }
    return run_samplers(args, command);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "alx-bench: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "alx-bench: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace alx::bench
