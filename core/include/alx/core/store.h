// alx/core/store.h — one HDF5 file per project: the pool state and every round.
//
// Layout (format "alx-store", version 1; see docs in README.md "The store"):
//   (user block)      the first 512 bytes: "alx-store sealed 1", size and CRC-32 of the rest,
//                     checked before HDF5 reads anything (stores without it still open)
//   /                 attrs: alx_format="alx-store", alx_version=1, checksum (CRC-32 of the pool),
//                     content_checksum (CRC-32 of objects, rounds, arrays, meta; when present)
//   /schema/classes   string [C]
//   /pool/ids         string [N]
//   /pool/labels      int32 [N]   (-1 = unlabeled)
//   /pool/label_rounds int32 [N]  (-1 = unlabeled)
//   /pool/objects/{item,label,box,score,polygon_counts,polygon_sizes,points}
//   /rounds/NNNNNN    one group per finished round: selected int64 [k], selected_ids string [k],
//                     scores float32 [k], metric_names/metric_values, stage_names/stage_seconds;
//                     attrs: round, model_version, note
//   /arrays/<name>    float32 arrays of any shape (e.g. cached embeddings), attr "tag"
//   /meta/<key>       string attributes (e.g. the config the run used)
//
// Writes are atomic: save() builds the HDF5 file in memory (HDF5's core driver), writes seal +
// image to "<path>.tmp" itself (every write checked: a full disk is an alx::IoError, and
// HDF5 never holds a file it failed to close) and fsyncs it, keeps the previous file as
// "<path>.bak" and renames the new one over "<path>". A process killed at any moment
// leaves the old file or the new one, never a half-written one. A store is locked while open:
// a second process opening it gets alx::IoError instead of interleaved writes.
#pragma once

#include <alx/core/pool.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace alx {

/// What one finished round of active learning left behind.
struct RoundRecord {
  int round = 0;
  std::vector<int64_t> selected;           ///< pool indices picked this round, in rank order
  std::vector<std::string> selected_ids;   ///< their ids (stable across pool re-reads)
  std::vector<float> scores;               ///< their acquisition scores
  std::string model_version;
  std::map<std::string, double> metrics;   ///< e.g. accuracy, macro_f1, labeled
  std::map<std::string, double> seconds;   ///< time per stage: train, predict, score, select
  std::string note;

  bool operator==(const RoundRecord& o) const {
    return round == o.round && selected == o.selected && selected_ids == o.selected_ids &&
           scores == o.scores && model_version == o.model_version && metrics == o.metrics &&
           seconds == o.seconds && note == o.note;
  }
};

/// A float32 array of any shape kept in the store (e.g. embeddings cached by model version).
struct StoredArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
  std::string tag;  ///< e.g. the model version the array was computed with
};

class Store {
 public:
  static constexpr int kFormatVersion = 1;

  /// Creates a new store file holding `pool` (refuses to overwrite an existing file).
  static Store create(const std::string& path, Pool pool);
  /// Opens and validates an existing store. Throws alx::IoError when it is missing, locked
  /// by another process, truncated or corrupt (the message says how to recover).
  static Store open(const std::string& path);
  /// open() if the file exists, else create() with `pool`.
  static Store open_or_create(const std::string& path, Pool pool);

  Store(Store&& other) noexcept;
  Store& operator=(Store&& other) noexcept;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  const std::string& path() const noexcept { return path_; }
  const Pool& pool() const noexcept { return pool_; }
  /// Changes are kept in memory until save().
  Pool& pool() noexcept { return pool_; }

  const std::vector<RoundRecord>& rounds() const noexcept { return rounds_; }
  /// The last finished round number, or 0 when none.
  int last_round() const noexcept { return rounds_.empty() ? 0 : rounds_.back().round; }
  /// Appends a finished round (round numbers must increase).
  void add_round(RoundRecord record);

  void set_array(const std::string& name, StoredArray array);
  const StoredArray* array(const std::string& name) const;
  void remove_array(const std::string& name);

  void set_meta(const std::string& key, const std::string& value);
  std::optional<std::string> meta(const std::string& key) const;
  const std::map<std::string, std::string>& meta() const noexcept { return meta_; }

  /// Writes everything atomically (see the file comment). On failure (e.g. a full disk)
  /// the previous file is intact and alx::IoError says so.
  void save();

 private:
  Store() = default;
  void lock();
  void unlock() noexcept;

  std::string path_;
  int lock_fd_ = -1;
  Pool pool_;
  std::vector<RoundRecord> rounds_;
  std::map<std::string, StoredArray> arrays_;
  std::map<std::string, std::string> meta_;
};

}  // namespace alx
