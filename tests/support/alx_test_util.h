// Shared helpers for alx tests: scratch folders, real image files, running Python.
#pragma once

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <unistd.h>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace alx::test {

/// A fresh folder under the build tree, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "tmp";
    for (char& c : name)
      if (c == '/') c = '_';
    path_ = std::filesystem::path(ALX_TEST_TMP) /
            (name + "." + std::to_string(::getpid()) + "." + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string str(const std::string& child = "") const {
    return child.empty() ? path_.string() : (path_ / child).string();
  }

 private:
  std::filesystem::path path_;
};

inline void write_text(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << text;
}

/// Writes a real image file (format from the extension) with a known pattern:
/// pixel (x, y) = (x * 7 + y * 3 + seed) mod 256 in every channel.
inline cv::Mat write_pattern_image(const std::filesystem::path& p, int width, int height,
                                   int channels = 3, int seed = 0) {
  cv::Mat img(height, width, CV_8UC(channels));
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c)
        img.ptr<uint8_t>(y)[x * channels + c] = static_cast<uint8_t>((x * 7 + y * 3 + seed + c * 40) % 256);
  std::filesystem::create_directories(p.parent_path());
  if (!cv::imwrite(p.string(), img)) throw std::runtime_error("cannot write " + p.string());
  return img;
}

/// A pixel bomb: a real 2x2 PNG whose header (IHDR) is edited to claim width x height pixels.
/// A reader that trusted the header would allocate width * height * 3 bytes before decoding.
inline void write_pixel_bomb(const std::filesystem::path& p, uint32_t width, uint32_t height) {
  std::vector<uint8_t> bytes;
  cv::imencode(".png", cv::Mat(2, 2, CV_8UC3, cv::Scalar(1, 2, 3)), bytes);
  for (int k = 0; k < 4; ++k) {
    bytes[16 + k] = static_cast<uint8_t>(width >> (24 - 8 * k));
    bytes[20 + k] = static_cast<uint8_t>(height >> (24 - 8 * k));
  }
  write_text(p, std::string(bytes.begin(), bytes.end()));
}

/// Runs a shell command, returns its exit status.
inline int run(const std::string& command) {
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

inline std::string fixture(const std::string& rel) { return std::string(ALX_FIXTURES_DIR) + "/" + rel; }

}  // namespace alx::test
