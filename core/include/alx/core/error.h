// alx/core/error.h — the one error family of alx and its check macros.
//
// Argument mistakes derive from std::invalid_argument (Python sees ValueError),
// I/O failures from std::runtime_error via IoError (Python sees OSError), and
// malformed files from FormatError (ValueError). Every exception records the
// source location that raised it; the message itself is written for the user:
// it names the file, the item and what was expected.
//
//   ALX_CHECK(k > 0, "k must be positive, got {}", k);
//   ALX_CHECK_IO(in.good(), "cannot open '{}'", path);
//   ALX_CHECK_FORMAT(n == 4, "{}: row {}: expected 4 columns, got {}", file, row, n);
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace alx {

/// Where an exception was raised (C++ source file and line), for debugging.
struct SourceLocation {
  const char* file = "";
  int line = 0;
};

/// Mixin that every alx exception carries.
class ErrorInfo {
 public:
  explicit ErrorInfo(SourceLocation where) : where_(where) {}
  virtual ~ErrorInfo() = default;
  const SourceLocation& where() const noexcept { return where_; }

 private:
  SourceLocation where_;
};

/// A caller passed a value that cannot work (wrong shape, k < 0, unknown name).
class InvalidArgument : public std::invalid_argument, public ErrorInfo {
 public:
  InvalidArgument(const std::string& msg, SourceLocation where = {})
      : std::invalid_argument(msg), ErrorInfo(where) {}
};

/// A file or directory could not be read or written.
class IoError : public std::runtime_error, public ErrorInfo {
 public:
  IoError(const std::string& msg, SourceLocation where = {})
      : std::runtime_error(msg), ErrorInfo(where) {}
};

/// A file was read but its content is not what its format promises.
class FormatError : public std::invalid_argument, public ErrorInfo {
 public:
  FormatError(const std::string& msg, SourceLocation where = {})
      : std::invalid_argument(msg), ErrorInfo(where) {}
};

/// A configuration key is unknown, has the wrong type or is out of range.
class ConfigError : public std::invalid_argument, public ErrorInfo {
 public:
  ConfigError(const std::string& msg, SourceLocation where = {})
      : std::invalid_argument(msg), ErrorInfo(where) {}
};

/// Internal invariant broken: a bug in alx, not in the caller's input.
class InternalError : public std::logic_error, public ErrorInfo {
 public:
  InternalError(const std::string& msg, SourceLocation where = {})
      : std::logic_error(msg), ErrorInfo(where) {}
};

namespace detail {
template <class E, class... Args>
[[noreturn]] void throw_error(const char* file, int line, fmt::format_string<Args...> f,
                              Args&&... args) {
  throw E(fmt::format(f, std::forward<Args>(args)...), SourceLocation{file, line});
}
}  // namespace detail

}  // namespace alx

/// Throw exception type E with a fmt-formatted message unless cond holds.
#define ALX_THROW_IF_NOT(E, cond, ...)                                  \
  do {                                                                  \
    if (!(cond)) ::alx::detail::throw_error<E>(__FILE__, __LINE__, __VA_ARGS__); \
  } while (0)

#define ALX_THROW(E, ...) ::alx::detail::throw_error<E>(__FILE__, __LINE__, __VA_ARGS__)

/// User mistake in an argument → alx::InvalidArgument (Python: ValueError).
#define ALX_CHECK(cond, ...) ALX_THROW_IF_NOT(::alx::InvalidArgument, cond, __VA_ARGS__)
/// I/O failure → alx::IoError (Python: OSError).
#define ALX_CHECK_IO(cond, ...) ALX_THROW_IF_NOT(::alx::IoError, cond, __VA_ARGS__)
/// Malformed file content → alx::FormatError (Python: ValueError).
#define ALX_CHECK_FORMAT(cond, ...) ALX_THROW_IF_NOT(::alx::FormatError, cond, __VA_ARGS__)

/// Internal invariant: checked in debug builds only.
#ifndef NDEBUG
#define ALX_DCHECK(cond) \
  ALX_THROW_IF_NOT(::alx::InternalError, cond, "internal check failed: {}", #cond)
#else
#define ALX_DCHECK(cond) ((void)0)
#endif
