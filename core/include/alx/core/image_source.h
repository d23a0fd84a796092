// alx/core/image_source.h — item index → image (cv::Mat), from files or from memory.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace alx {

/// How images are decoded.
enum class ColorMode {
  kUnchanged,  ///< as stored (1 or 3 channels; alpha dropped)
  kGray,       ///< 1 channel
  kColor,      ///< 3 channels, BGR as OpenCV decodes
};

/// What happens when an image cannot be read.
enum class OnError {
  kThrow,  ///< throw alx::IoError naming the file (default)
  kSkip,   ///< return an empty cv::Mat, count it; skipped() reports which
};

/// Item index → cv::Mat (8-bit, 1 or 3 channels). Implementations are thread-safe:
/// the augment loader calls load() from several worker threads.
class ImageSource {
 public:
  virtual ~ImageSource() = default;
  /// Number of items.
  virtual int64_t size() const = 0;
  /// Decodes item i. Throws alx::IoError naming the file (or returns an empty Mat
  /// when the source was built with OnError::kSkip).
  virtual cv::Mat load(int64_t i) const = 0;
  /// Human-readable origin of item i (a file path, or "memory[i]").
  virtual std::string describe(int64_t i) const = 0;
  /// Items that failed and were skipped so far (OnError::kSkip), ascending.
  virtual std::vector<int64_t> skipped() const { return {}; }
};

/// Default pixel limit of every image file alx reads (FileImageOptions::max_pixels and the
/// readers' `max_pixels` options): 268 M pixels, e.g. 16k × 16k.
inline constexpr int64_t kDefaultMaxPixels = int64_t{1} << 28;

struct FileImageOptions {
  ColorMode color = ColorMode::kUnchanged;
  OnError on_error = OnError::kThrow;
  /// Images whose header claims more pixels than this are refused before decoding.
  int64_t max_pixels = kDefaultMaxPixels;
};

/// Images stored as files under a root folder. Paths are relative to the root;
/// a path that escapes the root ("..", absolute, or a symlink pointing outside)
/// is refused with alx::InvalidArgument naming it, and never opened.
class FileImageSource : public ImageSource {
 public:
  FileImageSource(std::filesystem::path root, std::vector<std::string> relative_paths,
                  FileImageOptions options = {});
  int64_t size() const override { return static_cast<int64_t>(paths_.size()); }
  cv::Mat load(int64_t i) const override;
  std::string describe(int64_t i) const override;
  std::vector<int64_t> skipped() const override;

  /// Refuses item i as load() would when its file is missing, empty or its header claims
  /// more than max_pixels pixels, reading only the start of the file and decoding nothing:
  /// a cheap pass before long work (`alx round` runs it over the pool before it touches the
  /// store). Throws as load() does (with OnError::kSkip: counts the item as skipped).
  /// Reads 64 KiB, more only while no header is found (up to 1 MiB: a JPEG whose frame
  /// header lies beyond that passes here and is refused by load()).
  void check_header(int64_t i) const;

  const std::filesystem::path& root() const noexcept { return root_; }
  /// Absolute, validated path of item i.
  std::filesystem::path path(int64_t i) const;

 private:
  std::filesystem::path root_;
  std::vector<std::string> paths_;
  FileImageOptions options_;
  mutable std::mutex mutex_;

  std::vector<uint8_t> read(int64_t i, const std::filesystem::path& file, std::size_t limit) const;
  void check_pixels(int64_t i, const std::filesystem::path& file,
                    const std::vector<uint8_t>& bytes) const;
  mutable std::vector<int64_t> skipped_;
};

/// Resolves `relative` under `root`, refusing anything that escapes it.
/// Throws alx::InvalidArgument naming the path when it is absolute, contains a ".."
/// that leaves the root, or resolves (through symlinks) outside the root.
std::filesystem::path resolve_under_root(const std::filesystem::path& root,
                                         const std::string& relative);

/// Images held in memory: either one contiguous uint8 block [N, H, W, C]
/// (IDX files, tensors) or a list of cv::Mat of any sizes.
class MemoryImageSource : public ImageSource {
 public:
  /// `pixels` holds n * height * width * channels bytes, row-major.
  MemoryImageSource(std::shared_ptr<const std::vector<uint8_t>> pixels, int64_t n, int height,
                    int width, int channels);
  explicit MemoryImageSource(std::vector<cv::Mat> images);

  int64_t size() const override { return n_; }
  /// Returns a view on the stored bytes (no copy); clone() it before writing.
  cv::Mat load(int64_t i) const override;
  std::string describe(int64_t i) const override;

  /// Contiguous [N, H, W, C] bytes, or nullptr when built from a list of Mats.
  const std::vector<uint8_t>* pixels() const noexcept { return pixels_.get(); }
  int height() const noexcept { return height_; }
  int width() const noexcept { return width_; }
  int channels() const noexcept { return channels_; }

 private:
  std::shared_ptr<const std::vector<uint8_t>> pixels_;
  std::vector<cv::Mat> images_;
  int64_t n_ = 0;
  int height_ = 0, width_ = 0, channels_ = 0;
};

/// A subset of another source, re-indexed 0..indices.size()-1.
class SubsetImageSource : public ImageSource {
 public:
  SubsetImageSource(std::shared_ptr<const ImageSource> base, std::vector<int64_t> indices);
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  cv::Mat load(int64_t i) const override;
  std::string describe(int64_t i) const override;

 private:
  std::shared_ptr<const ImageSource> base_;
  std::vector<int64_t> indices_;
};

}  // namespace alx
