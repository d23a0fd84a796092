#include "common.h"

#include <alx/sampling/scorers.h>

#include <algorithm>
#include <numeric>

namespace alx::sampling {

int64_t SamplerInput::size() const {
  ALX_CHECK(labeled.defined(), "SamplerInput.labeled is required: a [N] bool mask");
  ALX_CHECK(labeled.dim() == 1, "SamplerInput.labeled must be [N], got {} dimensions",
            labeled.dim());
  ALX_CHECK(labeled.scalar_type() == at::kBool, "SamplerInput.labeled must be bool, got {}",
            std::string(c10::toString(labeled.scalar_type())));
  const int64_t n = labeled.size(0);
  auto same = [n](const at::Tensor& t, const char* field) {
    if (!t.defined()) return;
    ALX_CHECK(t.dim() >= 1 && t.size(0) == n,
              "SamplerInput.{} has {} rows but labeled has {} (shapes must agree on N)", field,
              t.dim() >= 1 ? t.size(0) : 0, n);
  };
  same(probs, "probs");
  same(embeddings, "embeddings");
  same(grad_embeddings, "grad_embeddings");
  same(scores, "scores");
  same(candidates, "candidates");
  if (candidates.defined())
    ALX_CHECK(candidates.dim() == 1 && candidates.scalar_type() == at::kBool,
              "SamplerInput.candidates must be a [N] bool mask");
  return n;
}

std::string Needs::describe() const {
  std::string s;
  auto add = [&s](bool on, const char* what) {
    if (on) s += (s.empty() ? "" : ", ") + std::string(what);
  };
  add(probs && !mc_samples, "probs");
  add(mc_samples, "probs with T > 1 passes");
  add(embeddings, "embeddings");
  add(grad_embeddings, "grad_embeddings");
  return s.empty() ? "nothing" : s;
}

namespace detail {

PoolView resolve(const SamplerInput& in, int64_t k, const std::string& who) {
  ALX_CHECK(k >= 0, "{}: k must be >= 0, got {}", who, k);
  PoolView v;
  v.n = in.size();
  const at::Tensor lab = in.labeled.to(at::kCPU).contiguous();
  const bool* l = lab.data_ptr<bool>();
  at::Tensor cand;
  const bool* c = nullptr;
  if (in.candidates.defined()) {
    cand = in.candidates.to(at::kCPU).contiguous();
    c = cand.data_ptr<bool>();
  }
  for (int64_t i = 0; i < v.n; ++i) {
    if (l[i])
      v.labeled.push_back(i);
    else if (!c || c[i])
      v.candidates.push_back(i);
  }
  return v;
}

at::Tensor cpu_contiguous(const at::Tensor& t, at::ScalarType type) {
  return t.to(at::kCPU, type).contiguous();
}

void require(const at::Tensor& t, const char* field, int64_t dims, const std::string& who,
             const char* shape) {
  ALX_CHECK(t.defined(), "sampler '{}' needs SamplerInput.{} {}", who, field, shape);
  ALX_CHECK(t.dim() == dims, "sampler '{}': SamplerInput.{} must be {}, got {} dimensions", who,
            field, shape, t.dim());
  ALX_CHECK(t.is_floating_point(), "sampler '{}': SamplerInput.{} must be floating point", who,
            field);
}

std::vector<double> item_scores(const SamplerInput& in, const std::vector<int64_t>& items,
                                const std::string& scorer, const std::string& who) {
  at::Tensor s;
  const at::Tensor idx = at::tensor(items, at::kLong);
  if (in.scores.defined()) {
    ALX_CHECK(in.scores.dim() == 1, "sampler '{}': SamplerInput.scores must be [N]", who);
    s = in.scores.to(at::kCPU, at::kDouble).index_select(0, idx);
  } else {
    ALX_CHECK(in.probs.defined(),
              "sampler '{}' needs SamplerInput.probs [N, T, C] (or precomputed scores [N])", who);
    at::Tensor p = in.probs.to(at::kCPU);
    if (static_cast<int64_t>(items.size()) != p.size(0)) p = p.index_select(0, idx);
    s = score(p, scorer).to(at::kDouble);
  }
  s = s.contiguous();
  std::vector<double> out(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
  for (size_t i = 0; i < out.size(); ++i)
    ALX_CHECK(!std::isnan(out[i]), "sampler '{}': score of item {} is NaN", who, items[i]);
  return out;
}

std::vector<int64_t> top_k(const std::vector<double>& scores, const std::vector<int64_t>& items,
                           int64_t k) {
  std::vector<int64_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  k = std::min<int64_t>(k, static_cast<int64_t>(order.size()));
  auto better = [&](int64_t a, int64_t b) {
    if (scores[a] != scores[b]) return scores[a] > scores[b];
    return items[a] < items[b];
  };
  std::partial_sort(order.begin(), order.begin() + k, order.end(), better);
  std::vector<int64_t> out(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) out[i] = items[order[i]];
  return out;
}

int64_t clamp_k(int64_t k, int64_t available, const std::string& who) {
  if (k > available) {
    log::warn("sampler '{}': asked for {} items but only {} unlabeled candidates remain; "
              "returning {}",
              who, k, available, available);
    return available;
  }
  return k;
}

SamplerInput restrict_to(const SamplerInput& in, const std::vector<int64_t>& items, int64_t n) {
  SamplerInput out = in;
  at::Tensor mask = at::zeros({n}, at::kBool);
  bool* m = mask.data_ptr<bool>();
  for (int64_t i : items) m[i] = true;
  out.candidates = mask;
  return out;
}

std::vector<int64_t> predicted_classes(const at::Tensor& probs) {
  at::Tensor p = probs.to(at::kCPU);
  if (p.dim() == 3) p = p.mean(1);
  const at::Tensor am = p.argmax(1).contiguous();  // first maximum: lower class wins ties
  return std::vector<int64_t>(am.data_ptr<int64_t>(), am.data_ptr<int64_t>() + am.numel());
}

}  // namespace detail
}  // namespace alx::sampling
