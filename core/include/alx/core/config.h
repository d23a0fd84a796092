// alx/core/config.h — YAML → typed options structs, validated with messages that
// name the key and the file.
//
//   YAML::Node root = alx::config::load_file("run.yaml");
//   auto trainer = alx::config::read<TrainerOptions>(root["trainer"], {"run.yaml", "trainer"});
//
// An unknown key, a wrong type or an out-of-range value throws alx::ConfigError:
//   run.yaml:7: trainer.epoch: unknown key; valid keys: epochs, lr, batch_size
#pragma once

#include <alx/core/error.h>
#include <alx/core/options.h>

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace alx::config {

/// Where a node came from, for messages: the file and the dotted key prefix.
struct Context {
  std::string file;    ///< file name, or "<python>" / "<string>"
  std::string prefix;  ///< dotted path of the node, e.g. "trainer"

  Context child(const std::string& key) const {
    return {file, prefix.empty() ? key : prefix + "." + key};
  }
  /// "file:line: key" for messages (line is 1-based, omitted when unknown).
  std::string where(const YAML::Node& node) const;
};

/// Parses a YAML file; throws alx::IoError if unreadable, alx::ConfigError (with the
/// file and line) if it is not valid YAML.
YAML::Node load_file(const std::string& path);
/// Parses YAML text; `name` is used in messages.
YAML::Node load_string(const std::string& text, const std::string& name = "<string>");

namespace detail {

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

/// Name of a value type without article: "integer", "list of numbers", ...
template <class T>
std::string bare_type_name() {
  if constexpr (std::is_same_v<T, bool>) return "boolean";
  else if constexpr (std::is_integral_v<T>) return "integer";
  else if constexpr (std::is_floating_point_v<T>) return "number";
  else if constexpr (std::is_same_v<T, std::string>) return "string";
  else if constexpr (is_vector<T>::value) return "list of " + bare_type_name<typename T::value_type>() + "s";
  else if constexpr (std::is_same_v<T, YAML::Node>) return "YAML value";
  else return "mapping";
}

/// The same with its article, for messages: "an integer", "a boolean (true/false)".
template <class T>
std::string type_name() {
  if constexpr (std::is_same_v<T, bool>) return "a boolean (true/false)";
  const std::string bare = bare_type_name<T>();
  return (bare[0] == 'i' ? "an " : "a ") + bare;
}

/// Converts a scalar node to T with a ConfigError that names key and file.
template <class T>
T convert_scalar(const YAML::Node& node, const Context& ctx) {
  if (!node.IsScalar()) {
    throw ConfigError(fmt::format("{}: expected {}, got a {}", ctx.where(node), type_name<T>(),
                                  node.IsSequence() ? "list" : node.IsMap() ? "mapping" : "null"));
  }
  const std::string text = node.Scalar();
  if constexpr (std::is_same_v<T, std::string>) {
    return text;
  } else if constexpr (std::is_same_v<T, bool>) {
    bool value{};
    if (!YAML::convert<bool>::decode(node, value))
      throw ConfigError(fmt::format("{}: expected {}, got '{}'", ctx.where(node), type_name<T>(), text));
    return value;
  } else {
    std::istringstream in(text);
    long double value{};
    in >> value;
    const bool ok = !in.fail() && (in >> std::ws).eof();
    if (!ok)
      throw ConfigError(fmt::format("{}: expected {}, got '{}'", ctx.where(node), type_name<T>(), text));
    if constexpr (std::is_integral_v<T>) {
      // Range first: converting a value outside long long's range (e.g. 268435e56) is
      // undefined behavior (found by fuzz_config). Written so that NaN fails too.
      if (!(value >= static_cast<long double>(std::numeric_limits<T>::lowest()) &&
            value <= static_cast<long double>(std::numeric_limits<T>::max())) ||
          std::trunc(value) != value)
        throw ConfigError(fmt::format("{}: expected {}, got '{}'", ctx.where(node), type_name<T>(), text));
    }
    return static_cast<T>(value);
  }
}

template <class T>
void check_range(const T& value, const Range& range, const YAML::Node& node, const Context& ctx) {
  if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    if (!range.contains(static_cast<double>(value)))
      throw ConfigError(fmt::format("{}: value {} is out of range {}{}, {}]", ctx.where(node), value,
                                    range.lo_open ? "(" : "[", range.lo, range.hi));
  } else if constexpr (is_vector<T>::value) {
    for (const auto& v : value) check_range(v, range, node, ctx);
  }
}

template <class T>
void read_value(const YAML::Node& node, T& out, const Context& ctx);

/// Visitor that fills an options struct from a mapping node.
class Reader {
 public:
  Reader(const YAML::Node& node, Context ctx) : node_(node), ctx_(std::move(ctx)) {}

  template <class T>
  void operator()(const char* key, T& field, const char* /*help*/ = "", Range range = {}) {
    known_.insert(key);
    const YAML::Node child = node_[key];
    if (!child.IsDefined() || child.IsNull()) return;  // keep the default
    const Context cctx = ctx_.child(key);
    read_value(child, field, cctx);
    check_range(field, range, child, cctx);
  }

  void finish() const {
    for (const auto& kv : node_) {
      if (!kv.first.IsScalar())  // e.g. "{[a]: 1}": as<std::string>() would throw YAML's own error
        throw ConfigError(fmt::format("{}: a key must be a name, got a {}", ctx_.where(kv.first),
                                      kv.first.IsSequence() ? "list"
                                      : kv.first.IsMap()    ? "mapping"
                                                            : "null"));
      const std::string key = kv.first.Scalar();
      if (known_.count(key)) continue;
      std::string valid;
      for (const auto& k : known_) valid += (valid.empty() ? "" : ", ") + k;
      throw ConfigError(fmt::format("{}: unknown key; valid keys: {}",
                                    ctx_.child(key).where(kv.first), valid));
    }
  }

 private:
  const YAML::Node& node_;
  Context ctx_;
  std::set<std::string> known_;
};

template <class T>
void read_value(const YAML::Node& node, T& out, const Context& ctx) {
  if constexpr (std::is_same_v<T, YAML::Node>) {
    out = YAML::Clone(node);
  } else if constexpr (is_vector<T>::value) {
    if (!node.IsSequence())
      throw ConfigError(fmt::format("{}: expected {}", ctx.where(node), type_name<T>()));
    T values;
    for (std::size_t i = 0; i < node.size(); ++i) {
      typename T::value_type v{};
      read_value(node[i], v, ctx.child(std::to_string(i)));
      values.push_back(std::move(v));
    }
    out = std::move(values);
  } else if constexpr (is_options_v<T>) {
    if (!node.IsMap())
      throw ConfigError(fmt::format("{}: expected a mapping of options", ctx.where(node)));
    Reader reader(node, ctx);
    out.visit(reader);
    reader.finish();
  } else {
    out = convert_scalar<T>(node, ctx);
  }
}

/// Visitor that writes an options struct to a mapping node.
class Writer {
 public:
  template <class T>
  void operator()(const char* key, T& field, const char* /*help*/ = "", Range /*range*/ = {}) {
    if constexpr (is_options_v<T>) {
      Writer w;
      field.visit(w);
      node[key] = w.node;
    } else {
      node[key] = field;
    }
  }
  YAML::Node node{YAML::NodeType::Map};
};

/// Visitor that lists fields as "key: help (type, default value)".
class Helper {
 public:
  template <class T>
  void operator()(const char* key, T& field, const char* help = "", Range /*range*/ = {}) {
    const std::string full = prefix.empty() ? key : prefix + "." + key;
    if constexpr (is_options_v<T>) {
      Helper h;
      h.prefix = full;
      field.visit(h);
      for (auto& line : h.lines) lines.push_back(std::move(line));
    } else {
      YAML::Emitter e;
      e << YAML::Flow << field;
      lines.push_back(fmt::format("{}: {} ({}, default {})", full, help, bare_type_name<T>(),
                                  e.c_str()));
    }
  }
  std::string prefix;
  std::vector<std::string> lines;
};

}  // namespace detail

/// Fills `options` from a mapping node; absent keys keep their defaults.
template <class Options>
void read_into(const YAML::Node& node, Options& options, const Context& ctx) {
  if (!node.IsDefined() || node.IsNull()) return;
  detail::read_value(node, options, ctx);
}

/// Reads an options struct from a mapping node (defaults for absent keys).
template <class Options>
Options read(const YAML::Node& node, const Context& ctx) {
  Options options;
  read_into(node, options, ctx);
  return options;
}

/// Writes every field of an options struct to a YAML mapping.
template <class Options>
YAML::Node write(const Options& options) {
  detail::Writer w;
  const_cast<Options&>(options).visit(w);
  return w.node;
}

/// One line per field: "key: help (type, default value)".
template <class Options>
std::vector<std::string> help(const Options& options = Options()) {
  detail::Helper h;
  const_cast<Options&>(options).visit(h);
  return h.lines;
}

}  // namespace alx::config
