// Helpers shared by the training tests.
#pragma once

#include <alx/core/dataset.h>
#include <alx/core/image_source.h>
#include <alx/core/io/idx.h>

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>  // getpid

namespace alx::training::test {

/// n random 8-bit images of side `size` with `channels` channels.
inline std::shared_ptr<ImageSource> random_images(int64_t n, uint64_t seed, int channels = 1, int size = 28) {
  auto pixels = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(n) * size * size * channels);
  std::mt19937_64 rng(seed);
  for (auto& p : *pixels) p = static_cast<uint8_t>(rng() & 0xff);
  return std::make_shared<MemoryImageSource>(pixels, n, size, size, channels);
}

inline std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

/// Fashion-MNIST split, read once per process.
inline const Dataset& fashion(const std::string& split) {
  static Dataset train = io::load_fashion_mnist(ALX_FASHION_MNIST_DIR, "train");
  static Dataset test = io::load_fashion_mnist(ALX_FASHION_MNIST_DIR, "test");
  return split == "train" ? train : test;
}

/// The first `per_class` items of every class, in index order.
inline void balanced(const Pool& pool, int per_class, std::vector<int64_t>& idx, std::vector<int>& labels) {
  std::vector<int> taken(pool.schema().size(), 0);
  for (int64_t i = 0; i < pool.size(); ++i) {
    const int l = pool.label(i);
    if (l >= 0 && taken[l] < per_class) {
      ++taken[l];
      idx.push_back(i);
      labels.push_back(l);
    }
  }
}

inline std::vector<int> labels_of(const Pool& pool, const std::vector<int64_t>& idx) {
  std::vector<int> out;
  for (auto i : idx) out.push_back(pool.label(i));
  return out;
}

/// A fresh temporary directory under the build tree.
inline std::string temp_dir(const std::string& name) {
  auto dir = std::filesystem::path(ALX_TEST_TMP) / name;
  std::filesystem::create_directories(dir);
  return dir.string();
}

/// Runs tests/training/make_torchscript.py once per process; returns its output folder.
/// The folder is the process's own: CTest runs each test as a process, two at a time,
/// and one must not read net.pt while another rewrites it.
inline std::string torchscript_dir() {
  static std::string dir = [] {
    auto d = temp_dir("torchscript-" + std::to_string(::getpid()));
    const std::string cmd = std::string(ALX_PYTHON) + " " + ALX_TRAINING_TEST_DIR + "/make_torchscript.py " + d;
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
    return d;
  }();
  return dir;
}

inline bool same_state(const std::vector<std::pair<std::string, torch::Tensor>>& a,
                       const std::vector<std::pair<std::string, torch::Tensor>>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].first != b[i].first || !torch::equal(a[i].second, b[i].second)) return false;
  return true;
}

inline std::vector<std::pair<std::string, torch::Tensor>> snapshot(
    const std::vector<std::pair<std::string, torch::Tensor>>& s) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& kv : s) out.emplace_back(kv.first, kv.second.detach().clone());
  return out;
}

}  // namespace alx::training::test
