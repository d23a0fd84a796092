#include <alx/core/error.h>
#include <alx/core/plot.h>

#include <fmt/format.h>

#include <fstream>

#include "commands.h"

namespace alx::cli {
namespace {

double metric(const RoundRecord& r, const std::string& key, double fallback = -1) {
  auto it = r.metrics.find(key);
  return it == r.metrics.end() ? fallback : it->second;
}

double secs(const RoundRecord& r, const std::string& key) {
  auto it = r.seconds.find(key);
  return it == r.seconds.end() ? 0.0 : it->second;
}

std::string num_or_dash(double v, const char* fmt_spec) {
  return v < 0 ? std::string("-") : fmt::format(fmt::runtime(fmt_spec), v);
}

}  // namespace

std::string round_table_header() {
  return fmt::format("{:>5} {:>8} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8}", "round", "labeled", "accuracy",
                     "macro_f1", "train_s", "pred_s", "select_s", "total_s");
}

std::string round_table_row(const RoundRecord& r) {
  return fmt::format("{:>5} {:>8} {:>9} {:>9} {:>8.1f} {:>8.1f} {:>8.2f} {:>8.1f}", r.round,
                     static_cast<long long>(metric(r, "labeled", 0)),
                     num_or_dash(metric(r, "accuracy"), "{:.4f}"), num_or_dash(metric(r, "macro_f1"), "{:.4f}"),
                     secs(r, "train"), secs(r, "predict"), secs(r, "select") + secs(r, "score"), secs(r, "total"));
}

void write_curve_csv(const Store& store, const std::string& path) {
  std::ofstream out(path);
  ALX_CHECK_IO(out.good(), "cannot write '{}'", path);
  out << "round,labeled,accuracy,macro_f1,seconds,seconds_train,seconds_predict,seconds_select\n";
  for (const auto& r : store.rounds())
    out << fmt::format("{},{},{:.6f},{:.6f},{:.3f},{:.3f},{:.3f},{:.3f}\n", r.round,
                       static_cast<long long>(metric(r, "labeled", 0)), metric(r, "accuracy"),
                       metric(r, "macro_f1"), secs(r, "total"), secs(r, "train"), secs(r, "predict"),
                       secs(r, "select") + secs(r, "score"));
  ALX_CHECK_IO(out.good(), "could not finish writing '{}'", path);
}

void write_curve_png(const Store& store, const std::string& title, const std::string& path) {
  plot::LineChart chart;
  chart.title = title;
  chart.xlabel = "labeled images";
  chart.ylabel = "held-out score";
  plot::Series acc{"accuracy", {}, {}, {}, {}}, f1{"macro-F1", {}, {}, {}, {}};
  for (const auto& r : store.rounds()) {
    if (metric(r, "accuracy") < 0) continue;
    acc.x.push_back(metric(r, "labeled", 0));
    acc.y.push_back(metric(r, "accuracy"));
    f1.x.push_back(metric(r, "labeled", 0));
    f1.y.push_back(metric(r, "macro_f1"));
  }
  chart.series = {acc, f1};
  plot::save(chart, path);
}

YAML::Node parse_params(const std::vector<std::string>& pairs) {
  YAML::Node node(YAML::NodeType::Map);
  for (const auto& p : pairs) {
    const auto eq = p.find('=');
    ALX_CHECK(eq != std::string::npos && eq > 0, "--param '{}' is not key=value", p);
    node[p.substr(0, eq)] = YAML::Load(p.substr(eq + 1));
  }
  return node;
}

}  // namespace alx::cli
