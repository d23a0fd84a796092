// alx/core/plot.h — small charts drawn with OpenCV and written as PNG: learning curves
// with bands, scatter plots of embeddings, bar charts of label counts.
//
//   plot::LineChart c{"Fashion-MNIST", "labels", "accuracy"};
//   c.series.push_back({"margin", xs, means, lows, highs});
//   plot::save(c, "curves.png");
#pragma once

#include <string>
#include <vector>

namespace alx::plot {

/// One curve; `lo`/`hi` (same length as x, or empty) draw a shaded band.
struct Series {
  std::string label;
  std::vector<double> x, y, lo, hi;
};

struct LineChart {
  std::string title, xlabel, ylabel;
  std::vector<Series> series;
  int width = 1000, height = 650;
};

/// Points colored by group; `mark` per point: 0 plain, 1 ring (e.g. suspected mislabel),
/// 2 cross (e.g. in the next batch).
struct ScatterChart {
  std::string title, xlabel, ylabel;
  std::vector<float> x, y;
  std::vector<int> group;                ///< per point, index into group_names (-1: gray)
  std::vector<std::string> group_names;
  std::vector<int> mark;                 ///< per point or empty
  std::vector<std::string> mark_names = {"", "flagged", "next batch"};
  int width = 1000, height = 800;
};

struct BarChart {
  std::string title, ylabel;
  std::vector<std::string> labels;
  std::vector<double> values;
  std::vector<double> values2;           ///< optional second bar per label
  std::string name1 = "", name2 = "";
  int width = 1000, height = 600;
};

/// Writes the chart as PNG; throws alx::IoError naming the file if it cannot be written,
/// alx::InvalidArgument on inconsistent lengths.
void save(const LineChart& chart, const std::string& path);
void save(const ScatterChart& chart, const std::string& path);
void save(const BarChart& chart, const std::string& path);

}  // namespace alx::plot
