#include <alx/core/error.h>
#include <alx/core/plot.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace alx::plot {
namespace {

// Matplotlib's tab10 palette, as BGR.
const cv::Scalar kPalette[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44},  {40, 39, 214},
                               {189, 103, 148}, {75, 86, 140}, {194, 119, 227}, {127, 127, 127},
                               {34, 189, 188}, {207, 190, 23}};
const cv::Scalar kBlack(0, 0, 0), kGrid(225, 225, 225), kWhite(255, 255, 255);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

cv::Scalar color(int i) { return i < 0 ? cv::Scalar(170, 170, 170) : kPalette[i % 10]; }

void text(cv::Mat& img, const std::string& s, cv::Point at, double scale = 0.5, int align = 0,
          cv::Scalar c = kBlack, int thickness = 1) {
  int base = 0;
  const cv::Size size = cv::getTextSize(s, kFont, scale, thickness, &base);
  if (align == 1) at.x -= size.width / 2;  // centered
  if (align == 2) at.x -= size.width;      // right
  cv::putText(img, s, at, kFont, scale, c, thickness, cv::LINE_AA);
}

void vertical_text(cv::Mat& img, const std::string& s, cv::Point center, double scale = 0.55) {
  int base = 0;
  const cv::Size size = cv::getTextSize(s, kFont, scale, 1, &base);
  cv::Mat tmp(size.height + base + 4, size.width + 4, CV_8UC3, kWhite);
  cv::putText(tmp, s, {2, size.height + 2}, kFont, scale, kBlack, 1, cv::LINE_AA);
  cv::rotate(tmp, tmp, cv::ROTATE_90_COUNTERCLOCKWISE);
  const int x = std::clamp(center.x - tmp.cols / 2, 0, img.cols - tmp.cols);
  const int y = std::clamp(center.y - tmp.rows / 2, 0, img.rows - tmp.rows);
  tmp.copyTo(img(cv::Rect(x, y, tmp.cols, tmp.rows)));
}

/// "Nice" tick positions covering [lo, hi].
std::vector<double> ticks(double lo, double hi, int target = 6) {
  const double span = hi - lo;
  const double raw = span / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push_back(t);
  return out;
}

std::string tick_label(double v, double step) {
  if (std::abs(v) < step * 1e-9) v = 0.0;  // ceil(-0.3) * step is -0, printed "-0"
  if (std::abs(v) >= 1e4) return fmt::format("{:.0f}", v);
  const int digits = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) + 1e-9));
  return fmt::format("{:.{}f}", v, std::min(digits, 4));
}

/// Axes frame with ticks and grid; maps data to pixels.
struct Frame {
  cv::Rect area;
  double x0, x1, y0, y1;
  cv::Point to_px(double x, double y) const {
    const double fx = (x - x0) / (x1 - x0), fy = (y - y0) / (y1 - y0);
    return {area.x + static_cast<int>(std::lround(fx * area.width)),
            area.y + area.height - static_cast<int>(std::lround(fy * area.height))};
  }
};

void pad_range(double& lo, double& hi) {
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const double pad = (hi - lo) * 0.04;
  lo -= pad;
  hi += pad;
}

Frame draw_frame(cv::Mat& img, const std::string& title, const std::string& xlabel,
                 const std::string& ylabel, double x0, double x1, double y0, double y1,
                 int right_margin) {
  Frame f{cv::Rect(90, 50, img.cols - 90 - right_margin, img.rows - 50 - 70), x0, x1, y0, y1};
  text(img, title, {img.cols / 2, 32}, 0.75, 1, kBlack, 2);
  const auto xt = ticks(x0, x1), yt = ticks(y0, y1);
  const double xs = xt.size() > 1 ? xt[1] - xt[0] : 1, ys = yt.size() > 1 ? yt[1] - yt[0] : 1;
  for (double t : xt) {
    const cv::Point p = f.to_px(t, y0);
    cv::line(img, {p.x, f.area.y}, {p.x, f.area.y + f.area.height}, kGrid, 1);
    text(img, tick_label(t, xs), {p.x, f.area.y + f.area.height + 20}, 0.45, 1);
  }
  for (double t : yt) {
    const cv::Point p = f.to_px(x0, t);
    cv::line(img, {f.area.x, p.y}, {f.area.x + f.area.width, p.y}, kGrid, 1);
    text(img, tick_label(t, ys), {f.area.x - 8, p.y + 5}, 0.45, 2);
  }
  cv::rectangle(img, f.area, kBlack, 1);
  text(img, xlabel, {f.area.x + f.area.width / 2, img.rows - 20}, 0.55, 1);
  vertical_text(img, ylabel, {25, f.area.y + f.area.height / 2});
  return f;
}

/// Right margin that fits a legend of these labels (swatch, gap, text), at least 190 px.
int legend_margin(const std::vector<std::string>& labels) {
  int widest = 0, base = 0;
  for (const auto& l : labels) widest = std::max(widest, cv::getTextSize(l, kFont, 0.5, 1, &base).width);
  return std::max(190, 15 + 30 + widest + 10);
}

void legend(cv::Mat& img, const std::vector<std::pair<std::string, cv::Scalar>>& entries, int x, int y) {
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const int yy = y + static_cast<int>(i) * 24;
    cv::rectangle(img, cv::Rect(x, yy - 11, 22, 12), entries[i].second, cv::FILLED);
    text(img, entries[i].first, {x + 30, yy}, 0.5);
  }
}

void write_png(const cv::Mat& img, const std::string& path) {
  bool ok = false;
  try {
    ok = cv::imwrite(path, img);
  } catch (const cv::Exception&) {
    ok = false;
  }
  ALX_CHECK_IO(ok, "cannot write chart '{}'", path);
}

}  // namespace

void save(const LineChart& chart, const std::string& path) {
  double x0 = std::numeric_limits<double>::max(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : chart.series) {
    ALX_CHECK(s.x.size() == s.y.size(), "series '{}': {} x values but {} y values", s.label, s.x.size(), s.y.size());
    ALX_CHECK(s.lo.empty() || (s.lo.size() == s.x.size() && s.hi.size() == s.x.size()),
              "series '{}': band needs lo and hi of {} values", s.label, s.x.size());
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.lo.empty() ? s.y[i] : s.lo[i]);
      y1 = std::max(y1, s.hi.empty() ? s.y[i] : s.hi[i]);
    }
  }
  if (x0 > x1) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  pad_range(x0, x1);
  pad_range(y0, y1);
  cv::Mat img(chart.height, chart.width, CV_8UC3, kWhite);
  std::vector<std::string> labels;
  for (const auto& s : chart.series) labels.push_back(s.label);
  const Frame f = draw_frame(img, chart.title, chart.xlabel, chart.ylabel, x0, x1, y0, y1, legend_margin(labels));
  std::vector<std::pair<std::string, cv::Scalar>> entries;
  for (std::size_t k = 0; k < chart.series.size(); ++k) {
    const auto& s = chart.series[k];
    const cv::Scalar c = color(static_cast<int>(k));
    if (!s.lo.empty() && s.x.size() > 1) {
      std::vector<cv::Point> band;
      for (std::size_t i = 0; i < s.x.size(); ++i) band.push_back(f.to_px(s.x[i], s.hi[i]));
      for (std::size_t i = s.x.size(); i-- > 0;) band.push_back(f.to_px(s.x[i], s.lo[i]));
      cv::Mat overlay = img.clone();
      cv::fillPoly(overlay, std::vector<std::vector<cv::Point>>{band}, c, cv::LINE_AA);
      cv::addWeighted(overlay, 0.18, img, 0.82, 0, img);
    }
  }
  for (std::size_t k = 0; k < chart.series.size(); ++k) {
    const auto& s = chart.series[k];
    const cv::Scalar c = color(static_cast<int>(k));
    for (std::size_t i = 0; i + 1 < s.x.size(); ++i)
      cv::line(img, f.to_px(s.x[i], s.y[i]), f.to_px(s.x[i + 1], s.y[i + 1]), c, 2, cv::LINE_AA);
    for (std::size_t i = 0; i < s.x.size(); ++i) cv::circle(img, f.to_px(s.x[i], s.y[i]), 3, c, cv::FILLED, cv::LINE_AA);
    entries.push_back({s.label, c});
  }
  legend(img, entries, f.area.x + f.area.width + 15, f.area.y + 15);
  write_png(img, path);
}

void save(const ScatterChart& chart, const std::string& path) {
  const std::size_t n = chart.x.size();
  ALX_CHECK(chart.y.size() == n && chart.group.size() == n, "scatter: x, y and group need {} values", n);
  ALX_CHECK(chart.mark.empty() || chart.mark.size() == n, "scatter: mark needs {} values", n);
  double x0 = std::numeric_limits<double>::max(), x1 = -x0, y0 = x0, y1 = -x0;
  for (std::size_t i = 0; i < n; ++i) {
    x0 = std::min<double>(x0, chart.x[i]), x1 = std::max<double>(x1, chart.x[i]);
    y0 = std::min<double>(y0, chart.y[i]), y1 = std::max<double>(y1, chart.y[i]);
  }
  if (n == 0) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  pad_range(x0, x1);
  pad_range(y0, y1);
  cv::Mat img(chart.height, chart.width, CV_8UC3, kWhite);
  const Frame f = draw_frame(img, chart.title, chart.xlabel, chart.ylabel, x0, x1, y0, y1,
                             legend_margin(chart.group_names));
  const int radius = n > 20000 ? 1 : n > 3000 ? 2 : 3;
  for (std::size_t i = 0; i < n; ++i)
    cv::circle(img, f.to_px(chart.x[i], chart.y[i]), radius, color(chart.group[i]), cv::FILLED, cv::LINE_AA);
  for (std::size_t i = 0; i < chart.mark.size(); ++i) {
    const cv::Point p = f.to_px(chart.x[i], chart.y[i]);
    if (chart.mark[i] == 1) cv::circle(img, p, 7, kBlack, 2, cv::LINE_AA);
    if (chart.mark[i] == 2) {
      cv::line(img, p + cv::Point(-6, -6), p + cv::Point(6, 6), kBlack, 2, cv::LINE_AA);
      cv::line(img, p + cv::Point(-6, 6), p + cv::Point(6, -6), kBlack, 2, cv::LINE_AA);
    }
  }
  std::vector<std::pair<std::string, cv::Scalar>> entries;
  for (std::size_t g = 0; g < chart.group_names.size(); ++g)
    entries.push_back({chart.group_names[g], color(static_cast<int>(g))});
  const int lx = f.area.x + f.area.width + 15;
  legend(img, entries, lx, f.area.y + 15);
  int ly = f.area.y + 15 + static_cast<int>(entries.size()) * 24 + 20;
  if (std::count(chart.mark.begin(), chart.mark.end(), 1)) {
    cv::circle(img, {lx + 11, ly - 5}, 7, kBlack, 2, cv::LINE_AA);
    text(img, chart.mark_names.size() > 1 ? chart.mark_names[1] : "flagged", {lx + 30, ly}, 0.5);
    ly += 26;
  }
  if (std::count(chart.mark.begin(), chart.mark.end(), 2)) {
    cv::line(img, {lx + 5, ly - 11}, {lx + 17, ly + 1}, kBlack, 2, cv::LINE_AA);
    cv::line(img, {lx + 5, ly + 1}, {lx + 17, ly - 11}, kBlack, 2, cv::LINE_AA);
    text(img, chart.mark_names.size() > 2 ? chart.mark_names[2] : "marked", {lx + 30, ly}, 0.5);
  }
  write_png(img, path);
}

void save(const BarChart& chart, const std::string& path) {
  const std::size_t n = chart.labels.size();
  ALX_CHECK(chart.values.size() == n, "bar chart: {} labels but {} values", n, chart.values.size());
  ALX_CHECK(chart.values2.empty() || chart.values2.size() == n, "bar chart: values2 needs {} values", n);
  double top = 0;
  for (double v : chart.values) top = std::max(top, v);
  for (double v : chart.values2) top = std::max(top, v);
  if (top <= 0) top = 1;
  cv::Mat img(chart.height, chart.width, CV_8UC3, kWhite);
  Frame f = draw_frame(img, chart.title, "", chart.ylabel, 0, static_cast<double>(std::max<std::size_t>(n, 1)),
                       0, top * 1.08, chart.values2.empty() ? 30 : legend_margin({chart.name1, chart.name2}));
  // Replace the numeric x ticks with the labels.
  cv::rectangle(img, cv::Rect(f.area.x + 1, f.area.y + f.area.height + 2, f.area.width, 25), kWhite, cv::FILLED);
  const bool two = !chart.values2.empty();
  for (std::size_t i = 0; i < n; ++i) {
    const double w = two ? 0.38 : 0.7;
    const double left = static_cast<double>(i) + (two ? 0.1 : 0.15);
    cv::rectangle(img, cv::Rect(f.to_px(left, chart.values[i]), f.to_px(left + w, 0)), color(0), cv::FILLED);
    if (two)
      cv::rectangle(img, cv::Rect(f.to_px(left + w + 0.04, chart.values2[i]), f.to_px(left + 2 * w + 0.04, 0)),
                    color(1), cv::FILLED);
    text(img, chart.labels[i], {f.to_px(static_cast<double>(i) + 0.5, 0).x, f.area.y + f.area.height + 20},
         n > 12 ? 0.35 : 0.45, 1);
  }
  if (two) legend(img, {{chart.name1, color(0)}, {chart.name2, color(1)}}, f.area.x + f.area.width + 15, f.area.y + 15);
  write_png(img, path);
}

}  // namespace alx::plot
