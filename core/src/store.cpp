#include <alx/core/error.h>
#include <alx/core/store.h>

#include <H5Cpp.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace fs = std::filesystem;

namespace alx {
namespace {

constexpr const char* kFormat = "alx-store";
constexpr hsize_t kSealBytes = 512;  // HDF5 user blocks: 512 bytes or a larger power of 2

// ---- small HDF5 helpers ------------------------------------------------------------------

H5::StrType string_type() {
  H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
  t.setCset(H5T_CSET_UTF8);
  return t;
}

template <class T>
const H5::PredType& pred();
template <> const H5::PredType& pred<int32_t>() { return H5::PredType::NATIVE_INT32; }
template <> const H5::PredType& pred<int64_t>() { return H5::PredType::NATIVE_INT64; }
template <> const H5::PredType& pred<float>() { return H5::PredType::NATIVE_FLOAT; }
template <> const H5::PredType& pred<double>() { return H5::PredType::NATIVE_DOUBLE; }

template <class T>
void write_array(H5::Group& g, const std::string& name, const std::vector<T>& v,
                 std::vector<hsize_t> dims = {}) {
  if (dims.empty()) dims = {static_cast<hsize_t>(v.size())};
  H5::DataSpace space(static_cast<int>(dims.size()), dims.data());
  H5::DataSet ds = g.createDataSet(name, pred<T>(), space);
  if (!v.empty()) ds.write(v.data(), pred<T>());
}

void write_strings(H5::Group& g, const std::string& name, const std::vector<std::string>& v) {
  hsize_t dims[1] = {static_cast<hsize_t>(v.size())};
  H5::DataSpace space(1, dims);
  H5::StrType st = string_type();
  H5::DataSet ds = g.createDataSet(name, st, space);
  if (v.empty()) return;
  std::vector<const char*> ptrs(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) ptrs[i] = v[i].c_str();
  ds.write(ptrs.data(), st);
}

void write_attr(H5::H5Object& obj, const std::string& name, const std::string& value) {
  H5::StrType st = string_type();
  H5::Attribute a = obj.createAttribute(name, st, H5::DataSpace(H5S_SCALAR));
  const char* p = value.c_str();
  a.write(st, &p);
}

template <class T>
void write_attr_num(H5::H5Object& obj, const std::string& name, T value) {
  H5::Attribute a = obj.createAttribute(name, pred<T>(), H5::DataSpace(H5S_SCALAR));
  a.write(pred<T>(), &value);
}

std::string read_attr(const H5::H5Object& obj, const std::string& name) {
  H5::Attribute a = obj.openAttribute(name);
  H5::StrType st = string_type();
  char* p = nullptr;
  try {
    a.read(st, &p);
  } catch (...) {
    if (p) H5free_memory(p);
    throw;
  }
  std::string out = p ? p : "";
  H5free_memory(p);
  return out;
}

template <class T>
T read_attr_num(const H5::H5Object& obj, const std::string& name) {
  T value{};
  obj.openAttribute(name).read(pred<T>(), &value);
  return value;
}

std::vector<hsize_t> dims_of(const H5::DataSet& ds) {
  H5::DataSpace space = ds.getSpace();
  const int rank = space.getSimpleExtentNdims();
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0) space.getSimpleExtentDims(dims.data());
  return dims;
}

/// Element count of a dataset, refused when the file cannot hold that many elements: a
/// damaged or hostile header must not make us allocate more than the file could contain
/// (the store never compresses, so every element takes at least one byte of the file).
std::size_t checked_count(const H5::DataSet& ds, const std::string& name, std::size_t max_count) {
  std::size_t n = 1;
  for (auto d : dims_of(ds)) {
    ALX_CHECK_FORMAT(d <= max_count && (d == 0 || n <= max_count / d),
                     "dataset '{}' claims more elements than the file holds", name);
    n *= static_cast<std::size_t>(d);
  }
  return n;
}

template <class T>
std::vector<T> read_array(const H5::Group& g, const std::string& name, std::size_t max_count) {
  H5::DataSet ds = g.openDataSet(name);
  std::vector<T> v(checked_count(ds, name, max_count));
  if (!v.empty()) ds.read(v.data(), pred<T>());
  return v;
}

std::vector<std::string> read_strings(const H5::Group& g, const std::string& name,
                                      std::size_t max_count) {
  H5::DataSet ds = g.openDataSet(name);
  const std::size_t n = checked_count(ds, name, max_count);
  std::vector<std::string> out;
  if (n == 0) return out;
  std::vector<char*> ptrs(n, nullptr);
  // HDF5 allocates each string; free them also when the read fails halfway.
  struct Free {
    std::vector<char*>& p;
    ~Free() {
      for (char* q : p)
        if (q) H5free_memory(q);
    }
  } free_strings{ptrs};
  ds.read(ptrs.data(), string_type());
  out.reserve(n);
  for (char* p : ptrs) out.emplace_back(p ? p : "");
  return out;
}

/// CRC-32 over what a reader must be able to trust: schema, ids, labels, rounds.
uint32_t pool_checksum(const Pool& pool) {
  uLong crc = crc32(0L, Z_NULL, 0);
  auto add = [&](const void* p, std::size_t n) {
    crc = crc32(crc, static_cast<const Bytef*>(p), static_cast<uInt>(n));
  };
  for (const auto& n : pool.schema().names()) add(n.data(), n.size() + 1);
  for (const auto& id : pool.ids()) add(id.data(), id.size() + 1);
  add(pool.labels().data(), pool.labels().size() * sizeof(int));
  add(pool.label_rounds().data(), pool.label_rounds().size() * sizeof(int));
  return static_cast<uint32_t>(crc);
}

/// CRC-32 over everything else a store holds: objects, rounds, arrays and meta (attribute
/// "content_checksum", added within format version 1; files without it predate it and are
/// read as before). Every variable-length part is preceded by its length.
uint32_t content_checksum(const Pool& pool, const std::vector<RoundRecord>& rounds,
                          const std::map<std::string, StoredArray>& arrays,
                          const std::map<std::string, std::string>& meta) {
  uLong crc = crc32(0L, Z_NULL, 0);
  auto add = [&](const void* p, std::size_t n) {
    crc = crc32(crc, static_cast<const Bytef*>(p), static_cast<uInt>(n));
  };
  auto add_size = [&](std::size_t n) {
    const uint64_t v = n;
    add(&v, sizeof v);
  };
  auto add_string = [&](const std::string& t) {
    add_size(t.size());
    add(t.data(), t.size());
  };
  auto add_numbers = [&](const auto& v) {
    add_size(v.size());
    if (!v.empty()) add(v.data(), v.size() * sizeof(v[0]));
  };
  for (int64_t i = 0; i < pool.size(); ++i) {
    const auto& objects = pool.objects(i);
    if (objects.empty()) continue;
    add(&i, sizeof i);
    add_size(objects.size());
    for (const auto& o : objects) {
      const int32_t label = o.label;
      const float numbers[5] = {o.box.x1, o.box.y1, o.box.x2, o.box.y2, o.score};
      add(&label, sizeof label);
      add(numbers, sizeof numbers);
      add_size(o.polygons.size());
      for (const auto& poly : o.polygons) {
        add_size(poly.size());
        for (const auto& pt : poly) {
          const float xy[2] = {pt.x, pt.y};
          add(xy, sizeof xy);
        }
      }
    }
  }
  add_size(rounds.size());
  for (const auto& r : rounds) {
    const int32_t round = r.round;
    add(&round, sizeof round);
    add_string(r.model_version);
    add_string(r.note);
    add_numbers(r.selected);
    add_size(r.selected_ids.size());
    for (const auto& id : r.selected_ids) add_string(id);
    add_numbers(r.scores);
    for (const auto* m : {&r.metrics, &r.seconds}) {
      add_size(m->size());
      for (const auto& [k, v] : *m) {
        add_string(k);
        add(&v, sizeof v);
      }
    }
  }
  add_size(arrays.size());
  for (const auto& [name, a] : arrays) {
    add_string(name);
    add_numbers(a.shape);
    add_numbers(a.data);
    add_string(a.tag);
  }
  add_size(meta.size());
  for (const auto& [k, v] : meta) {
    add_string(k);
    add_string(v);
  }
  return static_cast<uint32_t>(crc);
}

std::string round_group_name(int round) { return fmt::format("{:06d}", round); }

void fsync_path(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// ---- write ---------------------------------------------------------------------------------

void write_pool(H5::H5File& file, const Pool& pool) {
  H5::Group schema = file.createGroup("/schema");
  write_strings(schema, "classes", pool.schema().names());

  H5::Group g = file.createGroup("/pool");
  write_strings(g, "ids", pool.ids());
  std::vector<int32_t> labels(pool.labels().begin(), pool.labels().end());
  std::vector<int32_t> rounds(pool.label_rounds().begin(), pool.label_rounds().end());
  write_array(g, "labels", labels);
  write_array(g, "label_rounds", rounds);

  // Objects, flattened: object k belongs to item[k] and owns polygon_counts[k] polygons.
  std::vector<int64_t> item;
  std::vector<int32_t> label, polygon_counts, polygon_sizes;
  std::vector<float> box, score, points;
  for (int64_t i = 0; i < pool.size(); ++i) {
    for (const auto& o : pool.objects(i)) {
      item.push_back(i);
      label.push_back(o.label);
      box.insert(box.end(), {o.box.x1, o.box.y1, o.box.x2, o.box.y2});
      score.push_back(o.score);
      polygon_counts.push_back(static_cast<int32_t>(o.polygons.size()));
      for (const auto& poly : o.polygons) {
        polygon_sizes.push_back(static_cast<int32_t>(poly.size()));
        for (const auto& p : poly) points.insert(points.end(), {p.x, p.y});
      }
    }
  }
  H5::Group og = g.createGroup("objects");
  write_array(og, "item", item);
  write_array(og, "label", label);
  write_array(og, "box", box, {static_cast<hsize_t>(item.size()), 4});
  write_array(og, "score", score);
  write_array(og, "polygon_counts", polygon_counts);
  write_array(og, "polygon_sizes", polygon_sizes);
  write_array(og, "points", points, {static_cast<hsize_t>(points.size() / 2), 2});
}

void write_rounds(H5::H5File& file, const std::vector<RoundRecord>& rounds) {
  H5::Group all = file.createGroup("/rounds");
  for (const auto& r : rounds) {
    H5::Group g = all.createGroup(round_group_name(r.round));
    write_attr_num<int32_t>(g, "round", r.round);
    write_attr(g, "model_version", r.model_version);
    write_attr(g, "note", r.note);
    write_array(g, "selected", r.selected);
    write_strings(g, "selected_ids", r.selected_ids);
    write_array(g, "scores", r.scores);
    std::vector<std::string> names;
    std::vector<double> values;
    for (const auto& [k, v] : r.metrics) names.push_back(k), values.push_back(v);
    write_strings(g, "metric_names", names);
    write_array(g, "metric_values", values);
    names.clear(), values.clear();
    for (const auto& [k, v] : r.seconds) names.push_back(k), values.push_back(v);
    write_strings(g, "stage_names", names);
    write_array(g, "stage_seconds", values);
  }
}

// ---- the seal: a CRC-32 of the whole HDF5 part in the file's user block ----------------------
//
// HDF5 checks little of what it reads, and a damaged byte in a heap or B-tree can make it read
// out of bounds. So a store's first kSealBytes (an HDF5 user block, which HDF5 and h5py skip)
// hold "alx-store sealed 1\nsize <bytes>\ncrc32 <hex>\n": the size and CRC-32 of everything
// after it. open() checks them before HDF5 sees the file; a store without the seal (written
// before it existed, format version 1 all the same) starts with HDF5's signature and is read
// as before.

constexpr const char* kSealMagic = "alx-store sealed 1\n";
constexpr const char kHdf5Signature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};

/// CRC-32 of the file from `offset` to its end, and that length.
std::pair<uint32_t, uint64_t> file_crc(int fd, uint64_t offset) {
  std::vector<char> buf(1 << 16);
  uLong crc = crc32(0L, Z_NULL, 0);
  uint64_t total = 0;
  for (;;) {
    const ssize_t got = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset + total));
    if (got < 0) ALX_THROW(IoError, "read error: {}", std::strerror(errno));
    if (got == 0) break;
    crc = crc32(crc, reinterpret_cast<const Bytef*>(buf.data()), static_cast<uInt>(got));
    total += static_cast<uint64_t>(got);
  }
  return {static_cast<uint32_t>(crc), total};
}

/// The seal of an HDF5 image (the bytes after the user block).
std::string seal_of(const std::vector<char>& image) {
  uLong crc = crc32(0L, Z_NULL, 0);
  constexpr std::size_t kChunk = std::size_t{1} << 30;  // crc32 takes a 32-bit length
  for (std::size_t at = 0; at < image.size(); at += kChunk) {
    const std::size_t n = std::min(kChunk, image.size() - at);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(image.data() + at), static_cast<uInt>(n));
  }
  std::string header = fmt::format("{}size {}\ncrc32 {:08x}\n", kSealMagic, image.size(),
                                   static_cast<uint32_t>(crc));
  header.resize(kSealBytes, '\0');
  return header;
}

/// write(2) until all of [p, p + n) is written; false with errno set on failure (a file-size
/// limit gives EFBIG, a full disk ENOSPC, both possibly after a short write).
bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, std::min<std::size_t>(n, std::size_t{1} << 30));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return false;
    if (w == 0) {
      errno = ENOSPC;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

/// Writes seal + image to `path` (created or truncated) and fsyncs it. Every failure is an
/// alx::IoError naming the file and the reason; the caller removes the file then.
void write_sealed(const std::string& path, const std::vector<char>& image) {
  const std::string header = seal_of(image);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ALX_CHECK_IO(fd >= 0, "cannot create '{}': {}", path, std::strerror(errno));
  const char* failed = nullptr;
  if (!write_all(fd, header.data(), header.size()) || !write_all(fd, image.data(), image.size()))
    failed = "write";
  else if (::fsync(fd) != 0)
    failed = "fsync";
  const int err = errno;
  if (::close(fd) != 0 && !failed) {
    ALX_THROW(IoError, "cannot close '{}': {}", path, std::strerror(errno));
  }
  if (failed) ALX_THROW(IoError, "cannot {} '{}': {}", failed, path, std::strerror(err));
}

/// Checks the seal of a store file; returns false for an unsealed (older) store. Throws
/// alx::FormatError when the file is neither, or its content does not match its seal.
bool check_seal(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ALX_CHECK_IO(fd >= 0, "cannot open store '{}': {}", path, std::strerror(errno));
  struct Close {
    int fd;
    ~Close() { ::close(fd); }
  } close_fd{fd};
  std::string header(kSealBytes, '\0');
  const ssize_t got = ::pread(fd, header.data(), header.size(), 0);
  ALX_CHECK_FORMAT(got >= static_cast<ssize_t>(sizeof kHdf5Signature),
                   "store '{}' is empty or truncated", path);
  if (std::memcmp(header.data(), kHdf5Signature, sizeof kHdf5Signature) == 0) return false;
  const std::size_t magic_len = std::strlen(kSealMagic);
  unsigned long long size = 0;
  unsigned crc = 0;
  ALX_CHECK_FORMAT(
      got == static_cast<ssize_t>(kSealBytes) && header.compare(0, magic_len, kSealMagic) == 0 &&
          std::sscanf(header.c_str() + magic_len, "size %llu\ncrc32 %8x\n", &size, &crc) == 2,
      "store '{}' is not an alx store, or its header is damaged", path);
  const auto [actual_crc, actual_size] = file_crc(fd, kSealBytes);
  ALX_CHECK_FORMAT(actual_size == size,
                   "store '{}' is truncated or extended: {} bytes after its "
                   "header, the seal says {}",
                   path, actual_size, size);
  ALX_CHECK_FORMAT(actual_crc == crc,
                   "store '{}' is damaged: its content does not match the "
                   "CRC-32 in its header",
                   path);
  return true;
}

/// The store's HDF5 part, built in memory by HDF5's core driver without a backing store: the
/// bytes that follow the seal on disk. HDF5 never touches the disk here, so a full disk cannot
/// leave it holding a file whose close failed (its library shutdown then crashed on it).
std::vector<char> build_image(const std::string& path, const Pool& pool,
                              const std::vector<RoundRecord>& rounds,
                              const std::map<std::string, StoredArray>& arrays,
                              const std::map<std::string, std::string>& meta) {
  H5::FileCreatPropList fcpl;
  fcpl.setUserblock(kSealBytes);  // the image's addresses count from the end of the user block
  H5::FileAccPropList fapl;
  fapl.setCore(std::size_t{1} << 20, false);
  H5::H5File file(path, H5F_ACC_TRUNC, fcpl, fapl);  // the name only; nothing is created
  write_attr(file, "alx_format", kFormat);
  write_attr_num<int32_t>(file, "alx_version", Store::kFormatVersion);
  write_attr_num<int64_t>(file, "checksum", pool_checksum(pool));
  write_attr_num<int64_t>(file, "content_checksum", content_checksum(pool, rounds, arrays, meta));
  write_pool(file, pool);
  write_rounds(file, rounds);
  H5::Group ag = file.createGroup("/arrays");
  for (const auto& [name, a] : arrays) {
    std::vector<hsize_t> dims(a.shape.begin(), a.shape.end());
    write_array(ag, name, a.data, dims);
    H5::DataSet ds = ag.openDataSet(name);
    write_attr(ds, "tag", a.tag);
  }
  H5::Group mg = file.createGroup("/meta");
  for (const auto& [k, v] : meta) write_attr(mg, k, v);
  ag.close();
  mg.close();
  file.flush(H5F_SCOPE_GLOBAL);
  const ssize_t size = H5Fget_file_image(file.getId(), nullptr, 0);
  ALX_CHECK_IO(size > 0, "HDF5 could not build the image of '{}' in memory", path);
  std::vector<char> image(static_cast<std::size_t>(size));
  ALX_CHECK_IO(H5Fget_file_image(file.getId(), image.data(), image.size()) == size,
               "HDF5 could not copy the image of '{}' out of memory", path);
  file.close();
  // HDF5 1.10 returns the file from its superblock on, without the user block. Should a
  // version return the (empty) user block too, drop it: on disk the seal takes its place.
  const auto signature_at = [&](std::size_t at) {
    return image.size() >= at + sizeof kHdf5Signature &&
           std::memcmp(image.data() + at, kHdf5Signature, sizeof kHdf5Signature) == 0;
  };
  if (!signature_at(0) && signature_at(kSealBytes))
    image.erase(image.begin(), image.begin() + kSealBytes);
  ALX_CHECK_IO(signature_at(0), "HDF5's image of '{}' does not start with its signature", path);
  return image;
}

}  // namespace

// ---- Store ---------------------------------------------------------------------------------

Store::Store(Store&& o) noexcept
    : path_(std::move(o.path_)), lock_fd_(o.lock_fd_), pool_(std::move(o.pool_)),
      rounds_(std::move(o.rounds_)), arrays_(std::move(o.arrays_)), meta_(std::move(o.meta_)) {
  o.lock_fd_ = -1;
}

Store& Store::operator=(Store&& o) noexcept {
  if (this != &o) {
    unlock();
    path_ = std::move(o.path_);
    lock_fd_ = o.lock_fd_;
    o.lock_fd_ = -1;
    pool_ = std::move(o.pool_);
    rounds_ = std::move(o.rounds_);
    arrays_ = std::move(o.arrays_);
    meta_ = std::move(o.meta_);
  }
  return *this;
}

Store::~Store() { unlock(); }

void Store::lock() {
  const std::string lock_path = path_ + ".lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ALX_CHECK_IO(lock_fd_ >= 0, "cannot create lock file '{}': {}", lock_path, std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    ALX_THROW(IoError,
              "store '{}' is in use by another alx process (lock '{}' is held); wait for it to "
              "finish, or stop it",
              path_, lock_path);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd_, 0) == 0) (void)!::write(lock_fd_, pid.data(), pid.size());
}

void Store::unlock() noexcept {
  if (lock_fd_ >= 0) {
    ::flock(lock_fd_, LOCK_UN);
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
}

Store Store::create(const std::string& path, Pool pool) {
  ALX_CHECK_IO(!fs::exists(path), "store '{}' already exists; open it instead of creating it",
               path);
  Store s;
  s.path_ = path;
  s.lock();
  s.pool_ = std::move(pool);
  s.save();
  return s;
}

Store Store::open_or_create(const std::string& path, Pool pool) {
  return fs::exists(path) ? open(path) : create(path, std::move(pool));
}

Store Store::open(const std::string& path) {
  ALX_CHECK_IO(fs::exists(path), "store '{}' does not exist", path);
  Store s;
  s.path_ = path;
  s.lock();
  const std::string recover =
      fs::exists(path + ".bak")
          ? fmt::format("the previous state is in '{}.bak': copy it over '{}' to recover", path, path)
          : std::string("no backup exists; recreate the store from the labeling export");
  H5::Exception::dontPrint();
  try {
    check_seal(path);
  } catch (const FormatError& e) {
    ALX_THROW(IoError, "{}; {}", e.what(), recover);
  }
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    ALX_THROW(IoError, "store '{}' is not an HDF5 file (truncated or corrupt); {}", path, recover);
  }
  try {
    // No dataset of a sound store holds more elements than the file has bytes.
    const std::size_t max_count = static_cast<std::size_t>(fs::file_size(path));
    H5::H5File file(path, H5F_ACC_RDONLY);
    ALX_CHECK_FORMAT(file.attrExists("alx_format") && read_attr(file, "alx_format") == kFormat,
                     "'{}' is an HDF5 file but not an alx store", path);
    const int version = read_attr_num<int32_t>(file, "alx_version");
    ALX_CHECK_FORMAT(version >= 1 && version <= kFormatVersion,
                     "store '{}' has format version {}, this alx reads versions 1..{}", path,
                     version, kFormatVersion);

    H5::Group schema = file.openGroup("/schema");
    H5::Group g = file.openGroup("/pool");
    Pool pool(Schema(read_strings(schema, "classes", max_count)),
              read_strings(g, "ids", max_count));
    const auto labels = read_array<int32_t>(g, "labels", max_count);
    const auto label_rounds = read_array<int32_t>(g, "label_rounds", max_count);
    ALX_CHECK_FORMAT(labels.size() == static_cast<std::size_t>(pool.size()) &&
                         label_rounds.size() == labels.size(),
                     "store '{}': /pool/labels has {} entries for {} ids", path, labels.size(),
                     pool.size());
    // Group labels by round so that add_labels keeps each item's round.
    std::map<int, std::pair<std::vector<int64_t>, std::vector<int>>> by_round;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] == Pool::kNoLabel) continue;
      auto& [idx, lab] = by_round[label_rounds[i]];
      idx.push_back(static_cast<int64_t>(i));
      lab.push_back(labels[i]);
    }
    for (auto& [round, il] : by_round) pool.add_labels(il.first, il.second, round);

    H5::Group og = g.openGroup("objects");
    const auto item = read_array<int64_t>(og, "item", max_count);
    const auto label = read_array<int32_t>(og, "label", max_count);
    const auto box = read_array<float>(og, "box", max_count);
    const auto score = read_array<float>(og, "score", max_count);
    const auto polygon_counts = read_array<int32_t>(og, "polygon_counts", max_count);
    const auto polygon_sizes = read_array<int32_t>(og, "polygon_sizes", max_count);
    const auto points = read_array<float>(og, "points", max_count);
    ALX_CHECK_FORMAT(label.size() == item.size() && box.size() == 4 * item.size() &&
                         score.size() == item.size() && polygon_counts.size() == item.size(),
                     "store '{}': /pool/objects arrays disagree in length", path);
    std::map<int64_t, std::vector<Object>> objects;
    std::size_t poly = 0, pt = 0;
    for (std::size_t k = 0; k < item.size(); ++k) {
      Object o;
      o.label = label[k];
      o.box = {box[4 * k], box[4 * k + 1], box[4 * k + 2], box[4 * k + 3]};
      o.score = score[k];
      for (int c = 0; c < polygon_counts[k]; ++c, ++poly) {
        ALX_CHECK_FORMAT(poly < polygon_sizes.size() &&
                             pt + 2 * static_cast<std::size_t>(polygon_sizes[poly]) <= points.size(),
                         "store '{}': /pool/objects polygons are truncated", path);
        Polygon pg;
        for (int q = 0; q < polygon_sizes[poly]; ++q, pt += 2) pg.push_back({points[pt], points[pt + 1]});
        o.polygons.push_back(std::move(pg));
      }
      objects[item[k]].push_back(std::move(o));
    }
    for (auto& [i, objs] : objects) pool.set_objects(i, std::move(objs));

    const auto stored_crc = static_cast<uint32_t>(read_attr_num<int64_t>(file, "checksum"));
    ALX_CHECK_FORMAT(stored_crc == pool_checksum(pool),
                     "store '{}': pool checksum mismatch (the file was modified or damaged)", path);
    s.pool_ = std::move(pool);

    H5::Group rg = file.openGroup("/rounds");
    for (hsize_t k = 0; k < rg.getNumObjs(); ++k) {
      H5::Group r = rg.openGroup(rg.getObjnameByIdx(k));
      RoundRecord rec;
      rec.round = read_attr_num<int32_t>(r, "round");
      rec.model_version = read_attr(r, "model_version");
      rec.note = read_attr(r, "note");
      rec.selected = read_array<int64_t>(r, "selected", max_count);
      rec.selected_ids = read_strings(r, "selected_ids", max_count);
      rec.scores = read_array<float>(r, "scores", max_count);
      auto names = read_strings(r, "metric_names", max_count);
      auto values = read_array<double>(r, "metric_values", max_count);
      ALX_CHECK_FORMAT(names.size() == values.size(), "store '{}': round {} metrics are damaged",
                       path, rec.round);
      for (std::size_t i = 0; i < names.size(); ++i) rec.metrics[names[i]] = values[i];
      names = read_strings(r, "stage_names", max_count);
      values = read_array<double>(r, "stage_seconds", max_count);
      ALX_CHECK_FORMAT(names.size() == values.size(), "store '{}': round {} timings are damaged",
                       path, rec.round);
      for (std::size_t i = 0; i < names.size(); ++i) rec.seconds[names[i]] = values[i];
      s.rounds_.push_back(std::move(rec));
    }
    std::sort(s.rounds_.begin(), s.rounds_.end(),
              [](const RoundRecord& a, const RoundRecord& b) { return a.round < b.round; });

    H5::Group ag = file.openGroup("/arrays");
    for (hsize_t k = 0; k < ag.getNumObjs(); ++k) {
      const std::string name = ag.getObjnameByIdx(k);
      H5::DataSet ds = ag.openDataSet(name);
      StoredArray a;
      for (auto d : dims_of(ds)) a.shape.push_back(static_cast<int64_t>(d));
      a.data = read_array<float>(ag, name, max_count);
      a.tag = read_attr(ds, "tag");
      s.arrays_[name] = std::move(a);
    }
    H5::Group mg = file.openGroup("/meta");
    for (int k = 0; k < mg.getNumAttrs(); ++k) {
      H5::Attribute a = mg.openAttribute(static_cast<unsigned>(k));
      const std::string key = a.getName();
      s.meta_[key] = read_attr(mg, key);
    }
    if (file.attrExists("content_checksum")) {
      const auto stored = static_cast<uint32_t>(read_attr_num<int64_t>(file, "content_checksum"));
      ALX_CHECK_FORMAT(stored == content_checksum(s.pool_, s.rounds_, s.arrays_, s.meta_),
                       "store '{}': checksum mismatch in its objects, rounds, arrays or meta (the "
                       "file was modified or damaged)",
                       path);
    }
  } catch (const H5::Exception& e) {
    ALX_THROW(IoError, "store '{}' is damaged or incomplete ({}: {}); {}", path, e.getFuncName(),
              e.getDetailMsg(), recover);
  } catch (const FormatError& e) {
    const std::string what = e.what();
    ALX_THROW(IoError, "{}{}; {}",
              what.find(path) == std::string::npos ? fmt::format("store '{}': ", path) : "", what,
              recover);
  } catch (const InvalidArgument& e) {
    ALX_THROW(IoError, "store '{}' holds an invalid pool ({}); {}", path, e.what(), recover);
  }
  return s;
}

void Store::add_round(RoundRecord record) {
  ALX_CHECK(record.round > last_round(), "round {} is not after the last stored round {}",
            record.round, last_round());
  ALX_CHECK(record.selected.size() == record.scores.size() || record.scores.empty(),
            "round {}: {} selected items but {} scores", record.round, record.selected.size(),
            record.scores.size());
  rounds_.push_back(std::move(record));
}

void Store::set_array(const std::string& name, StoredArray array) {
  ALX_CHECK(!name.empty() && name.find('/') == std::string::npos,
            "array name '{}' must be non-empty and contain no '/'", name);
  std::size_t n = 1;
  for (auto d : array.shape) {
    ALX_CHECK(d >= 0, "array '{}': negative dimension {}", name, d);
    n *= static_cast<std::size_t>(d);
  }
  ALX_CHECK(n == array.data.size(), "array '{}': shape holds {} values, data has {}", name, n,
            array.data.size());
  arrays_[name] = std::move(array);
}

const StoredArray* Store::array(const std::string& name) const {
  auto it = arrays_.find(name);
  return it == arrays_.end() ? nullptr : &it->second;
}

void Store::remove_array(const std::string& name) { arrays_.erase(name); }

void Store::set_meta(const std::string& key, const std::string& value) {
  ALX_CHECK(!key.empty(), "meta key must not be empty");
  meta_[key] = value;
}

std::optional<std::string> Store::meta(const std::string& key) const {
  auto it = meta_.find(key);
  if (it == meta_.end()) return std::nullopt;
  return it->second;
}

void Store::save() {
  const std::string tmp = path_ + ".tmp";
  std::error_code ec;
  fs::remove(tmp, ec);  // a leftover of a killed run; HDF5 would read it in before truncating
  H5::Exception::dontPrint();
  try {
    // First the whole file in memory, then one plain write: a full disk fails in our write
    // loop (an IoError), never inside HDF5.
    write_sealed(tmp, build_image(tmp, pool_, rounds_, arrays_, meta_));
  } catch (const H5::Exception& e) {
    fs::remove(tmp, ec);
    ALX_THROW(IoError,
              "could not write store '{}' ({}: {}; out of memory?); the previous state in '{}' "
              "is intact",
              path_, e.getFuncName(), e.getDetailMsg(), path_);
  } catch (const IoError& e) {
    fs::remove(tmp, ec);
    ALX_THROW(IoError, "could not write store '{}' ({}); the previous state in '{}' is intact",
              path_, e.what(), path_);
  }
  if (fs::exists(path_)) {
    const std::string bak = path_ + ".bak";
    fs::remove(bak, ec);
    fs::create_hard_link(path_, bak, ec);  // best effort: keeps the previous state for recovery
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    fs::remove(tmp, ec);
    ALX_THROW(IoError, "could not replace store '{}': {}; the previous state is intact", path_, why);
  }
  const auto dir = fs::absolute(path_).parent_path().string();
  fsync_path(dir, true);
}

}  // namespace alx
