// alx/core/options.h — options structs with chained setters and one field list.
//
// An options struct declares its fields with ALX_ARG (chained setters, as
// torch/arg.h's TORCH_ARG) and lists them once in `visit`, with a help line and
// a valid range. That one list feeds YAML (alx/core/config.h), Python keyword
// arguments and `--help` alike:
//
//   struct TrainerOptions {
//     ALX_ARG(int, epochs) = 10;
//     ALX_ARG(double, lr) = 1e-3;
//    public:
//     template <class V> void visit(V&& v) {
//       v("epochs", epochs_, "passes over the labeled set per round", Range::at_least(1));
//       v("lr", lr_, "learning rate", Range::positive());
//     }
//   };
//   auto opts = TrainerOptions().epochs(20).lr(3e-4);
#pragma once

#include <limits>
#include <type_traits>
#include <utility>

/// Declares a field `name_` with a getter `name()` and a chained setter `name(value)`.
#define ALX_ARG(T, name)                                      \
 public:                                                      \
  inline auto name(const T& new_##name)->decltype(*this) {    \
    this->name##_ = new_##name;                               \
    return *this;                                             \
  }                                                           \
  inline const T& name() const noexcept { return this->name##_; } \
  inline T& name() noexcept { return this->name##_; }         \
                                                              \
 private:                                                     \
  T name##_

namespace alx {

/// Closed range of valid values of a numeric option (also bounds a list's elements).
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;  ///< true: value must be strictly greater than lo

  static Range any() { return {}; }
  static Range at_least(double lo) { return {lo, std::numeric_limits<double>::infinity(), false}; }
  static Range positive() { return {0.0, std::numeric_limits<double>::infinity(), true}; }
  static Range between(double lo, double hi) { return {lo, hi, false}; }
  static Range probability() { return {0.0, 1.0, false}; }

  bool contains(double x) const noexcept {
    return (lo_open ? x > lo : x >= lo) && x <= hi;
  }
};

namespace detail {
template <class T, class = void>
struct has_visit : std::false_type {};
template <class T>
struct has_visit<T, std::void_t<decltype(std::declval<T&>().visit(
                        std::declval<void (*)(const char*, int&, const char*, Range)>()))>>
    : std::true_type {};
}  // namespace detail

/// True for options structs that list their fields with `visit`.
template <class T>
constexpr bool is_options_v = detail::has_visit<T>::value;

}  // namespace alx
