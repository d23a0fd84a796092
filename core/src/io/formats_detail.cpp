#include "io/formats_detail.h"

#include <alx/core/image_source.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <system_error>

#include <unistd.h>

namespace alx::io::detail {

namespace fs = std::filesystem;

fs::path folder_of(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

namespace {

bool lexically_inside(const std::string& relative) {
  if (relative.empty() || relative.find('\0') != std::string::npos) return false;
  const fs::path p(relative);
  if (p.is_absolute() || p.has_root_name() || p.has_root_directory()) return false;
  const fs::path normal = p.lexically_normal();
  return normal.empty() || *normal.begin() != "..";
}

}  // namespace

bool check_under_root(const fs::path& root, const std::string& relative, const std::string& file,
                      const std::string& item) {
  ALX_CHECK_FORMAT(!relative.empty(), "{}: {}: empty image path", file, item);
  ALX_CHECK_FORMAT(relative.find('\0') == std::string::npos,
                   "{}: {}: image path holds a NUL byte; refused", file, item);
  std::error_code ec;
  const bool inside = lexically_inside(relative);
  const bool exists = inside && fs::is_regular_file(root / relative, ec);
  if (!inside || exists) {
    try {
      resolve_under_root(root, relative);  // symlinks: only a file that exists can be read
    } catch (const std::invalid_argument& e) {
      ALX_THROW(FormatError, "{}: {}: {}", file, item, e.what());
    }
    ALX_CHECK_FORMAT(inside, "{}: {}: image path '{}' is outside the image root '{}'; refused",
                     file, item, relative, root.string());
  }
  return exists;
}

bool exists_under_root(const fs::path& root, const std::string& relative) noexcept {
  try {
    if (!lexically_inside(relative)) return false;
    std::error_code ec;
    if (!fs::is_regular_file(root / relative, ec)) return false;
    resolve_under_root(root, relative);
    return true;
  } catch (...) {
    return false;
  }
}

LabelMap::LabelMap(const std::vector<std::string>& fixed) : fixed_(!fixed.empty()) {
  if (fixed_) schema_ = Schema(fixed);
}

int LabelMap::get(const std::string& name, const std::string& file, const std::string& item) {
  ALX_CHECK_FORMAT(!name.empty(), "{}: {}: empty label name", file, item);
  const int found = schema_.find(name);
  if (found >= 0) return found;
  if (fixed_) {
    std::string known;
    for (const auto& n : schema_.names()) known += (known.empty() ? "'" : ", '") + n + "'";
    ALX_THROW(FormatError, "{}: {}: unknown label '{}'; the classes are {}", file, item, name,
              known);
  }
  return schema_.add(name);
}

void LabelMap::declare(const std::string& name) {
  if (!fixed_ && !name.empty() && schema_.find(name) < 0) schema_.add(name);
}

StreamProgress::StreamProgress(std::istream& in, const std::string& path) : in_(in) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!ec && size > (8u << 20) && Progress::terminal())
    bar_ = std::make_unique<Progress>(
        static_cast<int64_t>(size >> 10),
        fmt::format("reading {} (KiB)", fs::path(path).filename().string()));
}

StreamProgress::~StreamProgress() = default;

void StreamProgress::update() {
  if (!bar_ || (++calls_ & 255u) != 0) return;
  const std::streamoff pos = in_.tellg();
  if (pos < 0) return;
  const int64_t kib = static_cast<int64_t>(pos) >> 10;
  if (kib > reported_) {
    bar_->advance(kib - reported_);
    reported_ = kib;
  }
}

void write_atomic(const std::string& path, const std::string& content) {
  const fs::path target(path);
  fs::path tmp = target;
  tmp += fmt::format(".tmp.{}", static_cast<long>(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    ALX_CHECK_IO(out.is_open(), "cannot write '{}'", tmp.string());
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out.good()) {
      out.close();
      std::error_code ec;
      fs::remove(tmp, ec);
      ALX_THROW(IoError, "cannot write '{}' (disk full?); '{}' was left as it was", tmp.string(),
                path);
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    ALX_THROW(IoError, "cannot rename '{}' to '{}': {}", tmp.string(), path, ec.message());
  }
}

float checked_coordinate(double value, const std::string& file, const std::string& item,
                         const char* what) {
  ALX_CHECK_FORMAT(std::isfinite(value) && std::fabs(value) < 1e9,
                   "{}: {}: {} is not a usable coordinate ({})", file, item, what, value);
  return static_cast<float>(value);
}

Dataset make_dataset(const Schema& schema, std::vector<std::string> ids,
                     const std::vector<int>& labels, std::vector<std::vector<Object>> objects,
                     const std::filesystem::path& root, const std::string& source,
                     int64_t max_pixels) {
  Pool pool(schema, ids);
  std::vector<int64_t> idx;
  std::vector<int> lab;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= 0) {
      idx.push_back(static_cast<int64_t>(i));
      lab.push_back(labels[i]);
    }
    if (i < objects.size() && !objects[i].empty())
      pool.set_objects(static_cast<int64_t>(i), std::move(objects[i]));
  }
  pool.add_labels(idx, lab, 0);
  Dataset ds;
  ds.pool = std::move(pool);
  FileImageOptions image_options;
  image_options.max_pixels = max_pixels;
  ds.images = std::make_shared<FileImageSource>(root, std::move(ids), image_options);
  ds.source = source;
  return ds;
}

}  // namespace alx::io::detail
