// bindings/common.cpp — numpy / torch conversion and Python ↔ YAML (see common.h).
#include "common.h"

#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <cstdlib>
#include <filesystem>

namespace alx::py_bind {

namespace {

std::string type_name(py::handle obj) {
  return py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>();
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

/// Keeps a numpy array alive for as long as a tensor views its memory.
void release_pyobject(void* p) {
  if (!Py_IsInitialized()) return;  // interpreter gone: nothing left to free safely
  py::gil_scoped_acquire gil;
  Py_DECREF(static_cast<PyObject*>(p));
}

torch::ScalarType numpy_scalar_type(const py::dtype& dt) {
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'f' && size == 4) return torch::kFloat32;
  if (kind == 'f' && size == 8) return torch::kFloat64;
  if (kind == 'f' && size == 2) return torch::kFloat16;
  if (kind == 'b') return torch::kBool;
  if (kind == 'i' && size == 8) return torch::kInt64;
  if (kind == 'i' && size == 4) return torch::kInt32;
  if (kind == 'i' && size == 2) return torch::kInt16;
  if (kind == 'i' && size == 1) return torch::kInt8;
  if (kind == 'u' && size == 1) return torch::kUInt8;
  return c10::ScalarType::Undefined;  // unsigned wider than 8 bits, complex, strings, objects
}

/// The dtype `kind` wants for a tensor of type `st`, or kUndefined when st is refused.
torch::ScalarType wanted(Kind kind, torch::ScalarType st) {
  const bool real = st != c10::ScalarType::Undefined && !c10::isComplexType(st);
  const bool integral = real && c10::isIntegralType(st, /*includeBool=*/false);
  switch (kind) {
    case Kind::kFloat:
      if (st == torch::kFloat32 || st == torch::kFloat64) return st;
      return real ? torch::kFloat32 : c10::ScalarType::Undefined;
    case Kind::kFloat32:
      return real ? torch::kFloat32 : c10::ScalarType::Undefined;
    case Kind::kBool:
      return st == torch::kBool ? st : c10::ScalarType::Undefined;
    case Kind::kInt64:
      return integral ? torch::kInt64 : c10::ScalarType::Undefined;
  }
  return c10::ScalarType::Undefined;
}

const char* kind_text(Kind kind) {
  switch (kind) {
    case Kind::kFloat: return "a real-valued array (float32 or float64)";
    case Kind::kFloat32: return "a real-valued array";
    case Kind::kBool: return "a boolean array";
    case Kind::kInt64: return "an integer array";
  }
  return "";
}

}  // namespace

std::string describe(py::handle obj) {
  if (THPVariable_Check(obj.ptr())) {
    const auto& t = THPVariable_Unpack(obj.ptr());
    return fmt::format("a torch.Tensor of shape {} and dtype {}", shape_text(t.sizes().vec()),
                       std::string(c10::toString(t.scalar_type())));
  }
  if (py::isinstance<py::array>(obj)) {
    auto a = py::reinterpret_borrow<py::array>(obj);
    std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
    return fmt::format("an array of shape {} and dtype {}", shape_text(shape),
                       py::str(a.dtype()).cast<std::string>());
  }
  return "a " + type_name(obj);
}

torch::Tensor to_tensor(py::handle obj, const char* name, Kind kind,
                        std::initializer_list<int64_t> ndims, const char* shape) {
  torch::Tensor t;
  if (THPVariable_Check(obj.ptr())) {
    t = THPVariable_Unpack(obj.ptr()).detach();
    const auto st = wanted(kind, t.scalar_type());
    if (st == c10::ScalarType::Undefined)
      throw InvalidArgument(fmt::format("{} must be {}, got {}", name, kind_text(kind), describe(obj)));
    if (st != t.scalar_type()) t = t.to(st);
  } else {
    if (obj.is_none()) throw InvalidArgument(fmt::format("{} must be an array, got None", name));
    py::array arr = py::array::ensure(obj);
    if (!arr) {
      PyErr_Clear();
      throw InvalidArgument(fmt::format("{} must be a numpy array or torch tensor, got {}", name,
                                        describe(obj)));
    }
    const auto have = numpy_scalar_type(arr.dtype());
    const auto st = wanted(kind, have);
    if (st == c10::ScalarType::Undefined)
      throw InvalidArgument(fmt::format("{} must be {}, got {}", name, kind_text(kind), describe(arr)));
    // A view needs native byte order, alignment and non-negative strides in whole elements.
    bool viewable = st == have && arr.dtype().attr("isnative").cast<bool>() &&
                    (arr.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_);
    for (py::ssize_t d = 0; viewable && d < arr.ndim(); ++d)
      viewable = arr.strides(d) >= 0 && arr.strides(d) % arr.itemsize() == 0;
    if (!viewable) {
      py::module_ np = py::module_::import("numpy");
      py::dtype target = st == torch::kFloat32 ? py::dtype::of<float>()
                         : st == torch::kFloat64 ? py::dtype::of<double>()
                         : st == torch::kInt64   ? py::dtype::of<int64_t>()
                                                 : py::dtype::of<bool>();
      arr = np.attr("ascontiguousarray")(arr, target);
    }
    std::vector<int64_t> sizes(arr.ndim()), strides(arr.ndim());
    for (py::ssize_t d = 0; d < arr.ndim(); ++d) {
      sizes[d] = arr.shape(d);
      strides[d] = arr.strides(d) / arr.itemsize();
    }
    PyObject* owner = arr.ptr();
    Py_INCREF(owner);
    t = torch::from_blob(const_cast<void*>(arr.data()), sizes, strides,
                         [owner](void*) { release_pyobject(owner); },
                         torch::TensorOptions().dtype(st));
  }
  if (ndims.size() > 0) {
    bool ok = false;
    for (auto n : ndims) ok = ok || t.dim() == n;
    if (!ok)
      throw InvalidArgument(fmt::format("{} must have shape {}, got {}", name, shape,
                                        describe(obj)));
  }
  return t;
}

py::array to_numpy(const torch::Tensor& in) {
  torch::Tensor t = in.detach();
  if (!t.device().is_cpu()) t = t.cpu();
  py::dtype dt;
  switch (t.scalar_type()) {
    case torch::kFloat32: dt = py::dtype::of<float>(); break;
    case torch::kFloat64: dt = py::dtype::of<double>(); break;
    case torch::kInt64: dt = py::dtype::of<int64_t>(); break;
    case torch::kInt32: dt = py::dtype::of<int32_t>(); break;
    case torch::kUInt8: dt = py::dtype::of<uint8_t>(); break;
    case torch::kBool: dt = py::dtype::of<bool>(); break;
    default:
      t = t.to(torch::kFloat32);
      dt = py::dtype::of<float>();
  }
  std::vector<py::ssize_t> shape(t.sizes().begin(), t.sizes().end());
  std::vector<py::ssize_t> strides(t.dim());
  for (int64_t d = 0; d < t.dim(); ++d) strides[d] = t.stride(d) * t.element_size();
  auto* keep = new torch::Tensor(t);
  py::capsule base(keep, [](void* p) { delete static_cast<torch::Tensor*>(p); });
  return py::array(dt, shape, strides, t.data_ptr(), base);
}

std::vector<int64_t> to_indices(py::handle obj, const char* name) {
  torch::Tensor t = to_tensor(obj, name, Kind::kInt64, {0, 1}, "[K]").reshape({-1}).contiguous();
  if (!t.device().is_cpu()) t = t.cpu();
  const int64_t* p = t.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + t.numel());
}

std::vector<int> to_ints(py::handle obj, const char* name) {
  std::vector<int64_t> v = to_indices(obj, name);
  return std::vector<int>(v.begin(), v.end());
}

py::array mat_to_numpy(const cv::Mat& in) {
  cv::Mat mat = in.isContinuous() ? in : in.clone();
  const int c = mat.channels();
  std::vector<py::ssize_t> shape{mat.rows, mat.cols};
  if (c > 1) shape.push_back(c);
  switch (mat.depth()) {
    case CV_8U: {
      py::array_t<uint8_t> out(shape);
      std::memcpy(out.mutable_data(), mat.data, mat.total() * mat.elemSize());
      return std::move(out);
    }
    case CV_32F: {
      py::array_t<float> out(shape);
      std::memcpy(out.mutable_data(), mat.data, mat.total() * mat.elemSize());
      return std::move(out);
    }
    default: {
      cv::Mat f;
      mat.convertTo(f, CV_MAKETYPE(CV_32F, c));
      return mat_to_numpy(f);
    }
  }
}

cv::Mat numpy_to_mat(py::handle obj, const char* name) {
  py::array arr = py::array::ensure(obj);
  if (!arr) {
    PyErr_Clear();
    throw InvalidArgument(fmt::format("{} must be an image array [H, W] or [H, W, C], got {}", name,
                                      describe(obj)));
  }
  if (arr.ndim() != 2 && arr.ndim() != 3)
    throw InvalidArgument(fmt::format("{} must have shape [H, W] or [H, W, C], got {}", name, describe(arr)));
  const int channels = arr.ndim() == 3 ? static_cast<int>(arr.shape(2)) : 1;
  if (channels < 1 || channels > 4)
    throw InvalidArgument(fmt::format("{} must have 1 to 4 channels, got {}", name, describe(arr)));
  const bool u8 = arr.dtype().kind() == 'u' && arr.itemsize() == 1;
  py::module_ np = py::module_::import("numpy");
  arr = np.attr("ascontiguousarray")(arr, u8 ? py::dtype::of<uint8_t>() : py::dtype::of<float>());
  cv::Mat view(static_cast<int>(arr.shape(0)), static_cast<int>(arr.shape(1)),
               CV_MAKETYPE(u8 ? CV_8U : CV_32F, channels), const_cast<void*>(arr.data()));
  return view.clone();
}

// ------------------------------------------------------------------ YAML

YAML::Node to_yaml(py::handle obj, const std::string& where) {
  const std::string at = where.empty() ? "value" : where;
  if (obj.is_none()) return YAML::Node(YAML::NodeType::Null);
  py::module_ np = py::module_::import("numpy");
  if (py::isinstance<py::bool_>(obj) || py::isinstance(obj, np.attr("bool_")))
    return YAML::Node(obj.cast<bool>() ? "true" : "false");
  if (py::isinstance<py::str>(obj)) return YAML::Node(obj.cast<std::string>());
  if (py::isinstance<py::int_>(obj) || py::isinstance(obj, np.attr("integer")))
    return YAML::Node(std::string(py::str(py::module_::import("builtins").attr("int")(obj))));
  if (py::isinstance<py::float_>(obj) || py::isinstance(obj, np.attr("floating")))
    return YAML::Node(fmt::format("{:.17g}", obj.cast<double>()));
  if (py::isinstance(obj, py::module_::import("os").attr("PathLike")))
    return YAML::Node(py::str(py::module_::import("os").attr("fspath")(obj)).cast<std::string>());
  if (py::isinstance<py::dict>(obj) ||
      py::isinstance(obj, py::module_::import("collections.abc").attr("Mapping"))) {
    YAML::Node node(YAML::NodeType::Map);
    for (auto item : py::reinterpret_borrow<py::object>(obj).attr("items")()) {
      auto kv = py::reinterpret_borrow<py::tuple>(item);
      const std::string key = py::str(kv[0]).cast<std::string>();
      node[key] = to_yaml(kv[1], where.empty() ? key : where + "." + key);
    }
    return node;
  }
  if (py::isinstance<py::array>(obj)) return to_yaml(obj.attr("tolist")(), where);
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {
    YAML::Node node(YAML::NodeType::Sequence);
    std::size_t i = 0;
    for (auto item : obj) node.push_back(to_yaml(item, at + "." + std::to_string(i++)));
    return node;
  }
  throw InvalidArgument(fmt::format("{}: cannot use a {} as a configuration value (expected a "
                                    "number, string, bool, list or dict)",
                                    at, type_name(obj)));
}

py::object from_yaml(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return py::none();
    case YAML::NodeType::Sequence: {
      py::list out;
      for (const auto& item : node) out.append(from_yaml(item));
      return std::move(out);
    }
    case YAML::NodeType::Map: {
      py::dict out;
      for (const auto& kv : node) out[py::str(kv.first.Scalar())] = from_yaml(kv.second);
      return std::move(out);
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return py::str(s);  // quoted in the YAML text: a string
      long long i{};
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
      if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return py::int_(i);
      if (!s.empty()) {
        char* e = nullptr;
        const double d = std::strtod(s.c_str(), &e);
        if (e == s.c_str() + s.size()) return py::float_(d);
      }
      if (s == "true" || s == "True") return py::bool_(true);
      if (s == "false" || s == "False") return py::bool_(false);
      return py::str(s);
    }
  }
  return py::none();
}

ConfigSource config_source(py::handle obj, const std::string& key) {
  ConfigSource src;
  if (py::isinstance<py::str>(obj) || py::isinstance(obj, py::module_::import("os").attr("PathLike"))) {
    const std::string path = py::str(py::module_::import("os").attr("fspath")(obj)).cast<std::string>();
    src.node.reset(config::load_file(path));
    src.ctx = {path, ""};
  } else {
    src.node.reset(to_yaml(obj));
    src.ctx = {"<python>", ""};
  }
  if (!key.empty()) {
    if (!src.node.IsMap())
      throw ConfigError(fmt::format("{}: expected a mapping with a '{}' section", src.ctx.file, key));
    const YAML::Node& root = src.node;  // const: a missing key must not be inserted
    YAML::Node section = root[key];
    src.node.reset(section);
    src.ctx = src.ctx.child(key);
  }
  return src;
}

}  // namespace alx::py_bind
