// bindings/bind_core.cpp — Schema, Pool, image sources, readers / writers, Store, logging.
#include "common.h"

#include <alx/core/dataset.h>
#include <alx/core/image_source.h>
#include <alx/core/io/coco.h>
#include <alx/core/io/csv.h>
#include <alx/core/io/cvat.h>
#include <alx/core/io/detection.h>
#include <alx/core/io/folder.h>
#include <alx/core/io/idx.h>
#include <alx/core/io/label_studio.h>
#include <alx/core/io/next_batch.h>
#include <alx/core/log.h>
#include <alx/core/pool.h>
#include <alx/core/schema.h>
#include <alx/core/store.h>

#include <fmt/format.h>

#include <memory>

namespace alx::py_bind {

namespace {

using namespace pybind11::literals;

template <class T>
py::array_t<T> vector_to_numpy(const std::vector<T>& v) {
  py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

FileImageOptions file_image_options(const std::string& color, const std::string& on_error) {
  FileImageOptions o;
  if (color == "unchanged") o.color = ColorMode::kUnchanged;
  else if (color == "gray") o.color = ColorMode::kGray;
  else if (color == "color") o.color = ColorMode::kColor;
  else throw InvalidArgument(fmt::format("color must be unchanged, gray or color, got '{}'", color));
  if (on_error == "throw") o.on_error = OnError::kThrow;
  else if (on_error == "skip") o.on_error = OnError::kSkip;
  else throw InvalidArgument(fmt::format("on_error must be throw or skip, got '{}'", on_error));
  return o;
}

/// Images `indices` of a source as one array [K, H, W(, C)] (all of one size) or a list.
py::object load_many(const ImageSource& src, const std::vector<int64_t>& indices) {
  std::vector<cv::Mat> mats(indices.size());
  {
    py::gil_scoped_release nogil;
    for (std::size_t i = 0; i < indices.size(); ++i) {
      if (indices[i] < 0 || indices[i] >= src.size())
        throw InvalidArgument(fmt::format("image index {} is out of range [0, {})", indices[i], src.size()));
      mats[i] = src.load(indices[i]);
    }
  }
  bool same = !mats.empty();
  for (const auto& m : mats)
    same = same && !m.empty() && m.size() == mats[0].size() && m.type() == mats[0].type();
  if (!same) {
    py::list out;
    for (const auto& m : mats) out.append(m.empty() ? py::object(py::none()) : py::object(mat_to_numpy(m)));
    return std::move(out);
  }
  py::list parts;
  for (const auto& m : mats) parts.append(mat_to_numpy(m));
  return py::module_::import("numpy").attr("stack")(parts);
}

py::dict round_to_dict(const RoundRecord& r) {
  py::dict d;
  d["round"] = r.round;
  d["selected"] = vector_to_numpy(r.selected);
  d["selected_ids"] = r.selected_ids;
  d["scores"] = vector_to_numpy(r.scores);
  d["model_version"] = r.model_version;
  d["metrics"] = r.metrics;
  d["seconds"] = r.seconds;
  d["note"] = r.note;
  return d;
}

}  // namespace

void bind_core(py::module_& m) {
  // ---------------------------------------------------------------- logging
  py::module_ log = m.def_submodule("log", "Logging of alx (spdlog, to stderr).");
  py::enum_<log::Level>(log, "Level")
      .value("trace", log::Level::kTrace)
      .value("debug", log::Level::kDebug)
      .value("info", log::Level::kInfo)
      .value("warn", log::Level::kWarn)
      .value("error", log::Level::kError)
      .value("off", log::Level::kOff);
  log.def("set_level", [](const std::string& level) {
    static const std::map<std::string, log::Level> levels{
        {"trace", log::Level::kTrace}, {"debug", log::Level::kDebug}, {"info", log::Level::kInfo},
        {"warn", log::Level::kWarn},   {"error", log::Level::kError}, {"off", log::Level::kOff}};
    auto it = levels.find(level);
    if (it == levels.end())
      throw InvalidArgument(fmt::format("log level must be trace, debug, info, warn, error or off, got '{}'", level));
    log::set_level(it->second);
  }, py::arg("level"), "Sets the level: trace, debug, info, warn, error or off.");

  // ---------------------------------------------------------------- Schema
  py::class_<Schema>(m, "Schema", "The ordered class names; index i is the label value in a Pool.")
      .def(py::init<>())
      .def(py::init<std::vector<std::string>>(), py::arg("names"),
           "ValueError on an empty or duplicate name.")
      .def("__len__", &Schema::size)
      .def_property_readonly("names", &Schema::names)
      .def("name", &Schema::name, py::arg("index"))
      .def("index", &Schema::index, py::arg("name"), "ValueError listing the classes if absent.")
      .def("find", &Schema::find, py::arg("name"), "Index of name, or -1.")
      .def("__contains__", &Schema::contains)
      .def("add", &Schema::add, py::arg("name"), "Appends a class; returns its index.")
      .def("__iter__", [](const Schema& s) { return py::iter(py::cast(s.names())); })
      .def("__getitem__", &Schema::name)
      .def(py::self == py::self)
      .def("__repr__", [](const Schema& s) { return "Schema(" + py::repr(py::cast(s.names())).cast<std::string>() + ")"; });
  py::implicitly_convertible<py::list, Schema>();

  // ---------------------------------------------------------------- annotations
  py::class_<Box>(m, "Box", "Axis-aligned box in pixels: (x1, y1) top-left, (x2, y2) bottom-right.")
      .def(py::init([](float x1, float y1, float x2, float y2) { return Box{x1, y1, x2, y2}; }),
           py::arg("x1") = 0, py::arg("y1") = 0, py::arg("x2") = 0, py::arg("y2") = 0)
      .def_readwrite("x1", &Box::x1).def_readwrite("y1", &Box::y1)
      .def_readwrite("x2", &Box::x2).def_readwrite("y2", &Box::y2)
      .def_property_readonly("area", &Box::area)
      .def(py::self == py::self)
      .def("__repr__", [](const Box& b) { return fmt::format("Box({}, {}, {}, {})", b.x1, b.y1, b.x2, b.y2); });
  py::class_<Object>(m, "Object", "A labeled or predicted object: class, box, polygons, score.")
      .def(py::init([](int label, Box box, std::vector<std::vector<std::pair<float, float>>> polygons, float score) {
             Object o;
             o.label = label;
             o.box = box;
             for (const auto& poly : polygons) {
               Polygon p;
               for (auto [x, y] : poly) p.push_back(Point{x, y});
               o.polygons.push_back(std::move(p));
             }
             o.score = score;
             return o;
           }),
           py::arg("label") = -1, py::arg("box") = Box{}, py::arg("polygons") = std::vector<std::vector<std::pair<float, float>>>{},
           py::arg("score") = 1.f)
      .def_readwrite("label", &Object::label)
      .def_readwrite("box", &Object::box)
      .def_readwrite("score", &Object::score)
      .def_property_readonly("polygons", [](const Object& o) {
        py::list out;
        for (const auto& poly : o.polygons) {
          py::list pts;
          for (const auto& p : poly) pts.append(py::make_tuple(p.x, p.y));
          out.append(pts);
        }
        return out;
      }, "[(x, y), ...] per polygon")
      .def("__repr__", [](const Object& o) {
        return fmt::format("Object(label={}, box=({}, {}, {}, {}), polygons={}, score={})", o.label, o.box.x1,
                           o.box.y1, o.box.x2, o.box.y2, o.polygons.size(), o.score);
      });

  // ---------------------------------------------------------------- Pool
  py::class_<Pool>(m, "Pool", R"doc(N items with stable string ids, a class label or none per item, and the
round each label arrived in. Indices 0..N-1 are the only index space.

    pool = alx.Pool(alx.Schema(["cat", "dog"]), ["a.png", "b.png", "c.png"])
    pool.add_labels([0, 2], [1, 0], round=1)
    pool.unlabeled()  # array([1]))doc")
      .def(py::init<>())
      .def(py::init<Schema, std::vector<std::string>>(), py::arg("schema"), py::arg("ids"))
      .def("__len__", &Pool::size)
      .def_property_readonly("size", &Pool::size)
      .def_property_readonly("schema", py::overload_cast<>(&Pool::mutable_schema), py::return_value_policy::reference_internal)
      .def_property_readonly("ids", &Pool::ids)
      .def("id", &Pool::id, py::arg("index"))
      .def("find", &Pool::find, py::arg("id"), "Index of an id, or None.")
      .def("index", &Pool::index, py::arg("id"), "Index of an id; ValueError if absent.")
      .def("label", &Pool::label, py::arg("index"), "Label of item i, or -1.")
      .def("label_round", &Pool::label_round, py::arg("index"))
      .def("is_labeled", &Pool::is_labeled, py::arg("index"))
      .def_property_readonly("labels", [](const Pool& p) { return vector_to_numpy(p.labels()); },
                             "[N] int32 labels (-1 = unlabeled), a copy")
      .def_property_readonly("label_rounds", [](const Pool& p) { return vector_to_numpy(p.label_rounds()); },
                             "[N] int32 rounds (-1 = unlabeled), a copy")
      .def("labeled", [](const Pool& p) { return vector_to_numpy(p.labeled()); }, "Labeled indices [K], ascending.")
      .def("unlabeled", [](const Pool& p) { return vector_to_numpy(p.unlabeled()); },
           "Unlabeled indices [K], ascending.")
      .def("labeled_mask", [](const Pool& p) {
        py::array_t<bool> out(static_cast<py::ssize_t>(p.size()));
        bool* o = out.mutable_data();
        for (int64_t i = 0; i < p.size(); ++i) o[i] = p.is_labeled(i);
        return out;
      }, "[N] bool, True where labeled (the `labeled` argument of select()).")
      .def_property_readonly("num_labeled", &Pool::num_labeled)
      .def_property_readonly("num_unlabeled", &Pool::num_unlabeled)
      .def("counts_per_class", [](const Pool& p) { return vector_to_numpy(p.counts_per_class()); })
      .def("add_labels",
           [](Pool& p, py::handle indices, py::handle labels, int round) {
             p.add_labels(to_indices(indices, "indices"), to_ints(labels, "labels"), round);
           },
           py::arg("indices"), py::arg("labels"), py::arg("round"),
           "Labels items (all-or-nothing: every index and label is validated first).")
      .def("add_label", &Pool::add_label, py::arg("index"), py::arg("label"), py::arg("round"))
      .def("remove_label", &Pool::remove_label, py::arg("index"))
      .def("clear_labels", &Pool::clear_labels)
      .def("objects", &Pool::objects, py::arg("index"))
      .def("set_objects", &Pool::set_objects, py::arg("index"), py::arg("objects"))
      .def_property_readonly("has_objects", &Pool::has_objects)
      .def("copy", [](const Pool& p) { return Pool(p); })
      .def(py::self == py::self)
      .def("__repr__", [](const Pool& p) {
        return fmt::format("<alx.Pool: {} items, {} labeled, {} classes>", p.size(), p.num_labeled(),
                           p.schema().size());
      });

  // ---------------------------------------------------------------- image sources
  py::class_<ImageSource, std::shared_ptr<ImageSource>>(m, "ImageSource",
      "Item index -> image (numpy uint8 [H, W] or [H, W, C], BGR as OpenCV decodes).")
      .def("__len__", &ImageSource::size)
      .def("load", [](const ImageSource& s, int64_t i) {
        if (i < 0 || i >= s.size())
          throw InvalidArgument(fmt::format("image index {} is out of range [0, {})", i, s.size()));
        cv::Mat mat;
        {
          py::gil_scoped_release nogil;
          mat = s.load(i);
        }
        return mat.empty() ? py::object(py::none()) : py::object(mat_to_numpy(mat));
      }, py::arg("index"), "Image i as numpy [H, W] or [H, W, C] (None if skipped).")
      .def("images", [](const ImageSource& s, py::handle indices) { return load_many(s, to_indices(indices, "indices")); },
           py::arg("indices"), "Images as one array [K, H, W(, C)] when all have one size, else a list.")
      .def("describe", &ImageSource::describe, py::arg("index"))
      .def("skipped", [](const ImageSource& s) { return vector_to_numpy(s.skipped()); });
  py::class_<MemoryImageSource, ImageSource, std::shared_ptr<MemoryImageSource>>(m, "MemoryImageSource")
      .def(py::init([](py::handle pixels) {
             py::array arr = py::array::ensure(pixels);
             if (!arr || (arr.ndim() != 3 && arr.ndim() != 4) || arr.dtype().kind() != 'u' || arr.itemsize() != 1) {
               PyErr_Clear();
               throw InvalidArgument(fmt::format("pixels must be uint8 [N, H, W] or [N, H, W, C], got {}", describe(pixels)));
             }
             arr = py::module_::import("numpy").attr("ascontiguousarray")(arr);
             auto bytes = std::make_shared<std::vector<uint8_t>>(static_cast<const uint8_t*>(arr.data()),
                                                                 static_cast<const uint8_t*>(arr.data()) + arr.nbytes());
             return std::make_shared<MemoryImageSource>(std::move(bytes), arr.shape(0), static_cast<int>(arr.shape(1)),
                                                        static_cast<int>(arr.shape(2)),
                                                        arr.ndim() == 4 ? static_cast<int>(arr.shape(3)) : 1);
           }),
           py::arg("pixels"), "Images held in memory: uint8 [N, H, W] or [N, H, W, C] (copied once).")
      .def_property_readonly("pixels", [](const MemoryImageSource& s) -> py::object {
        if (!s.pixels()) return py::none();
        std::vector<py::ssize_t> shape{s.size(), s.height(), s.width()};
        if (s.channels() > 1) shape.push_back(s.channels());
        py::array_t<uint8_t> out(shape);
        std::memcpy(out.mutable_data(), s.pixels()->data(), s.pixels()->size());
        return std::move(out);
      }, "All images as uint8 [N, H, W(, C)] (a copy), or None when built from a list.");
  py::class_<FileImageSource, ImageSource, std::shared_ptr<FileImageSource>>(m, "FileImageSource")
      .def(py::init([](const std::string& root, std::vector<std::string> paths, const std::string& color,
                       const std::string& on_error) {
             return std::make_shared<FileImageSource>(root, std::move(paths), file_image_options(color, on_error));
           }),
           py::arg("root"), py::arg("paths"), py::arg("color") = "unchanged", py::arg("on_error") = "throw",
           "Image files under root (paths escaping it are refused). color: unchanged, gray or color; "
           "on_error: throw or skip.")
      .def_property_readonly("root", [](const FileImageSource& s) { return s.root().string(); })
      .def("path", [](const FileImageSource& s, int64_t i) { return s.path(i).string(); });
  py::class_<SubsetImageSource, ImageSource, std::shared_ptr<SubsetImageSource>>(m, "SubsetImageSource")
      .def(py::init([](std::shared_ptr<ImageSource> base, py::handle indices) {
             return std::make_shared<SubsetImageSource>(std::move(base), to_indices(indices, "indices"));
           }),
           py::arg("base"), py::arg("indices"), "Items `indices` of base, re-indexed 0..K-1.");

  py::class_<Dataset>(m, "Dataset", "What every reader returns: a pool, its images, and the reader's notes.")
      .def(py::init([](Pool pool, std::shared_ptr<ImageSource> images, std::string source) {
             return Dataset{std::move(pool), std::move(images), std::move(source), {}};
           }),
           py::arg("pool"), py::arg("images"), py::arg("source") = "")
      .def_readwrite("pool", &Dataset::pool)
      .def_readwrite("images", &Dataset::images)
      .def_readwrite("source", &Dataset::source)
      .def_readwrite("notes", &Dataset::notes)
      .def("subset", [](const Dataset& d, py::handle indices) {
        std::vector<int64_t> idx = to_indices(indices, "indices");
        std::vector<std::string> ids;
        for (int64_t i : idx) ids.push_back(d.pool.id(i));
        Pool pool(d.pool.schema(), ids);
        for (std::size_t j = 0; j < idx.size(); ++j)
          if (d.pool.is_labeled(idx[j])) pool.add_label(static_cast<int64_t>(j), d.pool.label(idx[j]), d.pool.label_round(idx[j]));
        return Dataset{std::move(pool), std::make_shared<SubsetImageSource>(d.images, idx), d.source, {}};
      }, py::arg("indices"), "Items `indices` (labels kept) as a new Dataset indexed 0..K-1.")
      .def("__repr__", [](const Dataset& d) {
        return fmt::format("<alx.Dataset '{}': {} items, {} labeled, {} classes>", d.source, d.pool.size(),
                           d.pool.num_labeled(), d.pool.schema().size());
      });

  // ---------------------------------------------------------------- readers
  m.def("read_idx", [](const std::string& path) {
    io::IdxArray a;
    {
      py::gil_scoped_release nogil;
      a = io::read_idx(path);
    }
    std::vector<py::ssize_t> shape(a.shape.begin(), a.shape.end());
    py::array_t<uint8_t> out(shape);
    std::memcpy(out.mutable_data(), a.data->data(), a.data->size());
    return out;
  }, py::arg("path"), "An unsigned-byte IDX file (.gz or not) as a numpy uint8 array.");
  m.def("fashion_mnist_schema", &io::fashion_mnist_schema);
  m.attr("FASHION_MNIST_DIR") = io::kFashionMnistDir;
  m.def("load_fashion_mnist", &io::load_fashion_mnist, py::arg("dir") = std::string(io::kFashionMnistDir),
        py::arg("split") = "train", py::call_guard<py::gil_scoped_release>(),
        "Fashion-MNIST split 'train' (60,000) or 'test' (10,000): every label set (round 0), images in memory.");
  m.def("load_idx_dataset", &io::load_idx_dataset, py::arg("images_path"), py::arg("labels_path"),
        py::arg("schema"), py::arg("id_prefix"), py::call_guard<py::gil_scoped_release>());
  m.def("read_csv", [](const std::string& path, const std::string& images_root, const std::string& color,
                       const std::string& on_error) {
    io::CsvOptions o;
    o.images_root = images_root;
    o.images = file_image_options(color, on_error);
    py::gil_scoped_release nogil;
    return io::read_csv(path, o);
  }, py::arg("path"), py::arg("images_root") = "", py::arg("color") = "unchanged", py::arg("on_error") = "throw",
        "An 'image,label' table (classification or detection). Errors name the file and line.");
  m.def("read_folder_tree", [](const std::string& root, const std::string& color, const std::string& on_error,
                               bool root_images_unlabeled) {
    io::FolderOptions o;
    o.images = file_image_options(color, on_error);
    o.root_images_unlabeled = root_images_unlabeled;
    py::gil_scoped_release nogil;
    return io::read_folder_tree(root, o);
  }, py::arg("root"), py::arg("color") = "unchanged", py::arg("on_error") = "throw",
        py::arg("root_images_unlabeled") = true, "A folder-per-class tree (torchvision ImageFolder layout).");

  py::class_<io::ImageSize>(m, "ImageSize")
      .def(py::init([](int w, int h) { return io::ImageSize{w, h}; }), py::arg("width") = 0, py::arg("height") = 0)
      .def_readwrite("width", &io::ImageSize::width)
      .def_readwrite("height", &io::ImageSize::height)
      .def_property_readonly("known", &io::ImageSize::known)
      .def("__repr__", [](const io::ImageSize& s) { return fmt::format("ImageSize({}, {})", s.width, s.height); });

  // Label Studio
  bind_options<io::LabelStudioOptions>(m, "LabelStudioOptions", "How read_label_studio() reads an export.");
  py::class_<io::LabelStudioNames>(m, "LabelStudioNames", "Control / tag names results are matched with.")
      .def(py::init<>())
      .def_readwrite("choices_from_name", &io::LabelStudioNames::choices_from_name)
      .def_readwrite("rectangle_from_name", &io::LabelStudioNames::rectangle_from_name)
      .def_readwrite("polygon_from_name", &io::LabelStudioNames::polygon_from_name)
      .def_readwrite("to_name", &io::LabelStudioNames::to_name)
      .def_readwrite("data_key", &io::LabelStudioNames::data_key);
  py::class_<io::LabelStudioPrediction>(m, "LabelStudioPrediction")
      .def_readonly("model_version", &io::LabelStudioPrediction::model_version)
      .def_readonly("score", &io::LabelStudioPrediction::score)
      .def_readonly("label", &io::LabelStudioPrediction::label)
      .def_readonly("objects", &io::LabelStudioPrediction::objects);
  py::class_<io::LabelStudioExport>(m, "LabelStudioExport")
      .def_readwrite("dataset", &io::LabelStudioExport::dataset)
      .def_readwrite("names", &io::LabelStudioExport::names)
      .def_readonly("task_ids", &io::LabelStudioExport::task_ids)
      .def_readonly("image_refs", &io::LabelStudioExport::image_refs)
      .def_readonly("sizes", &io::LabelStudioExport::sizes)
      .def_readonly("annotated", &io::LabelStudioExport::annotated)
      .def_readonly("predictions", &io::LabelStudioExport::predictions);
  m.def("read_label_studio", [](const std::string& path, py::object options, py::kwargs kwargs) {
    auto opts = options_from<io::LabelStudioOptions>(options, kwargs);
    py::gil_scoped_release nogil;
    return io::read_label_studio(path, opts);
  }, py::arg("path"), py::arg("options") = py::none(),
        "Reads a Label Studio JSON export; options: LabelStudioOptions, a dict, or keyword arguments.");
  m.def("write_label_studio_tasks", &io::write_label_studio_tasks, py::arg("path"), py::arg("batch"),
        py::arg("names") = io::LabelStudioNames{}, py::call_guard<py::gil_scoped_release>(),
        "Writes the batch as Label Studio tasks with predictions (atomically).");

  // CVAT
  bind_options<io::CvatOptions>(m, "CvatOptions", "How read_cvat() reads an export.");
  py::class_<io::CvatExport>(m, "CvatExport")
      .def_readwrite("dataset", &io::CvatExport::dataset)
      .def_readonly("names", &io::CvatExport::names)
      .def_readonly("subsets", &io::CvatExport::subsets)
      .def_readonly("frames", &io::CvatExport::frames)
      .def_readonly("sizes", &io::CvatExport::sizes);
  m.def("read_cvat", [](const std::string& path, py::object options, py::kwargs kwargs) {
    auto opts = options_from<io::CvatOptions>(options, kwargs);
    py::gil_scoped_release nogil;
    return io::read_cvat(path, opts);
  }, py::arg("path"), py::arg("options") = py::none(), "Reads CVAT for images 1.1 XML.");
  m.def("write_cvat", [](const std::string& path, const io::NextBatch& batch, const std::string& task_name,
                         const std::string& score_attribute) {
    py::gil_scoped_release nogil;
    io::write_cvat(path, batch, io::CvatWriteOptions().task_name(task_name).score_attribute(score_attribute));
  }, py::arg("path"), py::arg("batch"), py::arg("task_name") = "alx next batch", py::arg("score_attribute") = "score",
        "Writes the batch as CVAT for images 1.1 pre-annotations (atomically).");

  // COCO
  bind_options<io::CocoOptions>(m, "CocoOptions", "How read_coco() reads an instances file.");
  py::class_<io::CocoIds>(m, "CocoIds")
      .def(py::init<>())
      .def_readwrite("image_ids", &io::CocoIds::image_ids)
      .def_readwrite("category_ids", &io::CocoIds::category_ids)
      .def_static("dense", &io::CocoIds::dense, py::arg("num_items"), py::arg("num_classes"));
  py::class_<io::CocoExport>(m, "CocoExport")
      .def_readwrite("dataset", &io::CocoExport::dataset)
      .def_readwrite("ids", &io::CocoExport::ids)
      .def_readonly("sizes", &io::CocoExport::sizes);
  m.def("read_coco", [](const std::string& path, py::object options, py::kwargs kwargs) {
    auto opts = options_from<io::CocoOptions>(options, kwargs);
    py::gil_scoped_release nogil;
    return io::read_coco(path, opts);
  }, py::arg("path"), py::arg("options") = py::none(), "Reads a COCO instances file.");
  m.def("read_coco_results", &io::read_coco_results, py::arg("path"), py::arg("ids"),
        py::call_guard<py::gil_scoped_release>(), "Per item of `ids`: the predicted objects of a COCO results file.");
  m.def("write_coco_results", &io::write_coco_results, py::arg("path"), py::arg("batch"), py::arg("ids"),
        py::call_guard<py::gil_scoped_release>(), "Writes the batch's predicted objects as COCO results.");
  m.def("image_uncertainties",
        [](const std::vector<std::vector<Object>>& objects, const std::string& aggregation, double threshold,
           double min_score, double empty_uncertainty) {
          auto o = io::DetectionAggregateOptions()
                       .aggregation(io::parse_aggregation(aggregation))
                       .threshold(threshold)
                       .min_score(min_score)
                       .empty_uncertainty(empty_uncertainty);
          return vector_to_numpy(io::image_uncertainties(objects, o));
        },
        py::arg("objects"), py::arg("aggregation") = "max", py::arg("threshold") = 0.5, py::arg("min_score") = 0.0,
        py::arg("empty_uncertainty") = 0.0,
        "One uncertainty per image [N] from per-object scores: max, mean, sum or count_below.");

  // ---------------------------------------------------------------- next batch
  py::class_<io::BatchItem>(m, "BatchItem", "One item of the next batch.")
      .def(py::init([](int64_t index, std::string id, std::string image, int rank, double uncertainty,
                       int predicted_label, double confidence, std::vector<float> probabilities) {
             io::BatchItem b;
             b.index = index;
             b.id = std::move(id);
             b.image = std::move(image);
             b.rank = rank;
             b.uncertainty = uncertainty;
             b.predicted_label = predicted_label;
             b.confidence = confidence;
             b.probabilities = std::move(probabilities);
             return b;
           }),
           py::arg("index") = -1, py::arg("id") = "", py::arg("image") = "", py::arg("rank") = 0,
           py::arg("uncertainty") = 0.0, py::arg("predicted_label") = -1, py::arg("confidence") = 0.0,
           py::arg("probabilities") = std::vector<float>{})
      .def_readwrite("index", &io::BatchItem::index)
      .def_readwrite("id", &io::BatchItem::id)
      .def_readwrite("image", &io::BatchItem::image)
      .def_readwrite("rank", &io::BatchItem::rank)
      .def_readwrite("uncertainty", &io::BatchItem::uncertainty)
      .def_readwrite("predicted_label", &io::BatchItem::predicted_label)
      .def_readwrite("confidence", &io::BatchItem::confidence)
      .def_readwrite("probabilities", &io::BatchItem::probabilities)
      .def_readwrite("objects", &io::BatchItem::objects)
      .def_readwrite("size", &io::BatchItem::size)
      .def("__repr__", [](const io::BatchItem& b) {
        return fmt::format("BatchItem(rank={}, index={}, id='{}', uncertainty={:.4g}, predicted_label={})", b.rank,
                           b.index, b.id, b.uncertainty, b.predicted_label);
      });
  py::class_<io::NextBatch>(m, "NextBatch", "The items to label next, in rank order; every writer takes it.")
      .def(py::init<>())
      .def_readwrite("schema", &io::NextBatch::schema)
      .def_readwrite("model_version", &io::NextBatch::model_version)
      .def_readwrite("items", &io::NextBatch::items)
      .def("__len__", [](const io::NextBatch& b) { return b.items.size(); })
      .def("validate", [](const io::NextBatch& b) { io::validate(b); }, "ValueError naming the first bad item.");

  // ---------------------------------------------------------------- store
  py::class_<Store, std::unique_ptr<Store>>(m, "Store", R"doc(One HDF5 file per project: the pool and every round.
Writes are atomic (save()); an open store is locked against other processes.
Use as a context manager, or call close() to release the lock.)doc")
      .def_static("create", [](const std::string& path, Pool pool) {
        return std::make_unique<Store>(Store::create(path, std::move(pool)));
      }, py::arg("path"), py::arg("pool"), "A new store holding `pool` (an existing file is refused: OSError).")
      .def_static("open", [](const std::string& path) { return std::make_unique<Store>(Store::open(path)); },
                  py::arg("path"), "Opens and validates a store (OSError when missing, locked or damaged).")
      .def_static("open_or_create", [](const std::string& path, Pool pool) {
        return std::make_unique<Store>(Store::open_or_create(path, std::move(pool)));
      }, py::arg("path"), py::arg("pool"))
      .def_property_readonly("path", &Store::path)
      .def_property_readonly("pool", py::overload_cast<>(&Store::pool), py::return_value_policy::reference_internal,
                             "The pool (changes are kept in memory until save()).")
      .def_property_readonly("last_round", &Store::last_round)
      .def("rounds", [](const Store& s) {
        py::list out;
        for (const auto& r : s.rounds()) out.append(round_to_dict(r));
        return out;
      }, "Every finished round as a dict (round, selected, selected_ids, scores, model_version, metrics, seconds, note).")
      .def("add_round", [](Store& s, int round, py::handle selected, std::vector<std::string> selected_ids,
                           std::vector<float> scores, std::string model_version, std::map<std::string, double> metrics,
                           std::map<std::string, double> seconds, std::string note) {
        RoundRecord r;
        r.round = round;
        r.selected = to_indices(selected, "selected");
        r.selected_ids = std::move(selected_ids);
        r.scores = std::move(scores);
        r.model_version = std::move(model_version);
        r.metrics = std::move(metrics);
        r.seconds = std::move(seconds);
        r.note = std::move(note);
        s.add_round(std::move(r));
      }, py::arg("round"), py::arg("selected"), py::arg("selected_ids") = std::vector<std::string>{},
         py::arg("scores") = std::vector<float>{}, py::arg("model_version") = "",
         py::arg("metrics") = std::map<std::string, double>{}, py::arg("seconds") = std::map<std::string, double>{},
         py::arg("note") = "", "Appends a finished round (round numbers must increase).")
      .def("set_array", [](Store& s, const std::string& name, py::handle array, const std::string& tag) {
        torch::Tensor t = to_tensor(array, "array", Kind::kFloat32).contiguous();
        StoredArray a;
        a.shape = t.sizes().vec();
        a.data.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
        a.tag = tag;
        s.set_array(name, std::move(a));
      }, py::arg("name"), py::arg("array"), py::arg("tag") = "", "Keeps a float32 array of any shape (e.g. embeddings).")
      .def("array", [](const Store& s, const std::string& name) -> py::object {
        const StoredArray* a = s.array(name);
        if (!a) return py::none();
        std::vector<py::ssize_t> shape(a->shape.begin(), a->shape.end());
        py::array_t<float> out(shape);
        std::copy(a->data.begin(), a->data.end(), out.mutable_data());
        return std::move(out);
      }, py::arg("name"), "The stored array, or None.")
      .def("array_tag", [](const Store& s, const std::string& name) -> py::object {
        const StoredArray* a = s.array(name);
        return a ? py::object(py::str(a->tag)) : py::object(py::none());
      }, py::arg("name"))
      .def("remove_array", &Store::remove_array, py::arg("name"))
      .def("set_meta", &Store::set_meta, py::arg("key"), py::arg("value"))
      .def("meta", [](const Store& s) { return s.meta(); }, "Every meta attribute as a dict.")
      .def("save", &Store::save, py::call_guard<py::gil_scoped_release>(),
           "Writes everything atomically (OSError on failure; the previous file stays intact).")
      .def("close", [](Store& s) { Store closed(std::move(s)); },
           "Releases the lock (unsaved changes are dropped). The object is unusable afterwards.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](Store& s, py::args) { Store closed(std::move(s)); });
}

}  // namespace alx::py_bind
