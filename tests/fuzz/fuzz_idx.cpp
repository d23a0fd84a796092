// IDX files (plain or gzip): read_idx, then as the images of an IDX dataset whose labels file
// matches their count, down to one image view.
#include <alx/core/io/idx.h>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = alx::fuzz::write_input(data, size, "images.idx");
  alx::io::IdxArray array;
  bool ok = false;
  alx::fuzz::expect_refusal_or_success(path, [&] {
    array = alx::io::read_idx(path);
    std::size_t count = 1;
    for (auto d : array.shape) count *= static_cast<std::size_t>(d);
    if (array.data == nullptr || array.data->size() != count) std::abort();
    ok = true;
  });
  if (!ok || array.shape.empty() || array.shape[0] > 4096) return 0;
  // A labels file with shape[0] zeros, so that load_idx_dataset checks the image shape itself.
  const auto n = static_cast<uint32_t>(array.shape[0]);
  std::string labels = {0,
                        0,
                        8,
                        1,
                        static_cast<char>(n >> 24),
                        static_cast<char>(n >> 16),
                        static_cast<char>(n >> 8),
                        static_cast<char>(n)};
  labels.append(n, '\0');
  const std::string labels_path = alx::fuzz::write_input(
      reinterpret_cast<const uint8_t*>(labels.data()), labels.size(), "labels.idx");
  alx::fuzz::expect_refusal_or_success(path, [&] {
    auto ds = alx::io::load_idx_dataset(path, labels_path, alx::io::fashion_mnist_schema(), "f");
    if (ds.images->size() > 0) {
      const cv::Mat m = ds.images->load(ds.images->size() - 1);
      volatile uint8_t last = m.data[m.total() * m.elemSize() - 1];  // ASan: inside the buffer
      (void)last;
    }
  });
  return 0;
}
