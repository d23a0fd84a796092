#include <alx/core/error.h>
#include <alx/core/schema.h>

namespace alx {

Schema::Schema(std::vector<std::string> names) {
  for (auto& name : names) add(name);
}

int Schema::add(const std::string& name) {
  ALX_CHECK(!name.empty(), "class name {} is empty; every class needs a name", names_.size());
  ALX_CHECK(index_.find(name) == index_.end(), "class name '{}' appears twice in the schema", name);
  const int idx = static_cast<int>(names_.size());
  names_.push_back(name);
  index_.emplace(name, idx);
  return idx;
}

const std::string& Schema::name(int index) const {
  ALX_CHECK(index >= 0 && index < size(), "class index {} is out of range [0, {})", index, size());
  return names_[static_cast<std::size_t>(index)];
}

int Schema::index(const std::string& name) const {
  const int idx = find(name);
  if (idx < 0) {
    ALX_THROW(InvalidArgument, "unknown class '{}'; known classes: {}", name,
              fmt::join(names_, ", "));
  }
  return idx;
}

int Schema::find(const std::string& name) const noexcept {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

}  // namespace alx
