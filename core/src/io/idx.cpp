#include <alx/core/error.h>
#include <alx/core/io/idx.h>

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>

namespace alx::io {
namespace {

/// Reads gzip or plain files alike (zlib passes plain files through).
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path), f_(gzopen(path.c_str(), "rb")) {
    ALX_CHECK_IO(f_ != nullptr, "cannot open IDX file '{}': {}", path,
                 std::filesystem::exists(path) ? std::strerror(errno) : "no such file");
    gzbuffer(f_, 1 << 17);
  }
  ~GzReader() {
    if (f_) gzclose(f_);
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  /// Reads up to n bytes; returns how many were read.
  std::size_t read(void* dst, std::size_t n) {
    std::size_t total = 0;
    auto* out = static_cast<uint8_t*>(dst);
    while (total < n) {
      const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - total, 1u << 30));
      const int got = gzread(f_, out + total, chunk);
      if (got < 0) {
        int err = 0;
        const char* msg = gzerror(f_, &err);
        ALX_THROW(FormatError, "IDX file '{}' is corrupt: {}", path_, msg ? msg : "read error");
      }
      if (got == 0) break;
      total += static_cast<std::size_t>(got);
    }
    return total;
  }

 private:
  std::string path_;
  gzFile f_;
};

}  // namespace

IdxArray read_idx(const std::string& path) {
  GzReader in(path);
  uint8_t magic[4] = {};
  ALX_CHECK_FORMAT(in.read(magic, 4) == 4, "IDX file '{}' is shorter than its 4-byte header", path);
  ALX_CHECK_FORMAT(magic[0] == 0 && magic[1] == 0,
                   "'{}' is not an IDX file (first bytes {:02x} {:02x}, expected 00 00)", path,
                   magic[0], magic[1]);
  ALX_CHECK_FORMAT(magic[2] == 0x08,
                   "IDX file '{}' holds type 0x{:02x}; alx reads unsigned bytes (0x08) only", path,
                   magic[2]);
  const int rank = magic[3];
  ALX_CHECK_FORMAT(rank >= 1 && rank <= 4, "IDX file '{}' has {} dimensions, expected 1 to 4",
                   path, rank);
  IdxArray out;
  uint64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    uint8_t b[4];
    ALX_CHECK_FORMAT(in.read(b, 4) == 4, "IDX file '{}' ends inside its header (dimension {})",
                     path, d);
    const uint32_t dim = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    ALX_CHECK_FORMAT(dim > 0 || d == 0, "IDX file '{}': dimension {} is 0", path, d);
    out.shape.push_back(dim);
    count *= dim;
    ALX_CHECK_FORMAT(count <= (uint64_t{1} << 36), "IDX file '{}' claims {} bytes; refused", path,
                     count);
  }
  // Grow as data arrives instead of trusting the header with one huge allocation.
  out.data = std::make_shared<std::vector<uint8_t>>();
  constexpr std::size_t kChunk = std::size_t{1} << 24;
  std::size_t have = 0;
  while (have < count) {
    const std::size_t want = std::min<std::size_t>(kChunk, count - have);
    out.data->resize(have + want);
    const std::size_t got = in.read(out.data->data() + have, want);
    have += got;
    ALX_CHECK_FORMAT(got == want, "IDX file '{}' is truncated: header promises {} values, file has {}",
                     path, count, have);
  }
  uint8_t extra;
  ALX_CHECK_FORMAT(in.read(&extra, 1) == 0,
                   "IDX file '{}' has data after the {} values its header promises", path, count);
  return out;
}

Schema fashion_mnist_schema() {
  return Schema({"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot"});
}

Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                         Schema schema, const std::string& id_prefix) {
  IdxArray images = read_idx(images_path);
  IdxArray labels = read_idx(labels_path);
  ALX_CHECK_FORMAT(images.shape.size() == 3 || images.shape.size() == 4,
                   "IDX images '{}' must be [N, H, W] or [N, H, W, C], got {} dimensions",
                   images_path, images.shape.size());
  ALX_CHECK_FORMAT(labels.shape.size() == 1, "IDX labels '{}' must be [N], got {} dimensions",
                   labels_path, labels.shape.size());
  const int64_t n = images.shape[0];
  ALX_CHECK_FORMAT(labels.shape[0] == n, "'{}' holds {} images but '{}' holds {} labels",
                   images_path, n, labels_path, labels.shape[0]);
  const int64_t channels = images.shape.size() == 4 ? images.shape[3] : 1;
  ALX_CHECK_FORMAT(channels == 1 || channels == 3,
                   "IDX images '{}' have {} channels per pixel, expected 1 or 3", images_path,
                   channels);
  ALX_CHECK_FORMAT(images.shape[1] > 0 && images.shape[2] > 0 &&
                       images.shape[1] <= std::numeric_limits<int>::max() &&
                       images.shape[2] <= std::numeric_limits<int>::max(),
                   "IDX images '{}' have an unusable image size {}x{}", images_path,
                   images.shape[2], images.shape[1]);

  std::vector<std::string> ids(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[static_cast<std::size_t>(i)] = fmt::format("{}/{}", id_prefix, i);
  Dataset ds;
  ds.pool = Pool(std::move(schema), std::move(ids));
  std::vector<int64_t> idx(static_cast<std::size_t>(n));
  std::vector<int> lab(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int l = (*labels.data)[static_cast<std::size_t>(i)];
    ALX_CHECK_FORMAT(l < ds.pool.schema().size(), "'{}': item {} has label {}, the schema has {} classes",
                     labels_path, i, l, ds.pool.schema().size());
    idx[static_cast<std::size_t>(i)] = i;
    lab[static_cast<std::size_t>(i)] = l;
  }
  ds.pool.add_labels(idx, lab, 0);
  ds.images = std::make_shared<MemoryImageSource>(images.data, n, static_cast<int>(images.shape[1]),
                                                  static_cast<int>(images.shape[2]),
                                                  static_cast<int>(channels));
  ds.source = images_path;
  return ds;
}

Dataset load_fashion_mnist(const std::string& dir, const std::string& split) {
  ALX_CHECK(split == "train" || split == "test",
            "Fashion-MNIST split must be 'train' or 'test', got '{}'", split);
  const std::string stem = split == "train" ? "train" : "t10k";
  const auto path = [&](const char* kind) {
    const std::string base = fmt::format("{}/{}-{}-idx{}-ubyte", dir, stem, kind,
                                         std::strcmp(kind, "images") == 0 ? 3 : 1);
    return std::filesystem::exists(base + ".gz") ? base + ".gz" : base;
  };
  const std::string images = path("images");
  ALX_CHECK_IO(std::filesystem::exists(images),
               "Fashion-MNIST not found at '{}' (install the Debian package dataset-fashion-mnist)",
               images);
  return load_idx_dataset(images, path("labels"), fashion_mnist_schema(), split);
}

}  // namespace alx::io
