// alx/training/streaming.h — bounded-memory scoring of huge pools: the pool streams
// through the model in chunks, and probabilities, MC samples, scores and embeddings go
// into chunked, compressed HDF5 datasets of a cache file, one per model version:
//
//   <store>.cache/<model_version>.h5        (written as <…>.h5.tmp, renamed when complete)
//
// A cache is reused — the model never runs — when its model version, items and contents
// match the request: an unchanged model never rescores. Samplers then read the datasets
// back chunk by chunk (sampling/streaming_select.h): top-k with a heap, k-center with one
// float per row. Memory is O(chunk · T · C + N), never [N, T, C] or [N, D].
//
//   auto r = alx::training::predict_to_cache(predictor, model, images, pool.unlabeled(),
//                kProbs | kEmbeddings, {"margin"},
//                alx::training::cache_path("project.h5", model.version()));
//   alx::training::PoolCache cache(r.path);
//   auto rows = alx::training::topk_rows(cache, "scores/margin", 100);  // rows of the cache
//   auto items = cache.items(rows);                                     // pool indices
#pragma once

#include <alx/core/image_source.h>
#include <alx/core/options.h>
#include <alx/sampling/streaming_select.h>
#include <alx/training/model.h>
#include <alx/training/predictor.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace alx::training {

struct StreamingOptions {
  /// Items per predict() call and per read of the samplers; bounds the memory.
  ALX_ARG(int64_t, chunk_rows) = 16384;
  /// Rows per HDF5 chunk (the unit of compression and of partial reads).
  ALX_ARG(int64_t, hdf5_chunk_rows) = 4096;
  /// Deflate level 0–9 (0: uncompressed).
  ALX_ARG(int, compression) = 1;
  /// Show progress on a terminal.
  ALX_ARG(bool, progress) = true;

 public:
  template <class V>
  void visit(V&& v) {
    v("chunk_rows", chunk_rows_, "items per streamed chunk", Range::at_least(1));
    v("hdf5_chunk_rows", hdf5_chunk_rows_, "rows per HDF5 chunk", Range::at_least(1));
    v("compression", compression_, "deflate level 0-9", Range::at_least(0));
    v("progress", progress_, "progress on a terminal", Range::any());
  }
};

/// `<store_path>.cache/<model_version>.h5`.
std::string cache_path(const std::string& store_path, int64_t model_version);

/// Writes float32 arrays of N rows into a new cache file, chunk by chunk, as `<path>.tmp`;
/// commit() renames it into place. Destroyed without commit(), it removes the tmp file.
class CacheWriter {
 public:
  /// `row_shapes`: name → shape of one row (e.g. {"probs", {10}}, {"scores/margin", {}}).
  CacheWriter(std::string path, int64_t n, int64_t model_version, const std::string& fingerprint,
              const std::vector<std::pair<std::string, std::vector<int64_t>>>& row_shapes,
              const StreamingOptions& options = {});
  ~CacheWriter();
  CacheWriter(const CacheWriter&) = delete;
  CacheWriter& operator=(const CacheWriter&) = delete;
  /// rows: [B, row shape…] for rows first … first + B − 1 of array `name`.
  void write(const std::string& name, const at::Tensor& rows, int64_t first);
  /// The pool index of each row: [N] int64 (written whole; N int64 is O(N)).
  void write_items(const std::vector<int64_t>& items);
  /// Flushes, closes and renames `<path>.tmp` to `path`.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Read side of a cache file: partial reads of row ranges.
class PoolCache {
 public:
  explicit PoolCache(std::string path);
  ~PoolCache();
  PoolCache(PoolCache&&) noexcept;
  PoolCache& operator=(PoolCache&&) noexcept;

  const std::string& path() const;
  int64_t size() const;           ///< N
  int64_t model_version() const;
  const std::string& fingerprint() const;
  bool has(const std::string& name) const;
  /// Full shape [N, …] of an array.
  std::vector<int64_t> shape(const std::string& name) const;
  /// Rows [begin, end) of array `name` as float32 [end − begin, …].
  at::Tensor read(const std::string& name, int64_t begin, int64_t end) const;
  /// A reader for the sampling streams (rows of `name`).
  sampling::RowReader reader(const std::string& name) const;
  /// Pool indices of cache rows.
  std::vector<int64_t> items(const std::vector<int64_t>& rows) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// What a streamed prediction computed and where it lies.
struct StreamResult {
  std::string path;
  bool reused = false;   ///< the cache matched; the model did not run
  int64_t rows = 0;
  double seconds = 0.0;
};

/// Predicts `items` of `images` chunk by chunk into the cache at `path`: datasets "probs"
/// [N, K], "mc_samples" [N, T, K], "embeddings" [N, D], "grad_embeddings" [N, K·D] (as `what`
/// asks) and "scores/<scorer>" [N] per scorer (scored from MC samples when the scorer needs
/// them, else from probs). An existing cache at `path` for the same model version, items,
/// contents and predictor settings is reused untouched.
StreamResult predict_to_cache(const Predictor& predictor, Model& model, std::shared_ptr<const ImageSource> images,
                              const std::vector<int64_t>& items, unsigned what,
                              const std::vector<std::string>& scorers, const std::string& path,
                              const StreamingOptions& options = {});

/// Exact top-k cache rows of a [N] score array, streamed with a heap (O(k) memory).
/// `selectable`: one byte per row or empty (all).
std::vector<int64_t> topk_rows(const PoolCache& cache, const std::string& scores, int64_t k,
                               const std::vector<uint8_t>& selectable = {}, int64_t chunk_rows = 65536);

/// Greedy k-center over the cache's [N, D] "embeddings" with O(N) state (see
/// sampling::kcenter_streaming); `center_rows` are fixed centers (cache rows).
std::vector<int64_t> kcenter_rows(const PoolCache& cache, const std::vector<uint8_t>& selectable,
                                  const std::vector<int64_t>& center_rows, int64_t k, uint64_t seed,
                                  int64_t chunk_rows = 16384);

}  // namespace alx::training
