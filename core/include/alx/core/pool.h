// alx/core/pool.h — the items of a project and their labels, in one index space.
#pragma once

#include <alx/core/annotation.h>
#include <alx/core/schema.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace alx {

/// N items with stable string ids (usually image paths relative to an image root),
/// one class label or none per item, and the round in which each label arrived
/// (round 0 = labels that existed before active learning started).
///
/// Indices 0..N-1 are the only index space: samplers return them, the store keeps
/// them, the image source is addressed by them.
///
///   Pool pool(Schema({"cat", "dog"}), {"a.png", "b.png", "c.png"});
///   pool.add_labels({0, 2}, {1, 0}, /*round=*/1);
///   pool.unlabeled() == {1};
class Pool {
 public:
  static constexpr int kNoLabel = -1;
  static constexpr int kNoRound = -1;

  Pool() = default;
  /// Throws alx::InvalidArgument on an empty or duplicate id (naming it).
  Pool(Schema schema, std::vector<std::string> ids);

  int64_t size() const noexcept { return static_cast<int64_t>(ids_.size()); }
  const Schema& schema() const noexcept { return schema_; }
  /// The schema may grow (classes appended); existing indices never change.
  Schema& mutable_schema() noexcept { return schema_; }

  const std::string& id(int64_t i) const;
  const std::vector<std::string>& ids() const noexcept { return ids_; }
  /// Index of an id, or std::nullopt.
  std::optional<int64_t> find(const std::string& id) const;
  /// Index of an id; throws alx::InvalidArgument naming the id if absent.
  int64_t index(const std::string& id) const;

  /// Label of item i, or kNoLabel.
  int label(int64_t i) const;
  /// Round in which item i was labeled, or kNoRound.
  int label_round(int64_t i) const;
  bool is_labeled(int64_t i) const { return label(i) != kNoLabel; }
  const std::vector<int>& labels() const noexcept { return labels_; }
  const std::vector<int>& label_rounds() const noexcept { return rounds_; }

  /// Indices of labeled / unlabeled items, ascending.
  std::vector<int64_t> labeled() const;
  std::vector<int64_t> unlabeled() const;
  int64_t num_labeled() const noexcept { return num_labeled_; }
  int64_t num_unlabeled() const noexcept { return size() - num_labeled_; }
  /// Labeled items per class, size = schema().size().
  std::vector<int64_t> counts_per_class() const;

  /// Labels items `indices` with `labels` in `round`. All-or-nothing: every index and
  /// label is validated first (range, duplicates in the call), then all are applied.
  /// Relabeling an already labeled item is allowed and moves it to `round`.
  void add_labels(const std::vector<int64_t>& indices, const std::vector<int>& labels, int round);
  void add_label(int64_t index, int label, int round) { add_labels({index}, {label}, round); }
  /// Removes the label of item i (e.g. a label sent back for review).
  void remove_label(int64_t i);
  /// Removes every label (used by simulations that hide ground truth behind an Oracle).
  void clear_labels();

  /// Objects (boxes, polygons) of item i, for detection / segmentation exports.
  const std::vector<Object>& objects(int64_t i) const;
  void set_objects(int64_t i, std::vector<Object> objects);
  bool has_objects() const noexcept { return !objects_.empty(); }

  bool operator==(const Pool& other) const;

 private:
  void check_index(int64_t i) const;

  Schema schema_;
  std::vector<std::string> ids_;
  std::unordered_map<std::string, int64_t> index_;
  std::vector<int> labels_;
  std::vector<int> rounds_;
  int64_t num_labeled_ = 0;
  std::unordered_map<int64_t, std::vector<Object>> objects_;
};

}  // namespace alx
