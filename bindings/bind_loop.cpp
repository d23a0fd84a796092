// bindings/bind_loop.cpp — the active loop, oracles, and whole simulated runs.
#include "common.h"

#include <alx/augment/pipeline.h>
#include <alx/core/store.h>
#include <alx/training/experiment.h>
#include <alx/training/loop.h>

#include <fmt/format.h>

#include <memory>

namespace alx::py_bind {

namespace {

using training::ActiveLoop;
using training::Model;
using training::Oracle;

/// The loop owns its model (unique_ptr) while Python shares it (shared_ptr): this Model
/// forwards every call to the shared one, so the object the notebook made is the one
/// that is trained. Model::version lives in the base, so it is copied back after rounds.
class SharedModel : public Model {
 public:
  explicit SharedModel(std::shared_ptr<Model> inner) : Model(inner->options()), inner_(std::move(inner)) {
    set_version(inner_->version());
  }
  int64_t embedding_dim() const override { return inner_->embedding_dim(); }
  torch::Tensor trunk(const torch::Tensor& images) override { return inner_->trunk(images); }
  training::ModelOutput head(const torch::Tensor& features) override { return inner_->head(features); }
  std::vector<training::HeadLayer> head_layers() const override { return inner_->head_layers(); }
  std::vector<training::DropoutSite> dropout_sites() const override { return inner_->dropout_sites(); }
  void set_dropout(training::DropoutMode mode, c10::optional<at::Generator> generator,
                   std::vector<torch::Tensor> masks) override {
    inner_->set_dropout(mode, std::move(generator), std::move(masks));
  }
  bool supports_fixed_masks() const override { return inner_->supports_fixed_masks(); }
  void train(bool on) override { inner_->train(on); }
  bool is_training() const override { return inner_->is_training(); }
  void to(torch::Device device) override { inner_->to(device); }
  torch::Device device() const override { return inner_->device(); }
  std::vector<torch::Tensor> parameters(bool head_only) override { return inner_->parameters(head_only); }
  std::vector<std::pair<std::string, torch::Tensor>> state() override { return inner_->state(); }
  void reset_parameters(uint64_t seed) override { inner_->reset_parameters(seed); }

  void sync_version() { inner_->set_version(version()); }
  const std::shared_ptr<Model>& inner() const noexcept { return inner_; }

 private:
  std::shared_ptr<Model> inner_;
};

/// Lets a Python class derive from alx.Oracle (reveal(indices) -> labels).
class PyOracle : public Oracle {
 public:
  std::vector<int> reveal(const std::vector<int64_t>& indices) override {
    py::gil_scoped_acquire gil;
    py::function f = py::get_override(static_cast<const Oracle*>(this), "reveal");
    if (!f) throw InvalidArgument("alx.Oracle subclass does not implement reveal(indices)");
    py::object out = f(py::array_t<int64_t>(static_cast<py::ssize_t>(indices.size()), indices.data()));
    return to_ints(out, "Oracle.reveal() result");
  }
};

/// An ActiveLoop built from Python, with what it borrows kept alive.
struct PyLoop {
  std::unique_ptr<ActiveLoop> loop;
  SharedModel* model = nullptr;  // owned by the loop
  std::shared_ptr<Model> shared_model;
};

py::object tensor_or_none(const torch::Tensor& t) { return t.defined() ? py::cast(t) : py::object(py::none()); }

training::RoundResult step_loop(PyLoop& l) {
  training::RoundResult r;
  {
    py::gil_scoped_release nogil;
    r = l.loop->step();
  }
  if (l.model) l.model->sync_version();
  return r;
}

std::string run_loop(ActiveLoop& loop, SharedModel* model, py::object on_round) {
  std::function<void(const training::RoundResult&)> cb;
  if (!on_round.is_none()) {
    cb = [&on_round, model](const training::RoundResult& r) {
      if (model) model->sync_version();
      py::gil_scoped_acquire gil;
      on_round(r);  // a Python exception stops the loop and reaches the caller unchanged
    };
  }
  std::string reason;
  {
    py::gil_scoped_release nogil;
    reason = loop.run(cb);
  }
  if (model) model->sync_version();
  return reason;
}

constexpr const char* kLoopDoc = R"doc(The active loop: one round = train -> evaluate -> predict -> score -> select -> store.

    store = alx.Store.create("run.h5", pool)
    loop = alx.ActiveLoop(dict(sampler="topk", sampler_params={"scorer": "margin"},
                               batch_size=100, rounds=3),
                          model=alx.make_model(name="gal_cnn", num_classes=10),
                          store=store, images=ds.images,
                          trainer=dict(epochs=5), oracle=alx.TruthOracle(truth),
                          eval_images=test.images, eval_labels=test.pool.labels)
    loop.run(lambda r: print(r.record.round, r.metrics.accuracy))

options: LoopOptions, a dict, a YAML file, or keyword arguments of LoopOptions.
model: the alx.Model to train (shared: the object you pass is the one trained).
store: the alx.Store that owns the pool; every finished round is saved into it, and a
  loop on an existing store resumes after its last round.
images: the pool's images (item i of the pool is image i).
trainer / predictor: TrainerOptions / PredictorOptions, dicts or YAML files.
train / eval: augment pipelines (alx.Pipeline, a list of {name, params}, or None).
oracle: reveals the labels of selected items (simulation); None for real labeling.
eval_images / eval_indices / eval_labels: a held-out set (indices None: every item).
A Python scorer registered with register_scorer() can be named in sampler_params.
step() and run() release the GIL; run()'s on_round callback gets a RoundResult.)doc";

}  // namespace

void bind_loop(py::module_& m) {
  bind_options<training::LoopOptions>(m, "LoopOptions", "Options of ActiveLoop.");
  bind_options<training::DataOptions>(m, "DataOptions", "The data set of a Simulation.");
  bind_options<training::RunConfig>(m, "RunConfig", "The whole configuration of a simulated run.")
      .def_static("defaults", &training::RunConfig::defaults,
                  "Fashion-MNIST, Gal CNN, margin top-k, 20 + 10 x 100 labels.")
      .def_static("load", &training::RunConfig::load, py::arg("path"), "Defaults overridden by a YAML file.")
      .def("to_yaml", &training::RunConfig::to_yaml, "The configuration as YAML text.");

  py::class_<Oracle, PyOracle, std::shared_ptr<Oracle>>(m, "Oracle",
      "Stands in for the people who label: subclass it and implement reveal(indices) -> labels.")
      .def(py::init<>())
      .def("reveal", [](Oracle& o, py::handle indices) {
        auto idx = to_indices(indices, "indices");
        std::vector<int> labels;
        {
          py::gil_scoped_release nogil;
          labels = o.reveal(idx);
        }
        py::array_t<int32_t> out(static_cast<py::ssize_t>(labels.size()));
        std::copy(labels.begin(), labels.end(), out.mutable_data());
        return out;
      }, py::arg("indices"), "Labels [K] of items indices [K].");
  py::class_<training::TruthOracle, Oracle, std::shared_ptr<training::TruthOracle>>(m, "TruthOracle",
      "An oracle that knows every label (simulation with hidden ground truth).")
      .def(py::init([](py::handle truth) { return std::make_shared<training::TruthOracle>(to_ints(truth, "truth")); }),
           py::arg("truth"), "truth: [N] class index per pool item.");

  py::class_<training::RoundResult>(m, "RoundResult", "What one round produced.")
      .def_property_readonly("round", [](const training::RoundResult& r) { return r.record.round; })
      .def_property_readonly("record", [](const training::RoundResult& r) {
        py::dict d;
        d["round"] = r.record.round;
        d["selected"] = py::array_t<int64_t>(static_cast<py::ssize_t>(r.record.selected.size()), r.record.selected.data());
        d["selected_ids"] = r.record.selected_ids;
        d["scores"] = py::array_t<float>(static_cast<py::ssize_t>(r.record.scores.size()), r.record.scores.data());
        d["model_version"] = r.record.model_version;
        d["metrics"] = r.record.metrics;
        d["seconds"] = r.record.seconds;
        d["note"] = r.record.note;
        return d;
      }, "The stored record: round, selected, selected_ids, scores, model_version, metrics, seconds, note.")
      .def_property_readonly("selected", [](const training::RoundResult& r) {
        return py::array_t<int64_t>(static_cast<py::ssize_t>(r.record.selected.size()), r.record.selected.data());
      }, "Pool indices picked this round [k], in rank order.")
      .def_readonly("metrics", &training::RoundResult::metrics, "Held-out metrics (n = 0 without a held-out set).")
      .def_readonly("train", &training::RoundResult::train)
      .def_property_readonly("uncertainty", [](const training::RoundResult& r) {
        return py::array_t<float>(static_cast<py::ssize_t>(r.uncertainty.size()), r.uncertainty.data());
      }, "[k] per selected item")
      .def_property_readonly("predicted", [](const training::RoundResult& r) {
        return py::array_t<int>(static_cast<py::ssize_t>(r.predicted.size()), r.predicted.data());
      }, "[k] predicted class per selected item")
      .def_property_readonly("confidence", [](const training::RoundResult& r) {
        return py::array_t<float>(static_cast<py::ssize_t>(r.confidence.size()), r.confidence.data());
      }, "[k] max class probability per selected item")
      .def_property_readonly("probs", [](const training::RoundResult& r) { return tensor_or_none(r.probs); },
                             "[k, C] class probabilities of the selected items")
      .def("__repr__", [](const training::RoundResult& r) {
        return fmt::format("<alx.RoundResult round {}: {} selected, accuracy {:.4f}>", r.record.round,
                           r.record.selected.size(), r.metrics.accuracy);
      });

  m.def("round_seed", &training::round_seed, py::arg("seed"), py::arg("round"), py::arg("stage"));

  py::class_<PyLoop>(m, "ActiveLoop", kLoopDoc)
      .def(py::init([](py::object options, std::shared_ptr<Model> model, Store& store,
                       std::shared_ptr<ImageSource> images, py::object trainer, py::object predictor,
                       py::object train, py::object eval, std::shared_ptr<Oracle> oracle,
                       std::shared_ptr<ImageSource> eval_images, py::object eval_indices, py::object eval_labels,
                       py::kwargs kwargs) {
             if (!model) throw InvalidArgument("ActiveLoop: model is required");
             if (!images) throw InvalidArgument("ActiveLoop: images is required");
             training::LoopParts parts;
             auto shared = std::make_unique<SharedModel>(model);
             SharedModel* raw = shared.get();
             parts.model = std::move(shared);
             parts.trainer = options_from<training::TrainerOptions>(trainer);
             parts.predictor = options_from<training::PredictorOptions>(predictor);
             parts.train_pipeline = pipeline_from(train, "train");
             parts.eval_pipeline = pipeline_from(eval, "eval");
             parts.images = images;
             parts.store = &store;
             parts.oracle = oracle;
             parts.eval_images = eval_images;
             if (!eval_labels.is_none()) {
               parts.eval_labels = to_ints(eval_labels, "eval_labels");
               if (eval_indices.is_none()) {
                 parts.eval_indices.resize(parts.eval_labels.size());
                 for (std::size_t i = 0; i < parts.eval_indices.size(); ++i) parts.eval_indices[i] = static_cast<int64_t>(i);
               } else {
                 parts.eval_indices = to_indices(eval_indices, "eval_indices");
               }
             }
             auto opts = options_from<training::LoopOptions>(options, kwargs);
             PyLoop l;
             l.loop = std::make_unique<ActiveLoop>(std::move(opts), std::move(parts));
             l.model = raw;
             l.shared_model = std::move(model);
             return l;
           }),
           py::arg("options") = py::none(), py::kw_only(), py::arg("model"), py::arg("store"), py::arg("images"),
           py::arg("trainer") = py::none(), py::arg("predictor") = py::none(), py::arg("train") = py::none(),
           py::arg("eval") = py::none(), py::arg("oracle") = nullptr, py::arg("eval_images") = nullptr,
           py::arg("eval_indices") = py::none(), py::arg("eval_labels") = py::none(),
           // The loop borrows the store, and calls the oracle (maybe a Python object).
           py::keep_alive<1, 4>(), py::keep_alive<1, 10>())
      .def_property_readonly("options", [](const PyLoop& l) { return l.loop->options(); })
      .def_property_readonly("model", [](const PyLoop& l) { return l.shared_model; })
      .def_property_readonly("store", [](PyLoop& l) -> Store& { return l.loop->store(); },
                             py::return_value_policy::reference_internal)
      .def_property_readonly("next_round", [](const PyLoop& l) { return l.loop->next_round(); })
      .def("stop_reason", [](const PyLoop& l) { return l.loop->stop_reason(); },
           "Why the loop should stop now, or None to go on.")
      .def("step", &step_loop, "Runs one round and stores it; returns its RoundResult.")
      .def("run", [](PyLoop& l, py::object on_round) { return run_loop(*l.loop, l.model, on_round); },
           py::arg("on_round") = py::none(),
           "Runs rounds until a stopping rule holds; on_round(RoundResult) after each stored round. "
           "Returns the stop reason.");

  py::class_<training::SimulationData>(m, "SimulationData")
      .def_readonly("pool", &training::SimulationData::pool, "Dataset whose labels are hidden")
      .def_property_readonly("truth", [](const training::SimulationData& d) {
        return py::array_t<int>(static_cast<py::ssize_t>(d.truth.size()), d.truth.data());
      })
      .def_property_readonly("test_images", [](const training::SimulationData& d) {
        return std::const_pointer_cast<ImageSource>(d.test_images);
      })
      .def_readonly("test_indices", &training::SimulationData::test_indices)
      .def_readonly("test_labels", &training::SimulationData::test_labels);
  m.def("load_simulation_data", [](py::object options, uint64_t seed, py::kwargs kwargs) {
    auto opts = options_from<training::DataOptions>(options, kwargs);
    py::gil_scoped_release nogil;
    return training::load_simulation_data(opts, seed);
  }, py::arg("options") = py::none(), py::arg("seed") = 0,
        "Loads and splits a data set (DataOptions / dict / keywords); deterministic for `seed`.");

  py::class_<training::Simulation, std::unique_ptr<training::Simulation>>(m, "Simulation", R"doc(A whole simulated run
from one configuration (RunConfig, a dict, or a YAML file): the pool's labels hidden behind a
TruthOracle, every round kept in the store at `store_path` (an existing store is resumed).

    sim = alx.Simulation({"data": {"pool_size": 5000}, "loop": {"rounds": 3}}, "sim.h5")
    sim.run(lambda r: print(r.round, r.metrics.accuracy)))doc")
      .def(py::init([](py::object config, const std::string& store_path) {
             training::RunConfig cfg;
             if (py::isinstance<training::RunConfig>(config)) {
               cfg = config.cast<training::RunConfig>();
             } else if (config.is_none()) {
               cfg = training::RunConfig::defaults();
             } else {
               ConfigSource src = config_source(config);
               cfg = training::RunConfig::from_yaml(src.node, src.ctx);
             }
             py::gil_scoped_release nogil;
             return std::make_unique<training::Simulation>(std::move(cfg), store_path);
           }),
           py::arg("config"), py::arg("store_path"))
      .def_property_readonly("config", &training::Simulation::config)
      .def_property_readonly("data", &training::Simulation::data, py::return_value_policy::reference_internal)
      .def_property_readonly("store", &training::Simulation::store, py::return_value_policy::reference_internal)
      .def("step", [](training::Simulation& s) {
        py::gil_scoped_release nogil;
        return s.loop().step();
      }, "Runs one round.")
      .def("run", [](training::Simulation& s, py::object on_round) { return run_loop(s.loop(), nullptr, on_round); },
           py::arg("on_round") = py::none(), "Runs rounds until a stopping rule holds; returns the stop reason.")
      .def_property_readonly("next_round", [](training::Simulation& s) { return s.loop().next_round(); });
}

}  // namespace alx::py_bind
