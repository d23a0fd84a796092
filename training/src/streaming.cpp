// Chunked HDF5 caches of pool predictions, and the samplers that stream them back.
#include <alx/core/error.h>
#include <alx/core/progress.h>
#include <alx/sampling/scorers.h>
#include <alx/training/streaming.h>

#include <hdf5.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

namespace alx::training {
namespace fs = std::filesystem;
namespace {

/// Closes an HDF5 handle at scope exit.
struct H5Handle {
  hid_t id = -1;
  herr_t (*close)(hid_t) = nullptr;
  H5Handle() = default;
  H5Handle(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  H5Handle(H5Handle&& o) noexcept : id(o.id), close(o.close) { o.id = -1; }
  H5Handle& operator=(H5Handle&& o) noexcept {
    reset();
    id = o.id;
    close = o.close;
    o.id = -1;
    return *this;
  }
  ~H5Handle() { reset(); }
  void reset() {
    if (id >= 0 && close) close(id);
    id = -1;
  }
  operator hid_t() const { return id; }  // NOLINT: a handle reads as its id
};

void check_h5(bool ok, const std::string& path, const std::string& what) {
  ALX_CHECK_IO(ok, "{}: HDF5 {} failed", path, what);
}

void write_attr_i64(hid_t obj, const char* name, int64_t v) {
  H5Handle sp(H5Screate(H5S_SCALAR), H5Sclose);
  H5Handle a(H5Acreate2(obj, name, H5T_NATIVE_INT64, sp, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5Awrite(a, H5T_NATIVE_INT64, &v);
}

void write_attr_str(hid_t obj, const char* name, const std::string& v) {
  H5Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t, std::max<size_t>(1, v.size()));
  H5Handle sp(H5Screate(H5S_SCALAR), H5Sclose);
  H5Handle a(H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  std::string buf = v.empty() ? std::string(1, '\0') : v;
  H5Awrite(a, t, buf.data());
}

int64_t read_attr_i64(hid_t obj, const char* name, const std::string& path) {
  check_h5(H5Aexists(obj, name) > 0, path, std::string("attribute ") + name);
  H5Handle a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  int64_t v = 0;
  check_h5(H5Aread(a, H5T_NATIVE_INT64, &v) >= 0, path, std::string("read of ") + name);
  return v;
}

std::string read_attr_str(hid_t obj, const char* name, const std::string& path) {
  check_h5(H5Aexists(obj, name) > 0, path, std::string("attribute ") + name);
  H5Handle a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  H5Handle t(H5Aget_type(a), H5Tclose);
  std::string s(H5Tget_size(t), '\0');
  H5Handle mt(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(mt, s.size());
  check_h5(H5Aread(a, mt, s.data()) >= 0, path, std::string("read of ") + name);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

/// Selects rows [begin, end) of a dataset of rank r.
H5Handle row_slab(hid_t ds, int64_t begin, int64_t end, std::vector<hsize_t>& dims) {
  H5Handle space(H5Dget_space(ds), H5Sclose);
  const int r = H5Sget_simple_extent_ndims(space);
  dims.assign(static_cast<size_t>(r), 0);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  std::vector<hsize_t> start(static_cast<size_t>(r), 0), count = dims;
  start[0] = static_cast<hsize_t>(begin);
  count[0] = static_cast<hsize_t>(end - begin);
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  return space;
}

uint64_t fnv1a(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

}  // namespace

std::string cache_path(const std::string& store_path, int64_t model_version) {
  return store_path + ".cache/" + std::to_string(model_version) + ".h5";
}

// ---- CacheWriter ----------------------------------------------------------------

struct CacheWriter::Impl {
  std::string path, tmp;
  int64_t n = 0;
  H5Handle file;
  std::map<std::string, H5Handle> datasets;
  bool committed = false;
};

CacheWriter::CacheWriter(std::string path, int64_t n, int64_t model_version, const std::string& fingerprint,
                         const std::vector<std::pair<std::string, std::vector<int64_t>>>& row_shapes,
                         const StreamingOptions& options)
    : impl_(std::make_unique<Impl>()) {
  ALX_CHECK(n >= 0, "CacheWriter: n must be >= 0, got {}", n);
  impl_->path = std::move(path);
  impl_->tmp = impl_->path + ".tmp";
  impl_->n = n;
  const fs::path parent = fs::path(impl_->path).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  impl_->file = H5Handle(H5Fcreate(impl_->tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  check_h5(impl_->file >= 0, impl_->tmp, "create");
  write_attr_str(impl_->file, "alx_format", "alx-pool-cache");
  write_attr_i64(impl_->file, "version", 1);
  write_attr_i64(impl_->file, "rows", n);
  write_attr_i64(impl_->file, "model_version", model_version);
  write_attr_str(impl_->file, "fingerprint", fingerprint);
  H5Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl, 1);
  for (const auto& [name, row] : row_shapes) {
    std::vector<hsize_t> dims{static_cast<hsize_t>(n)}, chunk{static_cast<hsize_t>(
                                                            std::max<int64_t>(1, std::min(n, options.hdf5_chunk_rows())))};
    for (int64_t d : row) {
      dims.push_back(static_cast<hsize_t>(d));
      chunk.push_back(static_cast<hsize_t>(d));
    }
    H5Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    H5Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    if (n > 0) {
      H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
      if (options.compression() > 0) {
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, static_cast<unsigned>(std::min(9, options.compression())));
      }
    }
    H5Handle ds(H5Dcreate2(impl_->file, name.c_str(), H5T_NATIVE_FLOAT, space, lcpl, dcpl, H5P_DEFAULT), H5Dclose);
    check_h5(ds >= 0, impl_->tmp, "create of dataset " + name);
    impl_->datasets.emplace(name, std::move(ds));
  }
}

CacheWriter::~CacheWriter() {
  if (!impl_ || impl_->committed) return;
  impl_->datasets.clear();
  impl_->file.reset();
  std::error_code ec;
  fs::remove(impl_->tmp, ec);
}

void CacheWriter::write(const std::string& name, const at::Tensor& rows, int64_t first) {
  auto it = impl_->datasets.find(name);
  ALX_CHECK(it != impl_->datasets.end(), "CacheWriter: no array '{}' in {}", name, impl_->path);
  const at::Tensor x = rows.to(at::kCPU, at::kFloat).contiguous();
  if (x.numel() == 0) return;
  std::vector<hsize_t> dims;
  H5Handle fspace = row_slab(it->second, first, first + x.size(0), dims);
  ALX_CHECK(static_cast<size_t>(x.dim()) == dims.size() && first + x.size(0) <= impl_->n,
            "CacheWriter: rows of '{}' do not fit [{}, {}) (rank {} vs {})", name, first, first + x.size(0), x.dim(),
            dims.size());
  std::vector<hsize_t> mdims(x.sizes().begin(), x.sizes().end());
  for (size_t d = 1; d < dims.size(); ++d)
    ALX_CHECK(mdims[d] == dims[d], "CacheWriter: '{}' rows have dimension {} = {}, the array {}", name, d, mdims[d],
              dims[d]);
  H5Handle mspace(H5Screate_simple(static_cast<int>(mdims.size()), mdims.data(), nullptr), H5Sclose);
  check_h5(H5Dwrite(it->second, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, x.data_ptr<float>()) >= 0,
           impl_->tmp, "write of " + name);
}

void CacheWriter::write_items(const std::vector<int64_t>& items) {
  ALX_CHECK(static_cast<int64_t>(items.size()) == impl_->n, "CacheWriter: {} items for {} rows", items.size(),
            impl_->n);
  hsize_t dims[1] = {static_cast<hsize_t>(items.size())};
  H5Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
  H5Handle ds(H5Dcreate2(impl_->file, "items", H5T_NATIVE_INT64, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
              H5Dclose);
  check_h5(ds >= 0 && H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, items.data()) >= 0, impl_->tmp,
           "write of items");
}

void CacheWriter::commit() {
  ALX_CHECK(!impl_->committed, "CacheWriter: {} committed twice", impl_->path);
  H5Fflush(impl_->file, H5F_SCOPE_GLOBAL);
  impl_->datasets.clear();
  impl_->file.reset();
  if (FILE* f = std::fopen(impl_->tmp.c_str(), "rb")) {  // the data reaches the disk before the rename
    fflush(f);
    std::fclose(f);
  }
  std::error_code ec;
  fs::rename(impl_->tmp, impl_->path, ec);
  ALX_CHECK_IO(!ec, "cannot rename {} to {}: {}", impl_->tmp, impl_->path, ec.message());
  impl_->committed = true;
}

// ---- PoolCache ------------------------------------------------------------------

struct PoolCache::Impl {
  std::string path, fingerprint;
  int64_t rows = 0, model_version = 0;
  H5Handle file;
  mutable std::map<std::string, H5Handle> datasets;

  hid_t dataset(const std::string& name) const {
    auto it = datasets.find(name);
    if (it != datasets.end()) return it->second;
    H5Handle ds;
    {
      H5E_BEGIN_TRY { ds = H5Handle(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose); }
      H5E_END_TRY;
    }
    ALX_CHECK_IO(ds >= 0, "{}: no array '{}'", path, name);
    return datasets.emplace(name, std::move(ds)).first->second;
  }
};

PoolCache::PoolCache(std::string path) : impl_(std::make_unique<Impl>()) {
  impl_->path = std::move(path);
  ALX_CHECK_IO(fs::exists(impl_->path), "pool cache {} does not exist", impl_->path);
  {
    H5E_BEGIN_TRY { impl_->file = H5Handle(H5Fopen(impl_->path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose); }
    H5E_END_TRY;
  }
  ALX_CHECK_FORMAT(impl_->file >= 0, "{} is not an HDF5 file (delete it; it is a cache)", impl_->path);
  ALX_CHECK_FORMAT(read_attr_str(impl_->file, "alx_format", impl_->path) == "alx-pool-cache",
                   "{} is not an alx pool cache", impl_->path);
  impl_->rows = read_attr_i64(impl_->file, "rows", impl_->path);
  impl_->model_version = read_attr_i64(impl_->file, "model_version", impl_->path);
  impl_->fingerprint = read_attr_str(impl_->file, "fingerprint", impl_->path);
}

PoolCache::~PoolCache() = default;
PoolCache::PoolCache(PoolCache&&) noexcept = default;
PoolCache& PoolCache::operator=(PoolCache&&) noexcept = default;

const std::string& PoolCache::path() const { return impl_->path; }
int64_t PoolCache::size() const { return impl_->rows; }
int64_t PoolCache::model_version() const { return impl_->model_version; }
const std::string& PoolCache::fingerprint() const { return impl_->fingerprint; }

bool PoolCache::has(const std::string& name) const {
  if (impl_->datasets.count(name)) return true;
  hid_t ds = -1;
  H5E_BEGIN_TRY { ds = H5Dopen2(impl_->file, name.c_str(), H5P_DEFAULT); }
  H5E_END_TRY;
  if (ds < 0) return false;
  impl_->datasets.emplace(name, H5Handle(ds, H5Dclose));
  return true;
}

std::vector<int64_t> PoolCache::shape(const std::string& name) const {
  H5Handle space(H5Dget_space(impl_->dataset(name)), H5Sclose);
  std::vector<hsize_t> dims(static_cast<size_t>(H5Sget_simple_extent_ndims(space)));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

at::Tensor PoolCache::read(const std::string& name, int64_t begin, int64_t end) const {
  ALX_CHECK(begin >= 0 && begin <= end && end <= impl_->rows, "{}: rows [{}, {}) outside [0, {})", impl_->path, begin,
            end, impl_->rows);
  const hid_t ds = impl_->dataset(name);
  std::vector<hsize_t> dims;
  H5Handle fspace = row_slab(ds, begin, end, dims);
  std::vector<int64_t> shape(dims.begin(), dims.end());
  shape[0] = end - begin;
  at::Tensor out = at::empty(shape, at::kFloat);
  if (end == begin) return out;
  std::vector<hsize_t> mdims(shape.begin(), shape.end());
  H5Handle mspace(H5Screate_simple(static_cast<int>(mdims.size()), mdims.data(), nullptr), H5Sclose);
  check_h5(H5Dread(ds, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, out.data_ptr<float>()) >= 0, impl_->path,
           "read of " + name);
  return out;
}

sampling::RowReader PoolCache::reader(const std::string& name) const {
  return [this, name](int64_t b, int64_t e) { return read(name, b, e); };
}

std::vector<int64_t> PoolCache::items(const std::vector<int64_t>& rows) const {
  const hid_t ds = impl_->dataset("items");
  std::vector<int64_t> all(static_cast<size_t>(impl_->rows));
  if (!all.empty())
    check_h5(H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, all.data()) >= 0, impl_->path,
             "read of items");
  std::vector<int64_t> out;
  for (int64_t r : rows) {
    ALX_CHECK(r >= 0 && r < impl_->rows, "{}: row {} outside [0, {})", impl_->path, r, impl_->rows);
    out.push_back(all[static_cast<size_t>(r)]);
  }
  return out;
}

// ---- predict_to_cache -----------------------------------------------------------

StreamResult predict_to_cache(const Predictor& predictor, Model& model, std::shared_ptr<const ImageSource> images,
                              const std::vector<int64_t>& items, unsigned what,
                              const std::vector<std::string>& scorers, const std::string& path,
                              const StreamingOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto& po = predictor.options();
  bool need_mc = (what & kMcSamples) != 0, need_probs = (what & kProbs) != 0;
  for (const auto& s : scorers) {
    ALX_CHECK(sampling::has_scorer(s), "predict_to_cache: unknown scorer '{}'", s);
    (sampling::scorer_needs_mc_samples(s) ? need_mc : need_probs) = true;
  }
  // Everything that changes the cached numbers, except the weights (the model version).
  uint64_t h = 0xcbf29ce484222325ULL;
  h = fnv1a(h, items.data(), items.size() * sizeof(int64_t));
  std::string key = "what=" + std::to_string(what) + ";mc=" + std::to_string(po.mc_passes()) + "," + po.mc_source() +
                    "," + po.masks() + "," + po.path() + ",seed=" + std::to_string(po.seed()) + ";scorers=";
  for (const auto& s : scorers) key += s + ",";
  key += ";items=" + std::to_string(items.size()) + ":" + std::to_string(h);
  const std::string fingerprint = key;

  StreamResult result;
  result.path = path;
  result.rows = static_cast<int64_t>(items.size());
  if (fs::exists(path)) {
    try {
      PoolCache old(path);
      if (old.model_version() == model.version() && old.fingerprint() == fingerprint) {
        result.reused = true;
        result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return result;
      }
    } catch (const std::exception&) {
      // A damaged or foreign cache is rewritten below.
    }
  }

  const auto n = static_cast<int64_t>(items.size());
  const int64_t chunk = std::max<int64_t>(1, options.chunk_rows());
  unsigned ask = what & (kProbs | kMcSamples | kEmbeddings | kGradEmbeddings);
  if (need_mc) ask |= kMcSamples;
  if (need_probs) ask |= kProbs;
  std::unique_ptr<CacheWriter> writer;
  Progress progress(n, "scoring pool");
  for (int64_t b = 0; b < n; b += chunk) {
    const int64_t e = std::min(n, b + chunk);
    const std::vector<int64_t> part(items.begin() + b, items.begin() + e);
    Predictions p = predictor.predict(model, images, part, ask);
    if (!writer) {
      std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
      auto row_of = [](const torch::Tensor& t) { return std::vector<int64_t>(t.sizes().begin() + 1, t.sizes().end()); };
      if (what & kProbs) shapes.push_back({"probs", row_of(p.probs)});
      if (what & kMcSamples) shapes.push_back({"mc_samples", row_of(p.mc_samples)});
      if (what & kEmbeddings) shapes.push_back({"embeddings", row_of(p.embeddings)});
      if (what & kGradEmbeddings) shapes.push_back({"grad_embeddings", row_of(p.grad_embeddings)});
      for (const auto& s : scorers) shapes.push_back({"scores/" + s, {}});
      writer = std::make_unique<CacheWriter>(path, n, model.version(), fingerprint, shapes, options);
      writer->write_items(items);
    }
    if (what & kProbs) writer->write("probs", p.probs, b);
    if (what & kMcSamples) writer->write("mc_samples", p.mc_samples, b);
    if (what & kEmbeddings) writer->write("embeddings", p.embeddings, b);
    if (what & kGradEmbeddings) writer->write("grad_embeddings", p.grad_embeddings, b);
    for (const auto& s : scorers)
      writer->write("scores/" + s,
                    sampling::score(sampling::scorer_needs_mc_samples(s) ? p.mc_samples : p.probs, s), b);
    progress.advance(e - b);
  }
  if (!writer) writer = std::make_unique<CacheWriter>(path, 0, model.version(), fingerprint,
                                                      std::vector<std::pair<std::string, std::vector<int64_t>>>{},
                                                      options);
  writer->commit();
  progress.finish();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

std::vector<int64_t> topk_rows(const PoolCache& cache, const std::string& scores, int64_t k,
                               const std::vector<uint8_t>& selectable, int64_t chunk_rows) {
  const int64_t n = cache.size();
  ALX_CHECK(selectable.empty() || static_cast<int64_t>(selectable.size()) == n,
            "topk_rows: selectable has {} entries for {} rows", selectable.size(), n);
  ALX_CHECK(chunk_rows > 0, "topk_rows: chunk_rows must be positive");
  sampling::TopKStream top(k);
  for (int64_t b = 0; b < n; b += chunk_rows) {
    const int64_t e = std::min(n, b + chunk_rows);
    at::Tensor sel;
    if (!selectable.empty())
      sel = at::from_blob(const_cast<uint8_t*>(selectable.data()) + b, {e - b}, at::kByte).to(at::kBool);
    top.push(cache.read(scores, b, e), b, sel);
  }
  return top.indices();
}

std::vector<int64_t> kcenter_rows(const PoolCache& cache, const std::vector<uint8_t>& selectable,
                                  const std::vector<int64_t>& center_rows, int64_t k, uint64_t seed,
                                  int64_t chunk_rows) {
  const auto shape = cache.shape("embeddings");
  ALX_CHECK(shape.size() == 2, "{}: embeddings must be [N, D]", cache.path());
  return sampling::kcenter_streaming(cache.reader("embeddings"), shape[0], shape[1], selectable, center_rows, k, seed,
                                     chunk_rows);
}

}  // namespace alx::training
