// BatchBALD (Kirsch, van Amersfoort & Gal 2019): greedy maximisation of the joint
// mutual information I(y_1, …, y_n; ω) between a batch's labels and the model.
#include "common.h"
#include "impl.h"

#include <alx/sampling/scorers.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace alx::sampling {
namespace {

/// Draws a class from probabilities p[0..C) with one uniform number.
int64_t draw_class(const double* p, int64_t C, std::mt19937_64& rng) {
  const double r = detail::uniform01(rng);
  double acc = 0.0, total = 0.0;
  for (int64_t c = 0; c < C; ++c) total += p[c];
  for (int64_t c = 0; c < C; ++c) {
    acc += p[c] / total;
    if (r < acc) return c;
  }
  for (int64_t c = C - 1; c >= 0; --c)
    if (p[c] > 0.0) return c;
  return C - 1;
}

/// Samples `per_pass` joint configurations of the batch for every pass t (stratified, as
/// batchbald_redux) and returns their probabilities under every pass: [M, T].
at::Tensor sample_configurations(const at::Tensor& pb /* [n, T, C] double */, int64_t per_pass,
                                 std::mt19937_64& rng) {
  const int64_t n = pb.size(0), T = pb.size(1), C = pb.size(2);
  const double* p = pb.data_ptr<double>();
  const int64_t M = per_pass * T;
  at::Tensor logq = at::zeros({M, T}, at::kDouble);
  double* lq = logq.data_ptr<double>();
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t s = 0; s < per_pass; ++s) {
      const int64_t m = t * per_pass + s;
      for (int64_t j = 0; j < n; ++j) y[j] = draw_class(p + (j * T + t) * C, C, rng);
      for (int64_t u = 0; u < T; ++u) {
        double acc = 0.0;
        for (int64_t j = 0; j < n; ++j) acc += std::log(p[(j * T + u) * C + y[j]]);
        lq[m * T + u] = acc;
      }
    }
  }
  return logq.exp();
}

}  // namespace

BatchBaldResult batchbald_greedy(const at::Tensor& probs, const std::vector<int64_t>& candidates,
                                 int64_t k, int64_t num_samples, uint64_t seed) {
  ALX_CHECK(probs.defined() && probs.dim() == 3,
            "batchbald: probs must be [N, T, C] with T stochastic passes, got {} dimensions",
            probs.defined() ? probs.dim() : 0);
  ALX_CHECK(num_samples >= 1, "batchbald: num_samples must be >= 1, got {}", num_samples);
  validate_probabilities(probs);
  const int64_t N = probs.size(0), T = probs.size(1), C = probs.size(2);
  for (int64_t i : candidates) ALX_CHECK(i >= 0 && i < N, "batchbald: index {} out of range", i);
  BatchBaldResult res;
  k = std::min<int64_t>(k, static_cast<int64_t>(candidates.size()));
  if (k <= 0) return res;

  const at::Tensor idx = at::tensor(candidates, at::kLong);
  const at::Tensor pc = probs.to(at::kCPU, at::kDouble).index_select(0, idx).contiguous();  // [n,T,C]
  const int64_t n = pc.size(0);
  // Conditional entropies E_ω H(y_i | ω) = mean_t H(p_it).
  const at::Tensor cond_t = (-at::xlogy(pc, pc).sum({1, 2}) / static_cast<double>(T)).contiguous();
  const double* cond = cond_t.data_ptr<double>();
  // The candidates as one [T, n*C] matrix, so one matmul scores them all.
  const at::Tensor X = pc.permute({1, 0, 2}).reshape({T, n * C}).contiguous();

  auto rng = detail::make_rng(seed, 0x62626c64);
  at::Tensor P = at::ones({1, T}, at::kDouble);  // joint probabilities of batch configurations
  bool sampled = false;
  std::vector<bool> picked(static_cast<size_t>(n), false);
  std::vector<int64_t> picked_pos;
  double cond_sum = 0.0;
  std::vector<double> score(static_cast<size_t>(n));
  const int64_t chunk_elems = 1 << 22;  // bound the [M, b*C] intermediate to ~32 MB

  for (int64_t step = 0; step < k; ++step) {
    const int64_t M = P.size(0);
    const int64_t b = std::max<int64_t>(1, chunk_elems / std::max<int64_t>(1, M * C));
    const at::Tensor q = P.mean(1, /*keepdim=*/true);  // [M, 1]: p(configuration)
    for (int64_t c0 = 0; c0 < n; c0 += b) {
      const int64_t c1 = std::min(n, c0 + b);
      const at::Tensor joint = at::mm(P, X.slice(1, c0 * C, c1 * C)) / static_cast<double>(T);
      at::Tensor nats = at::xlogy(joint, joint);  // [M, b*C]
      if (sampled) nats = nats / q;               // importance weights p/q, averaged over M
      at::Tensor h = -nats.sum(0).view({c1 - c0, C}).sum(1);
      if (sampled) h = h / static_cast<double>(M);
      h = h.contiguous();
      const double* hp = h.data_ptr<double>();
      for (int64_t i = c0; i < c1; ++i) score[i] = hp[i - c0] - (cond_sum + cond[i]);
    }
    int64_t best = -1;
    double best_v = -std::numeric_limits<double>::infinity();
    for (int64_t i = 0; i < n; ++i)
      if (!picked[i] && (best < 0 || score[i] > best_v)) {
        best = i;
        best_v = score[i];
      }
    picked[best] = true;
    picked_pos.push_back(best);
    res.indices.push_back(candidates[best]);
    res.joint_mi.push_back(best_v);
    cond_sum += cond[best];
    if (step + 1 == k) break;
    // Add the new variable to the joint: exactly while C^n configurations fit, else resample.
    const double exact_size = static_cast<double>(M) * static_cast<double>(C);
    if (!sampled && exact_size <= static_cast<double>(num_samples)) {
      const at::Tensor pi = pc[best];  // [T, C]
      P = (P.t().unsqueeze(2) * pi.unsqueeze(1)).reshape({T, M * C}).t().contiguous();
    } else {
      sampled = true;
      const at::Tensor pb = pc.index_select(0, at::tensor(picked_pos, at::kLong)).contiguous();
      P = sample_configurations(pb, std::max<int64_t>(1, num_samples / T), rng);
    }
  }
  return res;
}

namespace detail {

std::vector<int64_t> BatchBaldSampler::select(const SamplerInput& in, int64_t k,
                                              uint64_t seed) const {
  PoolView pool = resolve(in, k, name());
  ALX_CHECK(in.probs.defined() && in.probs.dim() == 3,
            "sampler 'batchbald' needs SamplerInput.probs [N, T, C] with T > 1 stochastic passes "
            "(MC dropout or an ensemble)");
  k = clamp_k(k, static_cast<int64_t>(pool.candidates.size()), name());
  if (k == 0) return {};
  std::vector<int64_t> cand = pool.candidates;
  if (opts_.prefilter() > 0 && static_cast<int64_t>(cand.size()) > opts_.prefilter()) {
    const std::vector<double> s = item_scores(in, cand, "bald", name());
    cand = top_k(s, cand, std::max(opts_.prefilter(), k));
    std::sort(cand.begin(), cand.end());
  }
  return batchbald_greedy(in.probs, cand, k, opts_.num_samples(), seed).indices;
}

}  // namespace detail
}  // namespace alx::sampling
