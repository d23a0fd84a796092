#include <alx/core/error.h>
#include <alx/core/log.h>
#include <alx/sampling/sampler.h>
#include <alx/sampling/scorers.h>
#include <alx/training/loop.h>

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

namespace alx::training {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::string checkpoint_path(const std::string& dir, int round) {
  return fmt::format("{}/round-{:06d}.pt", dir, round);
}

torch::Tensor rows_of(const torch::Tensor& t, const std::vector<int64_t>& local) {
  if (!t.defined()) return t;
  auto idx = torch::tensor(local, torch::kLong).to(t.device());
  return t.index_select(0, idx);
}

}  // namespace

uint64_t round_seed(uint64_t seed, int round, const char* stage) {
  uint64_t h = splitmix64(seed) ^ splitmix64(0x1000 + static_cast<uint64_t>(round));
  for (const char* c = stage; *c; ++c) h = splitmix64(h ^ static_cast<uint8_t>(*c));
  return h;
}

std::vector<int> TruthOracle::reveal(const std::vector<int64_t>& indices) {
  std::vector<int> out;
  out.reserve(indices.size());
  for (int64_t i : indices) {
    ALX_CHECK(i >= 0 && i < static_cast<int64_t>(truth_.size()),
              "oracle: item {} is out of range [0, {})", i, truth_.size());
    const int label = truth_[static_cast<std::size_t>(i)];
    ALX_CHECK(label >= 0, "oracle: item {} has no ground-truth label", i);
    out.push_back(label);
  }
  return out;
}

ActiveLoop::ActiveLoop(LoopOptions options, LoopParts parts)
    : options_(std::move(options)), parts_(std::move(parts)) {
  ALX_CHECK(parts_.model != nullptr, "ActiveLoop: no model");
  ALX_CHECK(parts_.store != nullptr, "ActiveLoop: no store");
  ALX_CHECK(parts_.images != nullptr, "ActiveLoop: no image source");
  const Pool& pool = parts_.store->pool();
  ALX_CHECK(parts_.images->size() == pool.size(),
            "ActiveLoop: the image source has {} items but the pool has {}", parts_.images->size(),
            pool.size());
  ALX_CHECK(parts_.model->num_classes() == pool.schema().size(),
            "ActiveLoop: the model predicts {} classes but the schema has {}",
            parts_.model->num_classes(), pool.schema().size());
  ALX_CHECK(parts_.eval_indices.size() == parts_.eval_labels.size(),
            "ActiveLoop: {} held-out items but {} held-out labels", parts_.eval_indices.size(),
            parts_.eval_labels.size());
  ALX_CHECK(parts_.eval_indices.empty() || parts_.eval_images != nullptr,
            "ActiveLoop: held-out items given without their images");
  ALX_CHECK(options_.plateau_metric() == "accuracy" || options_.plateau_metric() == "macro_f1",
            "plateau_metric must be accuracy or macro_f1, got '{}'", options_.plateau_metric());
  // Built now, so that a bad name or parameter fails before any work.
  sampler_ = sampling::make_sampler(options_.sampler(), options_.sampler_params(), {"<loop>", "loop.sampler_params"});
  if (!options_.checkpoint_dir().empty()) std::filesystem::create_directories(options_.checkpoint_dir());
}

ActiveLoop::~ActiveLoop() = default;

std::optional<std::string> ActiveLoop::stop_reason() const {
  const Store& store = *parts_.store;
  const Pool& pool = store.pool();
  if (store.last_round() >= options_.rounds())
    return fmt::format("reached {} rounds", options_.rounds());
  if (options_.budget() > 0 && pool.num_labeled() >= options_.budget())
    return fmt::format("budget of {} labels reached ({} labeled)", options_.budget(), pool.num_labeled());
  if (pool.num_unlabeled() == 0) return std::string("no unlabeled items left");
  const int window = options_.plateau_rounds();
  if (window > 0) {
    std::vector<double> values;
    for (const auto& r : store.rounds()) {
      auto it = r.metrics.find(options_.plateau_metric());
      if (it != r.metrics.end()) values.push_back(it->second);
    }
    if (static_cast<int>(values.size()) > window) {
      const auto split = values.end() - window;
      const double before = *std::max_element(values.begin(), split);
      const double recent = *std::max_element(split, values.end());
      if (recent <= before + options_.plateau_delta())
        return fmt::format("plateau: {} has not improved by more than {} in {} rounds (best {:.4f})",
                           options_.plateau_metric(), options_.plateau_delta(), window, before);
    }
  }
  return std::nullopt;
}

RoundResult ActiveLoop::step() {
  Store& store = *parts_.store;
  Pool& pool = store.pool();
  Model& model = *parts_.model;
  const int round = next_round();
  RoundResult result;
  RoundRecord& rec = result.record;
  rec.round = round;
  const auto round_start = Clock::now();

  // 1. Train on the labeled items.
  auto t = Clock::now();
  TrainerOptions topts = parts_.trainer;
  topts.seed(round_seed(options_.seed(), round, "train"));
  const std::string& ckdir = options_.checkpoint_dir();
  if (!topts.reinit() && !ckdir.empty() && round > 1 &&
      std::filesystem::exists(checkpoint_path(ckdir, round - 1)))
    load_checkpoint_into(model, checkpoint_path(ckdir, round - 1));
  Trainer trainer(topts, parts_.train_pipeline, parts_.eval_pipeline);
  const int64_t labeled_now = pool.num_labeled();
  ALX_CHECK(labeled_now > 0, "round {}: the pool has no labeled items to train on", round);
  result.train = trainer.fit(model, parts_.images, pool);
  rec.seconds["train"] = seconds_since(t);
  rec.model_version = fmt::format("{}-s{}-r{}", model.name(), options_.seed(), round);
  if (!ckdir.empty()) save_checkpoint(model, checkpoint_path(ckdir, round), rec.model_version);

  // 2. Evaluate on the held-out set.
  t = Clock::now();
  rec.metrics["labeled"] = static_cast<double>(labeled_now);
  if (!result.train.epochs.empty()) rec.metrics["train_loss"] = result.train.epochs.back().loss;
  if (!parts_.eval_indices.empty()) {
    result.metrics = trainer.evaluate(model, parts_.eval_images, parts_.eval_indices, parts_.eval_labels);
    rec.metrics["accuracy"] = result.metrics.accuracy;
    rec.metrics["macro_f1"] = result.metrics.macro_f1;
  }
  rec.seconds["evaluate"] = seconds_since(t);

  // 3. Predict what the sampler needs over the candidates.
  t = Clock::now();
  const sampling::Sampler* sampler = sampler_.get();
  const sampling::Needs needs = sampler->needs();
  std::vector<int64_t> candidates = pool.unlabeled();
  // Near-duplicates found by `alx review` are not worth a second label: skip them.
  if (const StoredArray* skip = store.array("review_duplicate_skip"); skip && !skip->data.empty()) {
    std::vector<char> drop(static_cast<std::size_t>(pool.size()), 0);
    for (float f : skip->data)
      if (f >= 0 && f < static_cast<float>(pool.size())) drop[static_cast<std::size_t>(f)] = 1;
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                    [&](int64_t i) { return drop[static_cast<std::size_t>(i)] != 0; }),
                     candidates.end());
  }
  if (options_.pool_subsample() > 0 && static_cast<int64_t>(candidates.size()) > options_.pool_subsample()) {
    std::mt19937_64 rng(round_seed(options_.seed(), round, "subsample"));
    const auto m = static_cast<std::size_t>(options_.pool_subsample());
    for (std::size_t i = 0; i < m; ++i) {
      std::uniform_int_distribution<std::size_t> pick(i, candidates.size() - 1);
      std::swap(candidates[i], candidates[pick(rng)]);
    }
    candidates.resize(m);
    std::sort(candidates.begin(), candidates.end());
  }
  std::vector<int64_t> rows = candidates;
  if (needs.embeddings || needs.grad_embeddings) {  // labeled items count as centers / context
    const auto labeled = pool.labeled();
    rows.insert(rows.end(), labeled.begin(), labeled.end());
    std::sort(rows.begin(), rows.end());
  }
  unsigned what = kProbs;
  if (needs.mc_samples) what |= kMcSamples;
  if (needs.embeddings) what |= kEmbeddings;
  if (needs.grad_embeddings) what |= kGradEmbeddings;
  PredictorOptions popts = parts_.predictor;
  popts.seed(round_seed(options_.seed(), round, "predict"));
  Predictor predictor(popts, parts_.eval_pipeline);
  Predictions pred = predictor.predict(model, parts_.images, rows, what);
  rec.seconds["predict"] = seconds_since(t);

  // 4. Select.
  t = Clock::now();
  sampling::SamplerInput in;
  in.probs = needs.mc_samples ? pred.mc_samples : pred.probs;
  in.embeddings = pred.embeddings;
  in.grad_embeddings = pred.grad_embeddings;
  std::vector<uint8_t> is_labeled(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) is_labeled[i] = pool.is_labeled(rows[i]) ? 1 : 0;
  in.labeled = torch::tensor(std::vector<int64_t>(is_labeled.begin(), is_labeled.end())).to(torch::kBool);
  int64_t k = options_.batch_size();
  if (options_.budget() > 0) k = std::min<int64_t>(k, options_.budget() - labeled_now);
  k = std::max<int64_t>(k, 0);
  const std::vector<int64_t> local = sampler->select(in, k, round_seed(options_.seed(), round, "select"));
  rec.seconds["select"] = seconds_since(t);

  // Uncertainty, prediction and confidence of the selected items.
  t = Clock::now();
  std::string scorer = options_.uncertainty();
  if (scorer.empty() && options_.sampler_params().IsMap() && options_.sampler_params()["scorer"])
    scorer = options_.sampler_params()["scorer"].as<std::string>();
  if (scorer.empty() || !sampling::has_scorer(scorer)) scorer = "entropy";
  const bool use_mc = pred.mc_samples.defined() && sampling::scorer_needs_mc_samples(scorer);
  torch::Tensor all_scores =
      rows.empty() ? torch::zeros({0})
                   : sampling::score(use_mc ? pred.mc_samples : pred.probs, scorer).to(torch::kCPU, torch::kFloat).contiguous();
  torch::Tensor sel_probs = rows_of(pred.probs, local).to(torch::kCPU).contiguous();
  const float* score_data = all_scores.data_ptr<float>();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (is_labeled[i]) continue;
    result.candidates.push_back(rows[i]);
    result.candidate_uncertainty.push_back(score_data[i]);
  }
  result.probs = sel_probs;
  for (std::size_t j = 0; j < local.size(); ++j) {
    const int64_t item = rows[static_cast<std::size_t>(local[j])];
    rec.selected.push_back(item);
    rec.selected_ids.push_back(pool.id(item));
    rec.scores.push_back(score_data[local[j]]);
    auto [conf, arg] = sel_probs[static_cast<int64_t>(j)].max(0);
    result.predicted.push_back(static_cast<int>(arg.item<int64_t>()));
    result.confidence.push_back(conf.item<float>());
  }
  result.uncertainty = rec.scores;
  rec.seconds["score"] = seconds_since(t);
  rec.seconds["total"] = seconds_since(round_start);
  rec.note = fmt::format("sampler {} ({} candidates scored)", options_.sampler(), candidates.size());

  // 5. Record (and, in simulation, label) atomically.
  if (parts_.oracle && !rec.selected.empty())
    pool.add_labels(rec.selected, parts_.oracle->reveal(rec.selected), round);
  store.add_round(rec);
  store.save();
  return result;
}

std::string ActiveLoop::run(const std::function<void(const RoundResult&)>& on_round) {
  while (true) {
    if (auto reason = stop_reason()) return *reason;
    RoundResult r = step();
    if (on_round) on_round(r);
    if (r.record.selected.empty()) return "the sampler selected nothing";
  }
}

}  // namespace alx::training
