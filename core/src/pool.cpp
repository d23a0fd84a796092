#include <alx/core/error.h>
#include <alx/core/pool.h>

#include <unordered_set>

namespace alx {

Pool::Pool(Schema schema, std::vector<std::string> ids)
    : schema_(std::move(schema)), ids_(std::move(ids)) {
  index_.reserve(ids_.size());
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    ALX_CHECK(!ids_[i].empty(), "item {} has an empty id", i);
    const bool inserted = index_.emplace(ids_[i], static_cast<int64_t>(i)).second;
    ALX_CHECK(inserted, "item id '{}' appears twice (items {} and {})", ids_[i],
              index_.at(ids_[i]), i);
  }
  labels_.assign(ids_.size(), kNoLabel);
  rounds_.assign(ids_.size(), kNoRound);
}

void Pool::check_index(int64_t i) const {
  ALX_CHECK(i >= 0 && i < size(), "item index {} is out of range [0, {})", i, size());
}

const std::string& Pool::id(int64_t i) const {
  check_index(i);
  return ids_[static_cast<std::size_t>(i)];
}

std::optional<int64_t> Pool::find(const std::string& id) const {
  auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

int64_t Pool::index(const std::string& id) const {
  auto found = find(id);
  ALX_CHECK(found.has_value(), "no item with id '{}' in the pool ({} items)", id, size());
  return *found;
}

int Pool::label(int64_t i) const {
  check_index(i);
  return labels_[static_cast<std::size_t>(i)];
}

int Pool::label_round(int64_t i) const {
  check_index(i);
  return rounds_[static_cast<std::size_t>(i)];
}

std::vector<int64_t> Pool::labeled() const {
  std::vector<int64_t> out;
  out.reserve(static_cast<std::size_t>(num_labeled_));
  for (std::size_t i = 0; i < labels_.size(); ++i)
    if (labels_[i] != kNoLabel) out.push_back(static_cast<int64_t>(i));
  return out;
}

std::vector<int64_t> Pool::unlabeled() const {
  std::vector<int64_t> out;
  out.reserve(static_cast<std::size_t>(num_unlabeled()));
  for (std::size_t i = 0; i < labels_.size(); ++i)
    if (labels_[i] == kNoLabel) out.push_back(static_cast<int64_t>(i));
  return out;
}

std::vector<int64_t> Pool::counts_per_class() const {
  std::vector<int64_t> counts(static_cast<std::size_t>(schema_.size()), 0);
  for (int l : labels_)
    if (l != kNoLabel) ++counts[static_cast<std::size_t>(l)];
  return counts;
}

void Pool::add_labels(const std::vector<int64_t>& indices, const std::vector<int>& labels,
                      int round) {
  ALX_CHECK(indices.size() == labels.size(), "add_labels: {} indices but {} labels",
            indices.size(), labels.size());
  ALX_CHECK(round >= 0, "add_labels: round must be >= 0, got {}", round);
  // Validate everything before touching the state: all or nothing.
  std::unordered_set<int64_t> seen;
  seen.reserve(indices.size());
  for (std::size_t k = 0; k < indices.size(); ++k) {
    check_index(indices[k]);
    ALX_CHECK(labels[k] >= 0 && labels[k] < schema_.size(),
              "item '{}': label {} is out of range [0, {}) of the schema", ids_[indices[k]],
              labels[k], schema_.size());
    ALX_CHECK(seen.insert(indices[k]).second, "add_labels: item '{}' is given twice",
              ids_[indices[k]]);
  }
  for (std::size_t k = 0; k < indices.size(); ++k) {
    auto i = static_cast<std::size_t>(indices[k]);
    if (labels_[i] == kNoLabel) ++num_labeled_;
    labels_[i] = labels[k];
    rounds_[i] = round;
  }
}

void Pool::remove_label(int64_t i) {
  check_index(i);
  auto u = static_cast<std::size_t>(i);
  if (labels_[u] != kNoLabel) --num_labeled_;
  labels_[u] = kNoLabel;
  rounds_[u] = kNoRound;
}

void Pool::clear_labels() {
  std::fill(labels_.begin(), labels_.end(), kNoLabel);
  std::fill(rounds_.begin(), rounds_.end(), kNoRound);
  num_labeled_ = 0;
}

const std::vector<Object>& Pool::objects(int64_t i) const {
  static const std::vector<Object> kNone;
  check_index(i);
  auto it = objects_.find(i);
  return it == objects_.end() ? kNone : it->second;
}

void Pool::set_objects(int64_t i, std::vector<Object> objects) {
  check_index(i);
  for (const auto& o : objects)
    ALX_CHECK(o.label >= 0 && o.label < schema_.size(),
              "item '{}': object label {} is out of range [0, {})", ids_[i], o.label,
              schema_.size());
  if (objects.empty())
    objects_.erase(i);
  else
    objects_[i] = std::move(objects);
}

bool Pool::operator==(const Pool& other) const {
  if (schema_ != other.schema_ || ids_ != other.ids_ || labels_ != other.labels_ ||
      rounds_ != other.rounds_ || objects_.size() != other.objects_.size())
    return false;
  for (const auto& [i, objs] : objects_) {
    auto it = other.objects_.find(i);
    if (it == other.objects_.end() || it->second.size() != objs.size()) return false;
    for (std::size_t k = 0; k < objs.size(); ++k) {
      const auto &a = objs[k], &b = it->second[k];
      if (a.label != b.label || !(a.box == b.box) || a.polygons != b.polygons || a.score != b.score)
        return false;
    }
  }
  return true;
}

}  // namespace alx
