#include <alx/core/error.h>
#include <alx/core/image_source.h>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <utility>

namespace fs = std::filesystem;

namespace alx {
namespace {

uint32_t be16(const uint8_t* p) { return (uint32_t{p[0]} << 8) | p[1]; }
uint32_t be32(const uint8_t* p) { return (be16(p) << 16) | be16(p + 2); }
uint32_t le16(const uint8_t* p) { return (uint32_t{p[1]} << 8) | p[0]; }
uint32_t le32(const uint8_t* p) { return (le16(p + 2) << 16) | le16(p); }

/// Width and height as claimed by a PNG, JPEG, BMP or GIF header, without decoding.
std::optional<std::pair<int64_t, int64_t>> header_size(const std::vector<uint8_t>& b) {
  const std::size_t n = b.size();
  const uint8_t* p = b.data();
  if (n >= 24 && std::memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) return {{be32(p + 16), be32(p + 20)}};
  if (n >= 10 && (std::memcmp(p, "GIF87a", 6) == 0 || std::memcmp(p, "GIF89a", 6) == 0))
    return {{le16(p + 6), le16(p + 8)}};
  if (n >= 26 && p[0] == 'B' && p[1] == 'M') {
    const int64_t h = static_cast<int32_t>(le32(p + 22));
    return {{static_cast<int32_t>(le32(p + 18)), h < 0 ? -h : h}};
  }
  if (n >= 4 && p[0] == 0xFF && p[1] == 0xD8) {
    std::size_t i = 2;
    while (i + 9 < n) {
      if (p[i] != 0xFF) return std::nullopt;
      const uint8_t marker = p[i + 1];
      if (marker == 0xFF) { ++i; continue; }
      const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
                       marker != 0xCC;
      if (sof) return {{be16(p + i + 7), be16(p + i + 5)}};
      i += 2 + be16(p + i + 2);
    }
  }
  return std::nullopt;
}

int imread_flags(ColorMode mode) {
  switch (mode) {
    case ColorMode::kGray: return cv::IMREAD_GRAYSCALE;
    case ColorMode::kColor: return cv::IMREAD_COLOR;
    case ColorMode::kUnchanged: break;
  }
  return cv::IMREAD_ANYCOLOR;  // 8-bit, 1 or 3 channels, alpha dropped
}

/// Lexical check: relative, and no ".." that climbs above the root.
bool stays_lexically_inside(const fs::path& rel) {
  if (rel.empty() || rel.is_absolute() || rel.has_root_name() || rel.has_root_directory())
    return false;
  int depth = 0;
  for (const auto& part : rel.lexically_normal()) {
    if (part == "..") {
      if (--depth < 0) return false;
    } else if (part != "." && !part.empty()) {
      ++depth;
    }
  }
  return true;
}

bool is_prefix(const fs::path& root, const fs::path& p) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (r->empty()) continue;  // trailing separator
    if (q == p.end() || *r != *q) return false;
  }
  return true;
}

}  // namespace

fs::path resolve_under_root(const fs::path& root, const std::string& relative) {
  const fs::path rel(relative);
  ALX_CHECK(stays_lexically_inside(rel),
            "image path '{}' is outside the image root '{}' (absolute or climbing with ..); "
            "refused",
            relative, root.string());
  std::error_code ec;
  const fs::path canon_root = fs::weakly_canonical(root, ec);
  const fs::path full = fs::weakly_canonical(root / rel, ec);
  ALX_CHECK(!ec && is_prefix(canon_root, full),
            "image path '{}' resolves to '{}', outside the image root '{}' (symlink?); refused",
            relative, full.string(), canon_root.string());
  return full;
}

FileImageSource::FileImageSource(fs::path root, std::vector<std::string> relative_paths,
                                 FileImageOptions options)
    : root_(std::move(root)), paths_(std::move(relative_paths)), options_(options) {
  ALX_CHECK(options_.max_pixels > 0, "max_pixels must be positive, got {}", options_.max_pixels);
  for (std::size_t i = 0; i < paths_.size(); ++i)
    ALX_CHECK(stays_lexically_inside(fs::path(paths_[i])),
              "item {}: image path '{}' is outside the image root '{}' (absolute or climbing "
              "with ..); refused",
              i, paths_[i], root_.string());
}

fs::path FileImageSource::path(int64_t i) const {
  ALX_CHECK(i >= 0 && i < size(), "image index {} is out of range [0, {})", i, size());
  try {
    return resolve_under_root(root_, paths_[static_cast<std::size_t>(i)]);
  } catch (const InvalidArgument& e) {  // name the item too
    ALX_THROW(InvalidArgument, "item {}: {}", i, e.what());
  }
}

std::string FileImageSource::describe(int64_t i) const {
  if (i < 0 || i >= size()) return fmt::format("<no item {}>", i);
  return (root_ / paths_[static_cast<std::size_t>(i)]).string();
}

/// The first `limit` bytes of item i's file (all of it with SIZE_MAX); never empty.
std::vector<uint8_t> FileImageSource::read(int64_t i, const fs::path& file,
                                           std::size_t limit) const {
  std::ifstream in(file, std::ios::binary);
  ALX_CHECK_IO(in.good(), "cannot open image '{}' (item {}): {}", file.string(), i,
               fs::exists(file) ? "permission denied or not a file" : "no such file");
  std::vector<uint8_t> bytes;
  if (limit == SIZE_MAX) {
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    bytes.resize(limit);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(limit));
    bytes.resize(static_cast<std::size_t>(in.gcount()));
  }
  ALX_CHECK_FORMAT(!bytes.empty(), "image '{}' (item {}) is an empty file", file.string(), i);
  return bytes;
}

void FileImageSource::check_pixels(int64_t i, const fs::path& file,
                                   const std::vector<uint8_t>& bytes) const {
  if (auto wh = header_size(bytes)) {
    const auto [w, h] = *wh;
    ALX_CHECK_FORMAT(w > 0 && h > 0 && w <= options_.max_pixels / h,  // no w * h overflow
                     "image '{}' (item {}) claims {}x{} pixels, above the limit of {} "
                     "(max_pixels); refused before decoding",
                     file.string(), i, w, h, options_.max_pixels);
  }
}

void FileImageSource::check_header(int64_t i) const {
  try {
    const fs::path file = path(i);
    // 64 KiB hold the header of nearly every file; a JPEG's frame header may follow large
    // metadata segments, so read more while none is found and the file goes on.
    std::size_t limit = std::size_t{64} << 10;
    std::vector<uint8_t> bytes = read(i, file, limit);
    while (!header_size(bytes) && bytes.size() == limit && limit < (std::size_t{1} << 20)) {
      limit *= 4;
      bytes = read(i, file, limit);
    }
    check_pixels(i, file, bytes);
  } catch (const std::exception&) {
    if (options_.on_error != OnError::kSkip) throw;
    std::lock_guard<std::mutex> lock(mutex_);
    skipped_.push_back(i);
  }
}

cv::Mat FileImageSource::load(int64_t i) const {
  try {
    const fs::path file = path(i);
    const std::vector<uint8_t> bytes = read(i, file, SIZE_MAX);
    check_pixels(i, file, bytes);
    cv::Mat img = cv::imdecode(bytes, imread_flags(options_.color));
    ALX_CHECK_FORMAT(!img.empty(), "cannot decode image '{}' (item {}): not an image OpenCV reads",
                     file.string(), i);
    if (img.depth() != CV_8U) {
      cv::Mat converted;
      img.convertTo(converted, CV_8U, img.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
      img = converted;
    }
    return img;
  } catch (const std::exception&) {
    if (options_.on_error != OnError::kSkip) throw;
    std::lock_guard<std::mutex> lock(mutex_);
    skipped_.push_back(i);
    return {};
  }
}

std::vector<int64_t> FileImageSource::skipped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<int64_t> out = skipped_;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

MemoryImageSource::MemoryImageSource(std::shared_ptr<const std::vector<uint8_t>> pixels, int64_t n,
                                     int height, int width, int channels)
    : pixels_(std::move(pixels)), n_(n), height_(height), width_(width), channels_(channels) {
  ALX_CHECK(pixels_ != nullptr, "MemoryImageSource: no pixel buffer");
  ALX_CHECK(n >= 0 && height > 0 && width > 0 && (channels == 1 || channels == 3),
            "MemoryImageSource: invalid shape [{}, {}, {}, {}] (channels must be 1 or 3)", n,
            height, width, channels);
  const auto expected = static_cast<std::size_t>(n) * height * width * channels;
  ALX_CHECK(pixels_->size() == expected,
            "MemoryImageSource: buffer holds {} bytes, shape [{}, {}, {}, {}] needs {}",
            pixels_->size(), n, height, width, channels, expected);
}

MemoryImageSource::MemoryImageSource(std::vector<cv::Mat> images)
    : images_(std::move(images)), n_(static_cast<int64_t>(images_.size())) {
  for (std::size_t i = 0; i < images_.size(); ++i)
    ALX_CHECK(!images_[i].empty() && images_[i].depth() == CV_8U &&
                  (images_[i].channels() == 1 || images_[i].channels() == 3),
              "MemoryImageSource: image {} must be a non-empty 8-bit image with 1 or 3 channels", i);
}

cv::Mat MemoryImageSource::load(int64_t i) const {
  ALX_CHECK(i >= 0 && i < n_, "image index {} is out of range [0, {})", i, n_);
  if (!pixels_) return images_[static_cast<std::size_t>(i)];
  const std::size_t stride = static_cast<std::size_t>(height_) * width_ * channels_;
  auto* data = const_cast<uint8_t*>(pixels_->data() + stride * static_cast<std::size_t>(i));
  return cv::Mat(height_, width_, CV_8UC(channels_), data);
}

std::string MemoryImageSource::describe(int64_t i) const { return fmt::format("memory[{}]", i); }

SubsetImageSource::SubsetImageSource(std::shared_ptr<const ImageSource> base,
                                     std::vector<int64_t> indices)
    : base_(std::move(base)), indices_(std::move(indices)) {
  ALX_CHECK(base_ != nullptr, "SubsetImageSource: no base source");
  for (int64_t idx : indices_)
    ALX_CHECK(idx >= 0 && idx < base_->size(), "SubsetImageSource: index {} out of range [0, {})",
              idx, base_->size());
}

cv::Mat SubsetImageSource::load(int64_t i) const {
  ALX_CHECK(i >= 0 && i < size(), "image index {} is out of range [0, {})", i, size());
  return base_->load(indices_[static_cast<std::size_t>(i)]);
}

std::string SubsetImageSource::describe(int64_t i) const {
  if (i < 0 || i >= size()) return fmt::format("<no item {}>", i);
  return base_->describe(indices_[static_cast<std::size_t>(i)]);
}

}  // namespace alx
