// Helpers of the loop tests: real Fashion-MNIST PNGs on disk and running the `alx` program.
#pragma once

#include <alx/core/io/idx.h>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "alx_test_util.h"

namespace alx::test {

/// Writes the first n Fashion-MNIST test images as PNG files dir/images/img_NNN.png.
/// Returns their true labels.
inline std::vector<int> write_fashion_pngs(const std::filesystem::path& dir, int n) {
  static const Dataset ds = io::load_fashion_mnist(ALX_FASHION_MNIST_DIR, "test");
  std::filesystem::create_directories(dir / "images");
  std::vector<int> labels;
  for (int i = 0; i < n; ++i) {
    char name[64];
    std::snprintf(name, sizeof(name), "img_%03d.png", i);
    cv::imwrite((dir / "images" / name).string(), ds.images->load(i));
    labels.push_back(ds.pool.label(i));
  }
  return labels;
}

inline std::string png_name(int i) {
  char name[64];
  std::snprintf(name, sizeof(name), "img_%03d.png", i);
  return name;
}

inline std::string fashion_class(int label) { return io::fashion_mnist_schema().name(label); }

struct CliRun {
  int rc = -1;
  std::string out, err;
};

/// Runs the alx program with `args` (a shell-quoted string), capturing its output.
inline CliRun run_alx(const std::string& args, const std::filesystem::path& logdir) {
  const auto out = logdir / "stdout.log", err = logdir / "stderr.log";
  CliRun r;
  r.rc = run(std::string(ALX_CLI) + " " + args + " > '" + out.string() + "' 2> '" + err.string() + "'");
  std::ifstream o(out), e(err);
  std::stringstream so, se;
  so << o.rdbuf();
  se << e.rdbuf();
  r.out = so.str();
  r.err = se.str();
  return r;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace alx::test
