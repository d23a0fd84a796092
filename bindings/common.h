// bindings/common.h — what every bind_<module>.cpp shares: numpy / torch conversion,
// Python ↔ YAML, and one generic binding for every options struct (through its `visit`).
// Only bindings/ includes pybind11 or Python headers.
#pragma once

#include <alx/core/config.h>
#include <alx/core/error.h>
#include <alx/core/options.h>

#include <torch/extension.h>
#include <pybind11/numpy.h>
#include <pybind11/operators.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>
#include <opencv2/core.hpp>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace py = pybind11;

namespace alx::py_bind {

void bind_core(py::module_& m);
void bind_augment(py::module_& m);
void bind_sampling(py::module_& m);
void bind_training(py::module_& m);
void bind_loop(py::module_& m);

}  // namespace alx::py_bind
namespace alx::augment {
class Pipeline;
}
namespace alx::py_bind {

/// A pipeline argument: an alx.Pipeline, a list of {name, params} dicts, a YAML file
/// path, or None (no pipeline: images are only converted to tensors).
std::shared_ptr<const augment::Pipeline> pipeline_from(py::handle obj, const char* name);

// ------------------------------------------------------------------ tensors

/// What a tensor argument may be.
enum class Kind {
  kFloat,  ///< float32 / float64 kept as they are; other real dtypes → float32
  kFloat32,  ///< always float32 (float64 and others converted)
  kBool,
  kInt64,
};

/// numpy array, torch tensor or nested list → at::Tensor on its own device.
/// Contiguous (or positively strided) float32/float64 numpy arrays and CPU torch tensors
/// are not copied: the tensor views the numpy buffer and keeps the array alive.
/// `name` names the argument in messages; `ndims` lists accepted ranks (empty: any);
/// Throws alx::InvalidArgument (ValueError) naming the argument on a wrong rank or dtype.
/// Call with the GIL held.
/// `shape` is the expected shape as the docs write it ("[N, C] or [N, T, C]").
torch::Tensor to_tensor(py::handle obj, const char* name, Kind kind,
                        std::initializer_list<int64_t> ndims = {}, const char* shape = "");

/// CPU tensor → numpy array sharing its memory (the array keeps the tensor alive).
py::array to_numpy(const torch::Tensor& t);

/// Indices (int sequence / numpy / tensor) → std::vector<int64_t>.
std::vector<int64_t> to_indices(py::handle obj, const char* name);
/// Int labels → std::vector<int>.
std::vector<int> to_ints(py::handle obj, const char* name);

/// cv::Mat (8-bit or float32, 1–4 channels) → numpy [H, W] or [H, W, C] (a copy).
py::array mat_to_numpy(const cv::Mat& mat);
/// numpy uint8 / float32 [H, W] or [H, W, C] → cv::Mat (a copy; other dtypes → float32).
cv::Mat numpy_to_mat(py::handle obj, const char* name);

/// "shape (3, 4) dtype float32" for messages.
std::string describe(py::handle obj);

// ------------------------------------------------------------------ YAML

/// Python value (dict, list, tuple, str, bool, int, float, None, numpy scalars,
/// os.PathLike) → YAML node. Throws alx::InvalidArgument for anything else.
YAML::Node to_yaml(py::handle obj, const std::string& where = "");
/// YAML node → Python value (scalars become bool, int, float or str, as they read).
py::object from_yaml(const YAML::Node& node);

/// A configuration given as a dict, a YAML file path (str / os.PathLike) or None:
/// the node and the context messages name ("<python>" or the file).
struct ConfigSource {
  YAML::Node node;
  config::Context ctx;
};
/// `key`, when not empty, selects that top-level section (e.g. "trainer").
ConfigSource config_source(py::handle obj, const std::string& key = "");

// ------------------------------------------------------------------ options structs

namespace detail {

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

template <class T>
py::object field_to_python(const T& value) {
  if constexpr (std::is_same_v<T, YAML::Node>) {
    return from_yaml(value);
  } else if constexpr (is_options_v<T>) {
    py::dict d;
    const_cast<T&>(value).visit([&](const char* key, auto& field, auto&&...) {
      d[key] = field_to_python(field);
    });
    return std::move(d);
  } else {
    return py::cast(value);
  }
}

/// Keys of an options struct, in `visit` order, with their help lines.
template <class Opts>
std::vector<std::pair<std::string, std::string>> option_keys() {
  std::vector<std::pair<std::string, std::string>> keys;
  Opts o;
  o.visit([&](const char* key, auto&, const char* help = "", Range = {}) {
    keys.emplace_back(key, help);
  });
  return keys;
}

}  // namespace detail

/// Every field of an options struct as a dict (nested options become nested dicts).
template <class Opts>
py::dict options_to_dict(const Opts& opts) {
  return py::reinterpret_borrow<py::dict>(detail::field_to_python(opts));
}

/// Updates `opts` from a mapping node, validating types and ranges (alx::ConfigError,
/// i.e. ValueError, naming the key).
template <class Opts>
void update_options(Opts& opts, const YAML::Node& node, const config::Context& ctx) {
  config::read_into(node, opts, ctx);
}

/// Options from a Python value: an Opts instance, a dict, a YAML file path, or None
/// (defaults); `kwargs` (may be empty) override single keys.
template <class Opts>
Opts options_from(py::handle obj, const py::kwargs& kwargs = {}, const std::string& key = "") {
  Opts opts;
  if (obj && !obj.is_none()) {
    if (py::isinstance<Opts>(obj)) {
      opts = obj.cast<Opts>();
    } else {
      ConfigSource src = config_source(obj, key);
      update_options(opts, src.node, src.ctx);
    }
  }
  if (kwargs && py::len(kwargs) > 0) update_options(opts, to_yaml(kwargs), {"<python>", ""});
  return opts;
}

/// Binds an options struct as a Python class: `Opts(**kwargs)`, one property per field
/// (setting validates like YAML does), `to_dict()`, `from_yaml(path_or_dict)`, `help()`,
/// `__repr__` and `__eq__` (by value). No per-field code: everything comes from `visit`.
template <class Opts>
py::class_<Opts> bind_options(py::module_& m, const char* name, const char* doc) {
  const auto keys = detail::option_keys<Opts>();
  std::string full_doc = std::string(doc) + "\n\nFields (keyword arguments):\n";
  for (const auto& line : config::help<Opts>()) full_doc += "  " + line + "\n";
  py::class_<Opts> cls(m, name, full_doc.c_str());
  cls.def(py::init([](py::kwargs kwargs) { return options_from<Opts>(py::none(), kwargs); }),
          "Options with defaults, overridden by keyword arguments (validated).")
      .def("to_dict", [](const Opts& o) { return options_to_dict(o); },
           "Every field as a dict (the same keys YAML uses).")
      .def("copy", [](const Opts& o) { return Opts(o); })
      .def_static("from_yaml",
                  [](py::handle src, const std::string& key) {
                    return options_from<Opts>(src, py::kwargs(), key);
                  },
                  py::arg("source"), py::arg("key") = "",
                  "Reads the options from a dict or a YAML file path (unknown keys are errors);\n"
                  "`key` selects a top-level section, e.g. 'trainer'.")
      .def_static("help", [] { return config::help<Opts>(); },
                  "One line per field: 'key: help (type, default value)'.")
      .def("__eq__", [](const Opts& a, const Opts& b) {
        return YAML::Dump(config::write(a)) == YAML::Dump(config::write(b));
      })
      .def("__repr__", [name](const Opts& o) {
        std::string s = std::string(name) + "(";
        bool first = true;
        for (auto item : options_to_dict(o)) {
          s += (first ? "" : ", ") + std::string(py::str(item.first)) + "=" +
               std::string(py::repr(item.second));
          first = false;
        }
        return s + ")";
      });
  for (const auto& [key, help] : keys) {
    cls.def_property(
        key.c_str(),
        [key = key](const Opts& o) {
          py::object out = py::none();
          const_cast<Opts&>(o).visit([&](const char* k, auto& field, auto&&...) {
            if (key == k) out = detail::field_to_python(field);
          });
          return out;
        },
        [key = key](Opts& o, py::handle value) {
          if (value.is_none())  // YAML reads null as "keep the default": say so instead
            throw InvalidArgument(key + ": cannot be set to None");
          YAML::Node node(YAML::NodeType::Map);
          node[key] = to_yaml(value, key);
          update_options(o, node, {"<python>", ""});
        },
        help.c_str());
  }
  return cls;
}

}  // namespace alx::py_bind
