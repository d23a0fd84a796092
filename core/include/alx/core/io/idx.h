// alx/core/io/idx.h — IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed.
#pragma once

#include <alx/core/dataset.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace alx::io {

/// An unsigned-byte IDX array (type code 0x08), row-major.
struct IdxArray {
  std::vector<int64_t> shape;
  std::shared_ptr<std::vector<uint8_t>> data;
};

/// Reads an IDX file (".gz" or not). Throws alx::IoError when unreadable and
/// alx::FormatError naming the file when the header or the length is wrong.
IdxArray read_idx(const std::string& path);

/// The ten Fashion-MNIST classes, in label order.
Schema fashion_mnist_schema();

/// Default location of the Debian package dataset-fashion-mnist.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// Reads an images file [N, H, W] and a labels file [N] into a Dataset whose pool holds
/// every label (round 0) and whose images are a MemoryImageSource. Ids are "<prefix>/<i>".
Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                         Schema schema, const std::string& id_prefix);

/// Fashion-MNIST split "train" (60,000) or "test" (10,000) from `dir`.
Dataset load_fashion_mnist(const std::string& dir = kFashionMnistDir,
                           const std::string& split = "train");

}  // namespace alx::io
