// bindings/bind_sampling.cpp — scorers and samplers; alx.score and alx.select.
#include "common.h"

#include <alx/sampling/sampler.h>
#include <alx/sampling/samplers.h>
#include <alx/sampling/scorers.h>

#include <fmt/format.h>

#include <memory>

namespace alx::py_bind {

namespace {

using sampling::Sampler;
using sampling::SamplerInput;
using sampling::Scorer;

/// Lets a Python class derive from alx.Scorer: C++ calls its `score`, `name` and
/// `needs_mc_samples`, taking the GIL (callers release it around long C++ work).
class PyScorerTrampoline : public Scorer {
 public:
  torch::Tensor score(const torch::Tensor& probs) const override {
    py::gil_scoped_acquire gil;
    py::function f = py::get_override(static_cast<const Scorer*>(this), "score");
    if (!f) throw InvalidArgument("alx.Scorer subclass does not implement score(probs)");
    py::object out = f(probs.dim() == 2 ? probs.unsqueeze(1) : probs);  // always [N, T, C]
    // Own the memory: the result may outlive the Python object it came from.
    return to_tensor(out, "Scorer.score() result", Kind::kFloat, {1}, "[N]").clone();
  }
  std::string name() const override {
    py::gil_scoped_acquire gil;
    py::function f = py::get_override(static_cast<const Scorer*>(this), "name");
    if (f) return py::str(f()).cast<std::string>();
    // A Python scorer that does not override name() is called by its class name.
    py::object self = py::cast(static_cast<const Scorer*>(this));
    return py::str(py::type::handle_of(self).attr("__name__")).cast<std::string>();
  }
  bool needs_mc_samples() const override {
    PYBIND11_OVERRIDE(bool, Scorer, needs_mc_samples, );
  }
};

/// A registered Python scorer: an alx.Scorer instance (C++ or Python subclass) or a
/// plain callable probs -> [N] scores. The Python object is never released: registry
/// entries live until the process ends, past the interpreter's own finalisation.
class PythonScorer : public Scorer {
 public:
  PythonScorer(PyObject* obj, Scorer* as_scorer, std::string name, bool mc)
      : obj_(obj), as_scorer_(as_scorer), name_(std::move(name)), mc_(mc) {}

  torch::Tensor score(const torch::Tensor& probs) const override {
    if (as_scorer_) return as_scorer_->score(probs);
    py::gil_scoped_acquire gil;
    py::object out = py::reinterpret_borrow<py::object>(obj_)(probs.dim() == 2 ? probs.unsqueeze(1) : probs);
    return to_tensor(out, fmt::format("scorer '{}' result", name_).c_str(), Kind::kFloat, {1}, "[N]")
        .clone();
  }
  std::string name() const override { return name_; }
  bool needs_mc_samples() const override { return mc_; }

 private:
  PyObject* obj_;
  Scorer* as_scorer_;
  std::string name_;
  bool mc_;
};

/// N from the first defined tensor, for a labeled index array.
int64_t rows_of(const SamplerInput& in) {
  for (const auto* t : {&in.probs, &in.embeddings, &in.grad_embeddings, &in.scores, &in.candidates})
    if (t->defined()) return t->size(0);
  return -1;
}

/// labeled: None, a bool mask [N] or an index array [K] → [N] bool tensor.
torch::Tensor labeled_mask(py::handle labeled, int64_t n, const char* name = "labeled") {
  bool is_bool = false;
  py::object arr;
  if (!labeled.is_none()) {
    if (THPVariable_Check(labeled.ptr())) {
      is_bool = THPVariable_Unpack(labeled.ptr()).scalar_type() == torch::kBool;
    } else {
      arr = py::array::ensure(labeled);
      if (!arr) {
        PyErr_Clear();
        throw InvalidArgument(fmt::format(
            "{} must be a boolean mask [N] or an index array [K], got {}", name, describe(labeled)));
      }
      auto a = py::reinterpret_borrow<py::array>(arr);
      is_bool = a.dtype().kind() == 'b';
      // [] reads as float64: no labeled items.
      if (a.size() == 0) arr = py::array_t<int64_t>(0);
    }
  }
  if (is_bool) {
    torch::Tensor mask = to_tensor(labeled, name, Kind::kBool, {1}, "[N] (bool)");
    if (n >= 0 && mask.size(0) != n)
      throw InvalidArgument(fmt::format("{} mask has {} entries but the pool has N = {}", name,
                                        mask.size(0), n));
    return mask;
  }
  if (n < 0)
    throw InvalidArgument(
        "cannot tell the pool size N: pass probs, embeddings or scores, or labeled as a "
        "boolean mask [N]");
  torch::Tensor mask = torch::zeros({n}, torch::kBool);
  if (labeled.is_none()) return mask;
  std::vector<int64_t> idx = to_indices(arr ? py::handle(arr) : labeled, name);
  bool* m = mask.data_ptr<bool>();
  for (int64_t i : idx) {
    if (i < 0 || i >= n)
      throw InvalidArgument(fmt::format("{} index {} is out of range [0, {})", name, i, n));
    m[i] = true;
  }
  return mask;
}

SamplerInput sampler_input(py::handle probs, py::handle embeddings, py::handle labeled,
                           py::handle scores, py::handle grad_embeddings, py::handle candidates) {
  SamplerInput in;
  if (!probs.is_none())
    in.probs = to_tensor(probs, "probs", Kind::kFloat, {2, 3}, "[N, C] or [N, T, C]");
  if (!embeddings.is_none())
    in.embeddings = to_tensor(embeddings, "embeddings", Kind::kFloat32, {2}, "[N, D]");
  if (!grad_embeddings.is_none())
    in.grad_embeddings = to_tensor(grad_embeddings, "grad_embeddings", Kind::kFloat32, {2}, "[N, E]");
  if (!scores.is_none()) in.scores = to_tensor(scores, "scores", Kind::kFloat, {1}, "[N]");
  if (!candidates.is_none())
    in.candidates = labeled_mask(candidates, rows_of(in), "candidates");
  in.labeled = labeled_mask(labeled, rows_of(in));
  in.size();  // every N must agree (alx::InvalidArgument naming the field otherwise)
  return in;
}

std::vector<int64_t> run_select(const Sampler& sampler, const SamplerInput& in, int64_t k,
                                uint64_t seed) {
  py::gil_scoped_release nogil;
  return sampler.select(in, k, seed);
}

py::array_t<int64_t> as_array(const std::vector<int64_t>& v) {
  py::array_t<int64_t> out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

py::dict needs_dict(const sampling::Needs& n) {
  py::dict d;
  d["probs"] = n.probs;
  d["mc_samples"] = n.mc_samples;
  d["embeddings"] = n.embeddings;
  d["grad_embeddings"] = n.grad_embeddings;
  return d;
}

constexpr const char* kScoreDoc = R"doc(score(probs, method="entropy", **options) -> numpy.ndarray [N]

Uncertainty of every row (higher = more worth labeling).

probs: numpy array or torch tensor, [N, C] or [N, T, C] (T stochastic passes, e.g.
  MC dropout), float32 or float64 (other real dtypes are converted to float32).
  Contiguous float32/float64 input is read in place, without a copy.
method: least_confidence, margin, ratio, entropy, bald, variation_ratios, mean_std,
  or a name given to register_scorer().
options: from_logits=False, validate=True, tolerance=1e-3 (see ScoreOptions).

Returns a numpy array [N] of the input's float dtype. Raises ValueError for an unknown
method, a wrong shape or (validate=True) a row that is not a probability vector.
The GIL is released while C++ scores.)doc";

constexpr const char* kSelectDoc = R"doc(select(k, method, *, probs=None, embeddings=None, labeled=None, seed=0, scores=None, grad_embeddings=None, candidates=None, **params) -> numpy.ndarray [k] (int64)

Indices of up to k unlabeled pool items to label next, unique, in selection order.

k: batch size.
method: a sampler name (random, topk, kcenter, badge, cluster_margin, batchbald,
  typiclust, power, softmax, softrank, class_balanced, hybrid …; see sampler_names()).
probs: [N, C] or [N, T, C] probabilities (numpy or torch).
embeddings: [N, D] features (e.g. penultimate layer).
labeled: a boolean mask [N] or an index array [K] of already labeled items
  (None: nothing labeled). N comes from the other inputs (or the mask).
seed: the same inputs and seed give the same batch.
scores: [N] precomputed scores (scorer-based samplers use them instead of probs).
grad_embeddings: [N, C*D] BADGE gradient embeddings.
candidates: mask [N] or index array: only these may be picked.
params: the sampler's parameters, as in a YAML config (e.g. scorer="margin", beta=2.0,
  subsample=10000); see sampler_params(method). Unknown keys raise ValueError.

Returns fewer than k indices only when fewer unlabeled candidates remain. The GIL is
released while C++ selects.)doc";

}  // namespace

void bind_sampling(py::module_& m) {
  bind_options<sampling::ScoreOptions>(m, "ScoreOptions", "How score() reads its input.");

  py::class_<Scorer, PyScorerTrampoline, std::shared_ptr<Scorer>>(m, "Scorer", R"doc(
An uncertainty measure: probs [N, T, C] or [N, C] -> scores [N] (higher = more uncertain).

Built-ins come from make_scorer(name). Subclass it in Python (override score(probs),
optionally name() and needs_mc_samples()) and register_scorer() the instance to use it
by name in select(), samplers and the active loop. score() then receives a torch.Tensor
[N, T, C] (already validated) and returns [N] (numpy or torch).)doc")
      .def(py::init<>())
      .def(
          "score",
          [](const Scorer& s, py::handle probs) {
            torch::Tensor p = to_tensor(probs, "probs", Kind::kFloat, {2, 3}, "[N, C] or [N, T, C]");
            torch::Tensor out;
            {
              py::gil_scoped_release nogil;
              out = s.score(p);
            }
            return to_numpy(out);
          },
          py::arg("probs"), "probs: [N, T, C] or [N, C] -> numpy [N] (no validation).")
      .def("name", &Scorer::name)
      .def("needs_mc_samples", &Scorer::needs_mc_samples,
           "True when the score needs T > 1 passes to be informative.")
      .def("__repr__", [](const Scorer& s) { return "<alx.Scorer '" + s.name() + "'>"; });

  m.def(
      "make_scorer",
      [](const std::string& name) { return std::shared_ptr<Scorer>(sampling::make_scorer(name)); },
      py::arg("name"), "A scorer by name (ValueError listing the known names otherwise).");
  m.def("scorer_names", &sampling::scorer_names, "Every registered scorer name, sorted.");
  m.def("has_scorer", &sampling::has_scorer, py::arg("name"));
  m.def(
      "register_scorer",
      [](const std::string& name, py::object scorer, py::object needs_mc_samples) {
        PyObject* keep = scorer.release().ptr();  // never released, see PythonScorer
        auto obj = py::reinterpret_borrow<py::object>(keep);
        Scorer* as_scorer = py::isinstance<Scorer>(obj) ? obj.cast<Scorer*>() : nullptr;
        if (!as_scorer && !PyCallable_Check(keep))
          throw InvalidArgument(fmt::format(
              "register_scorer('{}'): expected an alx.Scorer or a callable probs -> scores, got {}",
              name, describe(obj)));
        bool mc = needs_mc_samples.is_none() ? (as_scorer ? as_scorer->needs_mc_samples() : false)
                                             : needs_mc_samples.cast<bool>();
        sampling::register_scorer(name, [keep, as_scorer, name, mc] {
          return std::make_unique<PythonScorer>(keep, as_scorer, name, mc);
        });
      },
      py::arg("name"), py::arg("scorer"), py::arg("needs_mc_samples") = py::none(),
      R"doc(Registers a Python scorer under `name` for score(), select(), samplers and the loop.

scorer: an alx.Scorer instance (e.g. a Python subclass) or a callable
  f(probs: torch.Tensor [N, T, C]) -> [N] scores (numpy or torch).
needs_mc_samples: whether it needs T > 1 passes (default: the Scorer's answer, else False).
Built-in names cannot be replaced (ValueError).)doc");

  m.def(
      "score",
      [](py::handle probs, const std::string& method, py::kwargs options) {
        const auto opts = options_from<sampling::ScoreOptions>(py::none(), options);
        torch::Tensor p = to_tensor(probs, "probs", Kind::kFloat, {2, 3}, "[N, C] or [N, T, C]");
        torch::Tensor out;
        {
          py::gil_scoped_release nogil;
          out = sampling::score(p, method, opts);
        }
        return to_numpy(out);
      },
      py::arg("probs"), py::arg("method") = "entropy", kScoreDoc);

  py::class_<Sampler, std::shared_ptr<Sampler>>(m, "Sampler",
                                               "Picks a batch of items to label; see make_sampler().")
      .def(
          "select",
          [](const Sampler& s, int64_t k, py::handle probs, py::handle embeddings, py::handle labeled,
             uint64_t seed, py::handle scores, py::handle grad_embeddings, py::handle candidates) {
            SamplerInput in = sampler_input(probs, embeddings, labeled, scores, grad_embeddings, candidates);
            return as_array(run_select(s, in, k, seed));
          },
          py::arg("k"), py::kw_only(), py::arg("probs") = py::none(),
          py::arg("embeddings") = py::none(), py::arg("labeled") = py::none(), py::arg("seed") = 0,
          py::arg("scores") = py::none(), py::arg("grad_embeddings") = py::none(),
          py::arg("candidates") = py::none(), "Same inputs as alx.select(); returns numpy [<= k] int64.")
      .def_property_readonly("name", &Sampler::name)
      .def_property_readonly("needs", [](const Sampler& s) { return needs_dict(s.needs()); },
                             "Which inputs it reads: probs, mc_samples, embeddings, grad_embeddings.")
      .def("__repr__", [](const Sampler& s) { return "<alx.Sampler '" + s.name() + "'>"; });

  m.def(
      "make_sampler",
      [](const std::string& name, py::object params, py::kwargs kwargs) {
        YAML::Node node(YAML::NodeType::Map);
        config::Context ctx{"<python>", ""};
        if (!params.is_none()) {
          ConfigSource src = config_source(params);
          node.reset(src.node);
          ctx = src.ctx;
        }
        for (auto item : kwargs) node[py::str(item.first).cast<std::string>()] =
                                     to_yaml(item.second, py::str(item.first).cast<std::string>());
        return std::shared_ptr<Sampler>(sampling::make_sampler(name, node, ctx));
      },
      py::arg("name"), py::arg("params") = py::none(),
      "A sampler by name; params as a dict or YAML file, or as keyword arguments.");
  m.def("sampler_names", &sampling::sampler_names, "Every registered sampler name, sorted.");
  m.def("sampler_params", &sampling::sampler_params, py::arg("name"),
        "'key: help (type, default value)' for each parameter of a sampler.");
  m.def("sampler_summary", &sampling::sampler_summary, py::arg("name"));

  m.def(
      "select",
      [](int64_t k, const std::string& method, py::handle probs, py::handle embeddings,
         py::handle labeled, uint64_t seed, py::handle scores, py::handle grad_embeddings,
         py::handle candidates, py::kwargs params) {
        YAML::Node node = params && py::len(params) > 0 ? to_yaml(params) : YAML::Node(YAML::NodeType::Map);
        auto sampler = sampling::make_sampler(method, node, {"<python>", ""});
        SamplerInput in = sampler_input(probs, embeddings, labeled, scores, grad_embeddings, candidates);
        return as_array(run_select(*sampler, in, k, seed));
      },
      py::arg("k"), py::arg("method"), py::kw_only(), py::arg("probs") = py::none(),
      py::arg("embeddings") = py::none(), py::arg("labeled") = py::none(), py::arg("seed") = 0,
      py::arg("scores") = py::none(), py::arg("grad_embeddings") = py::none(),
      py::arg("candidates") = py::none(), kSelectDoc);
}

}  // namespace alx::py_bind
