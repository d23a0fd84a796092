// bindings/bind_augment.cpp — augmentation pipelines built from YAML or Python lists.
#include "common.h"

#include <alx/augment/pipeline.h>
#include <alx/augment/random.h>
#include <alx/augment/tensor.h>

#include <fmt/format.h>

#include <memory>

namespace alx::py_bind {

using augment::AugmentConfig;
using augment::Pipeline;

std::shared_ptr<const Pipeline> pipeline_from(py::handle obj, const char* name) {
  if (!obj || obj.is_none()) return nullptr;
  if (py::isinstance<Pipeline>(obj)) return obj.cast<std::shared_ptr<Pipeline>>();
  ConfigSource src = config_source(obj);
  return std::make_shared<Pipeline>(Pipeline::from_yaml(src.node, src.ctx));
}

namespace {

constexpr const char* kPipelineDoc = R"doc(A sequence of image transforms with explicit seeds.

Built from a list of {"name": ..., <params>} dicts (the YAML form), or a YAML file path:

    train = alx.Pipeline([{"name": "hflip", "p": 0.5},
                          {"name": "random_resized_crop", "height": 28, "width": 28,
                           "scale": [0.8, 1.0]}])
    out = train.apply(image, seed=7)   # image: numpy uint8/float32 [H, W] or [H, W, C]

An unknown name or parameter raises alx.ConfigError (a ValueError) naming it.
transform_names() lists the transforms, transform_help(name) their parameters.)doc";

}  // namespace

void bind_augment(py::module_& m) {
  py::class_<Pipeline, std::shared_ptr<Pipeline>>(m, "Pipeline", kPipelineDoc)
      .def(py::init([](py::handle config) {
             auto p = pipeline_from(config, "config");
             return p ? std::make_shared<Pipeline>(*p) : std::make_shared<Pipeline>();
           }),
           py::arg("config") = py::none())
      .def_static("from_yaml",
                  [](py::handle source, const std::string& key) {
                    ConfigSource src = config_source(source, key);
                    return std::make_shared<Pipeline>(Pipeline::from_yaml(src.node, src.ctx));
                  },
                  py::arg("source"), py::arg("key") = "",
                  "From a list, or a YAML file (with `key`, e.g. 'augment', selecting a section).")
      .def("apply",
           [](const Pipeline& p, py::handle image, uint64_t seed, int64_t epoch, int64_t item) {
             cv::Mat in = numpy_to_mat(image, "image");
             cv::Mat out;
             {
               py::gil_scoped_release nogil;
               auto rng = augment::sample_rng(seed, epoch, item);
               out = p.apply(in, rng);
             }
             return mat_to_numpy(out);
           },
           py::arg("image"), py::kw_only(), py::arg("seed") = 0, py::arg("epoch") = 0, py::arg("item") = 0,
           "image: [H, W] or [H, W, C] uint8/float32 (BGR) -> transformed numpy image. The random draws "
           "come from (seed, epoch, item), as in the batch loader.")
      .def("to_yaml", [](const Pipeline& p) { return from_yaml(p.to_yaml()); },
           "The list of {name, params} that rebuilds an equivalent pipeline.")
      .def("describe", &Pipeline::describe)
      .def("__len__", &Pipeline::size)
      .def_property_readonly("names", [](const Pipeline& p) {
        std::vector<std::string> names;
        for (const auto& t : p.transforms()) names.push_back(t->name());
        return names;
      })
      .def("__repr__", [](const Pipeline& p) { return "<alx.Pipeline:\n" + p.describe() + ">"; });

  py::class_<AugmentConfig>(m, "AugmentConfig", "The train (random) and eval (deterministic) pipelines of a run.")
      .def(py::init([](py::handle config) {
             if (config.is_none()) return AugmentConfig{};
             ConfigSource src = config_source(config);
             return AugmentConfig::from_yaml(src.node, src.ctx);
           }),
           py::arg("config") = py::none(), "From a dict {'train': [...], 'eval': [...]} or a YAML file.")
      .def_static("from_yaml",
                  [](py::handle source, const std::string& key) {
                    ConfigSource src = config_source(source, key);
                    return AugmentConfig::from_yaml(src.node, src.ctx);
                  },
                  py::arg("source"), py::arg("key") = "")
      .def_property(
          "train", [](const AugmentConfig& c) { return std::make_shared<Pipeline>(c.train); },
          [](AugmentConfig& c, const Pipeline& p) { c.train = p; })
      .def_property(
          "eval", [](const AugmentConfig& c) { return std::make_shared<Pipeline>(c.eval); },
          [](AugmentConfig& c, const Pipeline& p) { c.eval = p; })
      .def("to_yaml", [](const AugmentConfig& c) { return from_yaml(c.to_yaml()); });

  m.def("transform_names", &augment::transform_names, "Every registered transform name, sorted.");
  m.def("transform_help", &augment::transform_help, py::arg("name"),
        "The parameters of a transform: 'key: help (type, default value)'.");
  m.def(
      "image_to_tensor",
      [](py::handle image) { return augment::to_tensor(numpy_to_mat(image, "image")); },
      py::arg("image"),
      "image [H, W] or [H, W, C] (BGR) -> torch.Tensor [C, H, W] float32, RGB; uint8 scaled to [0, 1].");
}

}  // namespace alx::py_bind
