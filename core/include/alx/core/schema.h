// alx/core/schema.h — the class list of a project: name ↔ index, validated.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

namespace alx {

/// The ordered list of class names. Index i is the label value stored in a Pool.
///
///   Schema s({"cat", "dog"});
///   s.index("dog") == 1; s.name(0) == "cat";
class Schema {
 public:
  Schema() = default;
  /// Throws alx::InvalidArgument on an empty or duplicate name (naming it).
  explicit Schema(std::vector<std::string> names);

  int size() const noexcept { return static_cast<int>(names_.size()); }
  bool empty() const noexcept { return names_.empty(); }
  const std::vector<std::string>& names() const noexcept { return names_; }
  /// Name of class `index`; throws if out of range.
  const std::string& name(int index) const;
  /// Index of `name`; throws alx::InvalidArgument listing the known classes if absent.
  int index(const std::string& name) const;
  /// Index of `name`, or -1 when the schema has no such class.
  int find(const std::string& name) const noexcept;
  bool contains(const std::string& name) const noexcept { return find(name) >= 0; }
  /// Appends a class (used by readers that discover classes as they go); returns its index.
  int add(const std::string& name);

  bool operator==(const Schema& other) const noexcept { return names_ == other.names_; }
  bool operator!=(const Schema& other) const noexcept { return !(*this == other); }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, int> index_;
};

}  // namespace alx
