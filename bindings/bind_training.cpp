// bindings/bind_training.cpp — models, Trainer, Predictor.
#include "common.h"

#include <alx/augment/pipeline.h>
#include <alx/core/image_source.h>
#include <alx/core/pool.h>
#include <alx/training/model.h>
#include <alx/training/predictor.h>
#include <alx/training/trainer.h>

#include <fmt/format.h>

#include <memory>
#include <numeric>

namespace alx::py_bind {

namespace {

using training::Model;
using training::Predictor;
using training::Trainer;

std::vector<int64_t> indices_or_all(py::handle indices, const ImageSource& images) {
  if (indices.is_none()) {
    std::vector<int64_t> all(static_cast<std::size_t>(images.size()));
    std::iota(all.begin(), all.end(), int64_t{0});
    return all;
  }
  return to_indices(indices, "indices");
}

unsigned predict_flags(py::handle what) {
  std::vector<std::string> names;
  if (py::isinstance<py::str>(what)) names.push_back(what.cast<std::string>());
  else names = what.cast<std::vector<std::string>>();
  unsigned flags = 0;
  for (const auto& n : names) {
    if (n == "probs") flags |= training::kProbs;
    else if (n == "mc_samples") flags |= training::kMcSamples;
    else if (n == "embeddings") flags |= training::kEmbeddings;
    else if (n == "grad_embeddings") flags |= training::kGradEmbeddings;
    else
      throw InvalidArgument(fmt::format(
          "what: unknown output '{}'; choose from probs, mc_samples, embeddings, grad_embeddings", n));
  }
  if (!flags) throw InvalidArgument("what: ask for at least one of probs, mc_samples, embeddings, grad_embeddings");
  return flags;
}

torch::Tensor images_arg(py::handle images) {
  torch::Tensor t = to_tensor(images, "images", Kind::kFloat32, {4}, "[B, C, H, W]");
  return t;
}

}  // namespace

void bind_training(py::module_& m) {
  bind_options<training::ModelOptions>(m, "ModelOptions", "Options of make_model().");
  bind_options<training::TrainerOptions>(m, "TrainerOptions", "Options of Trainer.");
  bind_options<training::PredictorOptions>(m, "PredictorOptions", "Options of Predictor.");

  // ---------------------------------------------------------------- models
  py::class_<Model, std::shared_ptr<Model>>(m, "Model", R"doc(A LibTorch classifier: images [B, C, H, W] float32 ->
logits [B, K] and penultimate features [B, D]. Built by make_model(); trained by Trainer.
forward()/embed() run without gradients, with the GIL released.)doc")
      .def_property_readonly("name", &Model::name)
      .def_property_readonly("num_classes", &Model::num_classes)
      .def_property_readonly("embedding_dim", &Model::embedding_dim)
      .def_property_readonly("options", [](const Model& mo) { return mo.options(); })
      .def_property("version", &Model::version, &Model::set_version)
      .def("forward", [](Model& mo, py::handle images) {
        torch::Tensor x = images_arg(images);
        py::gil_scoped_release nogil;
        torch::NoGradGuard no_grad;
        return mo.forward(x);
      }, py::arg("images"), "images [B, C, H, W] -> logits [B, K] (torch.Tensor).")
      .def("__call__", [](Model& mo, py::handle images) {
        torch::Tensor x = images_arg(images);
        py::gil_scoped_release nogil;
        torch::NoGradGuard no_grad;
        return mo.forward(x);
      }, py::arg("images"))
      .def("embed", [](Model& mo, py::handle images) {
        torch::Tensor x = images_arg(images);
        py::gil_scoped_release nogil;
        torch::NoGradGuard no_grad;
        return mo.embed(x);
      }, py::arg("images"), "images [B, C, H, W] -> features [B, D].")
      .def("train", &Model::train, py::arg("on") = true, "Training mode (True) or eval mode (False).")
      .def("eval", [](Model& mo) { mo.train(false); })
      .def_property_readonly("training", &Model::is_training)
      .def("to", [](Model& mo, const std::string& device) { mo.to(training::parse_device(device)); },
           py::arg("device"), "cpu, cuda or cuda:N")
      .def_property_readonly("device", [](const Model& mo) { return mo.device().str(); })
      .def("parameters", &Model::parameters, py::arg("head_only") = false)
      .def("state_dict", [](Model& mo) {
        py::dict d;
        for (auto& [k, v] : mo.state()) d[py::str(k)] = v;
        return d;
      }, "Every parameter and buffer by name (torch.Tensor views of the model's own).")
      .def("load_state_dict", [](Model& mo, const std::map<std::string, torch::Tensor>& state) {
        std::vector<std::pair<std::string, torch::Tensor>> s(state.begin(), state.end());
        mo.load_state(s);
      }, py::arg("state"))
      .def("reset_parameters", &Model::reset_parameters, py::arg("seed"),
           "Fresh initialisation from `seed`.")
      .def("save", [](Model& mo, const std::string& path, const std::string& note) {
        training::save_checkpoint(mo, path, note);
      }, py::arg("path"), py::arg("note") = "", py::call_guard<py::gil_scoped_release>(),
           "Writes a checkpoint atomically (OSError naming the file on failure).")
      .def("__repr__", [](const Model& mo) {
        return fmt::format("<alx.Model '{}': {} classes, embedding {}>", mo.name(), mo.num_classes(),
                           mo.embedding_dim());
      });
  m.def("make_model", [](py::object options, py::kwargs kwargs) {
    auto opts = options_from<training::ModelOptions>(options, kwargs);
    return std::shared_ptr<Model>(training::make_model(opts));
  }, py::arg("options") = py::none(),
        "A model from ModelOptions, a dict, a YAML file, or keyword arguments, e.g. "
        "make_model(name='gal_cnn', num_classes=10).");
  m.def("model_names", &training::model_names);
  m.def("load_model", [](const std::string& path) {
    training::CheckpointInfo info;
    std::shared_ptr<Model> model;
    {
      py::gil_scoped_release nogil;
      model = training::load_checkpoint(path, &info);
    }
    return model;
  }, py::arg("path"), "Rebuilds a model from a checkpoint written by Model.save().");
  m.def("set_threads", &training::set_threads, py::arg("n"),
        "LibTorch intra-op threads of alx's C++ work: n > 0, or every core when 0.");

  // ---------------------------------------------------------------- trainer
  py::class_<training::EpochStats>(m, "EpochStats")
      .def_readonly("epoch", &training::EpochStats::epoch)
      .def_readonly("loss", &training::EpochStats::loss)
      .def_readonly("train_accuracy", &training::EpochStats::train_accuracy)
      .def_readonly("val_accuracy", &training::EpochStats::val_accuracy)
      .def_readonly("lr", &training::EpochStats::lr)
      .def_readonly("seconds", &training::EpochStats::seconds)
      .def("__repr__", [](const training::EpochStats& e) {
        return fmt::format("EpochStats(epoch={}, loss={:.4f}, train_accuracy={:.4f}, val_accuracy={:.4f})", e.epoch,
                           e.loss, e.train_accuracy, e.val_accuracy);
      });
  py::class_<training::TrainResult>(m, "TrainResult")
      .def_readonly("epochs", &training::TrainResult::epochs)
      .def_readonly("best_epoch", &training::TrainResult::best_epoch)
      .def_readonly("best_val_accuracy", &training::TrainResult::best_val_accuracy)
      .def_readonly("stopped_early", &training::TrainResult::stopped_early)
      .def_readonly("num_train", &training::TrainResult::num_train)
      .def_readonly("num_val", &training::TrainResult::num_val)
      .def_readonly("images_per_second", &training::TrainResult::images_per_second)
      .def_readonly("model_version", &training::TrainResult::model_version)
      .def("__repr__", [](const training::TrainResult& r) {
        return fmt::format("<alx.TrainResult: {} epochs on {} items, {:.0f} images/s>", r.epochs.size(), r.num_train,
                           r.images_per_second);
      });
  py::class_<training::Metrics>(m, "Metrics")
      .def_readonly("n", &training::Metrics::n)
      .def_readonly("accuracy", &training::Metrics::accuracy)
      .def_readonly("macro_f1", &training::Metrics::macro_f1)
      .def_readonly("per_class_accuracy", &training::Metrics::per_class_accuracy)
      .def_readonly("per_class_f1", &training::Metrics::per_class_f1)
      .def_readonly("confusion", &training::Metrics::confusion, "[K, K] int64, rows = true class")
      .def("__repr__", [](const training::Metrics& x) {
        return fmt::format("<alx.Metrics: n={}, accuracy={:.4f}, macro_f1={:.4f}>", x.n, x.accuracy, x.macro_f1);
      });
  m.def("compute_metrics", [](py::handle truth, py::handle predicted, int64_t num_classes) {
    return training::compute_metrics(to_tensor(truth, "truth", Kind::kInt64, {1}, "[N]"),
                                     to_tensor(predicted, "predicted", Kind::kInt64, {1}, "[N]"), num_classes);
  }, py::arg("truth"), py::arg("predicted"), py::arg("num_classes"));

  py::class_<Trainer, std::shared_ptr<Trainer>>(m, "Trainer", R"doc(Fits a model on labeled items through an augment pipeline.

    trainer = alx.Trainer(epochs=10, lr=1e-3, train=[{"name": "hflip", "p": 0.5}])
    result = trainer.fit(model, dataset.images, dataset.pool)       # labeled items of the pool
    metrics = trainer.evaluate(model, test.images, None, test.pool.labels)

options: TrainerOptions, a dict, a YAML file, or keyword arguments. train / eval:
alx.Pipeline, a list of {name, params}, or None. fit / evaluate release the GIL.)doc")
      .def(py::init([](py::object options, py::object train, py::object eval, py::kwargs kwargs) {
             return std::make_shared<Trainer>(options_from<training::TrainerOptions>(options, kwargs),
                                              pipeline_from(train, "train"), pipeline_from(eval, "eval"));
           }),
           py::arg("options") = py::none(), py::kw_only(), py::arg("train") = py::none(),
           py::arg("eval") = py::none())
      .def_property_readonly("options", [](const Trainer& t) { return t.options(); })
      .def("fit", [](const Trainer& t, Model& model, std::shared_ptr<ImageSource> images, py::handle pool_or_indices,
                     py::handle labels) {
        if (py::isinstance<Pool>(pool_or_indices)) {
          const Pool& pool = pool_or_indices.cast<const Pool&>();
          py::gil_scoped_release nogil;
          return t.fit(model, images, pool);
        }
        if (labels.is_none())
          throw InvalidArgument("fit: pass a Pool, or indices together with labels");
        auto idx = to_indices(pool_or_indices, "indices");
        auto lab = to_ints(labels, "labels");
        py::gil_scoped_release nogil;
        return t.fit(model, images, std::move(idx), std::move(lab));
      }, py::arg("model"), py::arg("images"), py::arg("pool"), py::arg("labels") = py::none(),
           "Fits on the labeled items of a Pool, or on explicit indices [K] and labels [K].")
      .def("evaluate", [](const Trainer& t, Model& model, std::shared_ptr<ImageSource> images, py::handle indices,
                          py::handle labels) {
        auto idx = indices_or_all(indices, *images);
        auto lab = to_ints(labels, "labels");
        if (lab.size() != idx.size())
          throw InvalidArgument(fmt::format("evaluate: {} labels for {} items", lab.size(), idx.size()));
        py::gil_scoped_release nogil;
        return t.evaluate(model, images, idx, lab);
      }, py::arg("model"), py::arg("images"), py::arg("indices"), py::arg("labels"),
           "Accuracy, macro-F1, per-class figures and the confusion matrix on items (None: all).");

  // ---------------------------------------------------------------- predictor
  py::class_<training::Predictions>(m, "Predictions", "What Predictor.predict() computed (None where not asked).")
      .def_property_readonly("probs", [](const training::Predictions& p) -> py::object {
        return p.probs.defined() ? py::cast(p.probs) : py::none();
      }, "[N, K] softmax of the deterministic pass")
      .def_property_readonly("mc_samples", [](const training::Predictions& p) -> py::object {
        return p.mc_samples.defined() ? py::cast(p.mc_samples) : py::none();
      }, "[N, T, K] softmax of each stochastic pass")
      .def_property_readonly("embeddings", [](const training::Predictions& p) -> py::object {
        return p.embeddings.defined() ? py::cast(p.embeddings) : py::none();
      }, "[N, D] penultimate features")
      .def_property_readonly("grad_embeddings", [](const training::Predictions& p) -> py::object {
        return p.grad_embeddings.defined() ? py::cast(p.grad_embeddings) : py::none();
      }, "[N, K*D] BADGE gradient embeddings");

  py::class_<Predictor, std::shared_ptr<Predictor>>(m, "Predictor", R"doc(Streams pool items through a model.

    predictor = alx.Predictor(mc_passes=20, masks="fixed")
    probs = predictor.probs(model, images, pool.unlabeled())        # torch [N, K]
    mc = predictor.mc_samples(model, images, pool.unlabeled())      # torch [N, T, K]

indices: numpy / list / tensor of item indices, or None for every item. Row i of every
result belongs to indices[i]. The GIL is released while C++ predicts.)doc")
      .def(py::init([](py::object options, py::object eval, py::object tta, py::kwargs kwargs) {
             return std::make_shared<Predictor>(options_from<training::PredictorOptions>(options, kwargs),
                                                pipeline_from(eval, "eval"), pipeline_from(tta, "tta"));
           }),
           py::arg("options") = py::none(), py::kw_only(), py::arg("eval") = py::none(), py::arg("tta") = py::none())
      .def_property_readonly("options", [](const Predictor& p) { return p.options(); })
      .def("predict", [](const Predictor& p, Model& model, std::shared_ptr<ImageSource> images, py::handle indices,
                         py::handle what) {
        auto idx = indices_or_all(indices, *images);
        unsigned flags = predict_flags(what);
        py::gil_scoped_release nogil;
        return p.predict(model, images, idx, flags);
      }, py::arg("model"), py::arg("images"), py::arg("indices") = py::none(),
           py::arg("what") = std::vector<std::string>{"probs"},
           "Everything in `what` (probs, mc_samples, embeddings, grad_embeddings) from one pass over the items.")
      .def("probs", [](const Predictor& p, Model& model, std::shared_ptr<ImageSource> images, py::handle indices) {
        auto idx = indices_or_all(indices, *images);
        py::gil_scoped_release nogil;
        return p.probs(model, images, idx);
      }, py::arg("model"), py::arg("images"), py::arg("indices") = py::none(), "[N, K] class probabilities.")
      .def("mc_samples", [](const Predictor& p, Model& model, std::shared_ptr<ImageSource> images, py::handle indices) {
        auto idx = indices_or_all(indices, *images);
        py::gil_scoped_release nogil;
        return p.mc_samples(model, images, idx);
      }, py::arg("model"), py::arg("images"), py::arg("indices") = py::none(), "[N, T, K] per-pass probabilities.")
      .def("embeddings", [](const Predictor& p, Model& model, std::shared_ptr<ImageSource> images, py::handle indices) {
        auto idx = indices_or_all(indices, *images);
        py::gil_scoped_release nogil;
        return p.embeddings(model, images, idx);
      }, py::arg("model"), py::arg("images"), py::arg("indices") = py::none(), "[N, D] penultimate features.")
      .def("grad_embeddings", [](const Predictor& p, Model& model, std::shared_ptr<ImageSource> images,
                                 py::handle indices) {
        auto idx = indices_or_all(indices, *images);
        py::gil_scoped_release nogil;
        return p.grad_embeddings(model, images, idx);
      }, py::arg("model"), py::arg("images"), py::arg("indices") = py::none(), "[N, K*D] BADGE gradient embeddings.");
}

}  // namespace alx::py_bind
