// bindings/module.cpp — the one PYBIND11_MODULE: error translation, then every module's
// bindings (bind_<module>.cpp mirrors <module>/ of the C++ tree).
#include "common.h"

#include <alx/core/error.h>

PYBIND11_MODULE(_alx, m) {
  m.doc() = "alx: active learning for image labeling (C++ core; numpy / torch in and out).";
#ifdef ALX_VERSION
  m.attr("__version__") = ALX_VERSION;
#endif

  // Python classes for the alx errors, subclassing what the C++ base maps to: a caller
  // can catch ValueError / OSError, or the precise alx class. Same message as in C++.
  // Leaked on purpose: a static py::object would be released after the interpreter is gone.
  static auto* io_error = new py::exception<alx::IoError>(m, "IoError", PyExc_OSError);
  static auto* config_error = new py::exception<alx::ConfigError>(m, "ConfigError", PyExc_ValueError);
  static auto* format_error = new py::exception<alx::FormatError>(m, "FormatError", PyExc_ValueError);
  // Translators run newest first: the generic ones go in first, the precise ones after.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const c10::Error& e) {
      // LibTorch errors: the message without LibTorch's C++ backtrace.
      PyErr_SetString(PyExc_RuntimeError, e.what_without_backtrace());
    } catch (const alx::InternalError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const alx::IoError& e) {
      (*io_error)(e.what());
    } catch (const alx::ConfigError& e) {
      (*config_error)(e.what());
    } catch (const alx::FormatError& e) {
      (*format_error)(e.what());
    }
  });

  alx::py_bind::bind_core(m);
  alx::py_bind::bind_augment(m);
  alx::py_bind::bind_sampling(m);
  alx::py_bind::bind_training(m);
  alx::py_bind::bind_loop(m);
}
