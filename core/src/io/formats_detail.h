// Helpers shared by the Label Studio, CVAT and COCO readers and writers (private).
#pragma once

#include <alx/core/dataset.h>
#include <alx/core/error.h>
#include <alx/core/progress.h>
#include <alx/core/schema.h>

#include <filesystem>
#include <istream>
#include <memory>
#include <string>
#include <vector>

namespace alx::io::detail {

/// The export's folder ("." for a bare file name).
std::filesystem::path folder_of(const std::string& path);

/// Validates that `relative` stays under `root`: absolute paths, ".." leaving the root
/// and (for files that exist) symlinks resolving outside it are refused with
/// alx::FormatError naming the file, the item and the path. Returns whether the file
/// exists. Nothing is opened; one stat for a plain path that stays inside, so large
/// exports are not slowed by canonicalising every path.
bool check_under_root(const std::filesystem::path& root, const std::string& relative,
                      const std::string& file, const std::string& item);

/// True when `relative` stays under root and names an existing regular file.
bool exists_under_root(const std::filesystem::path& root, const std::string& relative) noexcept;

/// Class names → indices: discovered as they appear, or checked against a fixed list.
class LabelMap {
 public:
  explicit LabelMap(const std::vector<std::string>& fixed);
  /// Index of `name`; with a fixed list an unknown name is a FormatError naming the
  /// file, the item and the known classes.
  int get(const std::string& name, const std::string& file, const std::string& item);
  /// Declares a class (discovery mode only, no-op when present or fixed).
  void declare(const std::string& name);
  bool fixed() const noexcept { return fixed_; }
  const Schema& schema() const noexcept { return schema_; }

 private:
  Schema schema_;
  bool fixed_ = false;
};

/// A progress bar over the bytes of a file being parsed from `in` (alx/core/progress.h:
/// drawn on a terminal only, and only for files above 8 MiB). update() is cheap enough to
/// call per item: it looks at the stream position every 256 calls.
class StreamProgress {
 public:
  StreamProgress(std::istream& in, const std::string& path);
  ~StreamProgress();
  void update();

 private:
  std::istream& in_;
  std::unique_ptr<Progress> bar_;
  int64_t reported_ = 0;
  unsigned calls_ = 0;
};

/// Writes `content` to a temporary file beside `path`, then renames it over `path`:
/// readers of `path` see the old file or the whole new one. alx::IoError on failure.
void write_atomic(const std::string& path, const std::string& content);

/// A finite float from a double, or FormatError naming what it is.
float checked_coordinate(double value, const std::string& file, const std::string& item,
                         const char* what);

/// The Dataset a reader returns: item i has id ids[i], the class labels[i] (-1: none;
/// labels arrive in round 0) and the objects objects[i]; images are files under `root`,
/// refused before decoding when their header claims more than `max_pixels` pixels.
Dataset make_dataset(const Schema& schema, std::vector<std::string> ids,
                     const std::vector<int>& labels, std::vector<std::vector<Object>> objects,
                     const std::filesystem::path& root, const std::string& source,
                     int64_t max_pixels);

}  // namespace alx::io::detail
