// BatchBALD (Kirsch, van Amersfoort & Gal 2019): greedy maximisation of the joint
// mutual information I(y_1, …, y_n; ω) between a batch's labels and the model.
#include "common.h"
#include "fastmath.h"
#include "impl.h"

#include <ATen/Parallel.h>

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

/// The configurations of the current batch, stored so that float32 suffices however
/// small the joint probabilities get: for configuration m and pass t,
/// P[m, t] = q_m · Pn[m, t] with q_m = mean_t P[m, t] (so rows of Pn average to 1).
/// The joint entropy of the batch with a candidate i is then
///   H_i = −Σ_m w_m Σ_c Q̃_mc log Q̃_mc − Σ_m w_m log q_m,  Q̃_mc = mean_t Pn[m, t] p_it(c),
/// with w_m = q_m for exact enumeration and w_m = 1/M for configurations sampled from the
/// joint (the importance-sampling estimator of batchbald_redux, rewritten in these terms).
struct Joint {
  at::Tensor pn;       // [M, T] float32
  at::Tensor w;        // [M] float32
  double offset = 0;   // Σ_m w_m log q_m
};

/// From log P [M, T] (double) and whether the rows are all configurations (exact) or samples.
Joint make_joint(at::Tensor logp, bool exact) {
  const int64_t T = logp.size(1);
  at::Tensor logq = at::logsumexp(logp, 1, /*keepdim=*/true) - std::log(double(T));  // [M,1]
  // Configurations of probability 0 under every pass contribute nothing: drop them.
  const at::Tensor alive = at::isfinite(logq.squeeze(1));
  if (!alive.all().item<bool>()) {
    const at::Tensor keep = alive.nonzero().squeeze(1);
    logp = logp.index_select(0, keep);
    logq = logq.index_select(0, keep);
  }
  const int64_t M = logp.size(0);
  Joint j;
  j.pn = (logp - logq).exp().to(at::kFloat).contiguous();
  const at::Tensor lq = logq.squeeze(1);
  const at::Tensor w = exact ? lq.exp() : at::full({M}, 1.0 / double(M), at::kDouble);
  j.offset = (w * lq).sum().item<double>();
  j.w = w.to(at::kFloat).contiguous();
  return j;
}

/// Samples `per_pass` joint configurations of the batch for every pass t (stratified, as
/// batchbald_redux) and returns log P[m, u] under every pass u: [M, T] double.
at::Tensor sample_configurations(const at::Tensor& pb /* [n, T, C] double */, int64_t per_pass,
                                 std::mt19937_64& rng) {
  const int64_t n = pb.size(0), T = pb.size(1), C = pb.size(2);
  const double* p = pb.data_ptr<double>();
  const int64_t M = per_pass * T;
  at::Tensor logp = at::zeros({M, T}, at::kDouble);
  double* lp = logp.data_ptr<double>();
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t s = 0; s < per_pass; ++s) {
      const int64_t m = t * per_pass + s;
      for (int64_t j = 0; j < n; ++j) y[j] = draw_class(p + (j * T + t) * C, C, rng);
      for (int64_t u = 0; u < T; ++u) {
        double acc = 0.0;
        for (int64_t j = 0; j < n; ++j) acc += std::log(p[(j * T + u) * C + y[j]]);
        lp[m * T + u] = acc;
      }
    }
  }
  return logp;
}

}  // namespace

BatchBaldResult batchbald_greedy(const at::Tensor& probs, const std::vector<int64_t>& candidates,
                                 int64_t k, int64_t num_samples, uint64_t seed) {
  ALX_CHECK(probs.defined() && probs.dim() == 3,
            "batchbald: probs must be [N, T, C] with T stochastic passes, got {} dimensions",
            probs.defined() ? probs.dim() : 0);
  ALX_CHECK(num_samples >= 1, "batchbald: num_samples must be >= 1, got {}", num_samples);
  const int64_t N = probs.size(0), T = probs.size(1), C = probs.size(2);
  for (int64_t i : candidates) ALX_CHECK(i >= 0 && i < N, "batchbald: index {} out of range", i);
  BatchBaldResult res;
  k = std::min<int64_t>(k, static_cast<int64_t>(candidates.size()));
  if (k <= 0) return res;

  const at::Tensor idx = at::tensor(candidates, at::kLong);
  const at::Tensor pcf = probs.to(at::kCPU).index_select(0, idx).to(at::kFloat).contiguous();
  validate_probabilities(pcf);
  const at::Tensor pc = pcf.to(at::kDouble);  // [n, T, C]
  const int64_t n = pc.size(0);
  // Conditional entropies E_ω H(y_i | ω) = mean_t H(p_it).
  std::vector<double> cond(static_cast<size_t>(n));
  {
    at::Tensor nats = at::empty_like(pcf);
    detail::plogp_map(pcf.data_ptr<float>(), nats.data_ptr<float>(), pcf.numel());
    const at::Tensor c = (-nats.to(at::kDouble).sum({1, 2}) / double(T)).contiguous();
    std::copy(c.data_ptr<double>(), c.data_ptr<double>() + n, cond.begin());
  }
  // The candidates as one [T, n*C] matrix, so one matmul scores a block of them.
  const at::Tensor X = pcf.permute({1, 0, 2}).reshape({T, n * C}).contiguous() / float(T);

  auto rng = detail::make_rng(seed, 0x62626c64);
  at::Tensor logp = at::zeros({1, T}, at::kDouble);  // exact joint, log domain
  bool sampled = false;
  Joint joint = make_joint(logp, true);
  std::vector<bool> picked(static_cast<size_t>(n), false);
  std::vector<int64_t> picked_pos;
  double cond_sum = 0.0;
  std::vector<double> score(static_cast<size_t>(n));
  at::Tensor q, nats, colsum;

  for (int64_t step = 0; step < k; ++step) {
    const int64_t M = joint.pn.size(0);
    // Blocks of candidates whose [M, b*C] intermediate stays in cache (~4 MB).
    const int64_t b = std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(1, M * C));
    for (int64_t c0 = 0; c0 < n; c0 += b) {
      const int64_t c1 = std::min(n, c0 + b), w = (c1 - c0) * C;
      q = at::mm(joint.pn, X.slice(1, c0 * C, c1 * C));  // Q̃: [M, w]
      nats = at::empty_like(q);
      float* qp = q.data_ptr<float>();
      float* np = nats.data_ptr<float>();
      at::parallel_for(0, M * w, 1 << 14, [&](int64_t s0, int64_t s1) {
        detail::plogp_map(qp + s0, np + s0, s1 - s0);
      });
      colsum = at::mv(nats.t(), joint.w).to(at::kDouble).view({c1 - c0, C}).sum(1).contiguous();
      const double* hs = colsum.data_ptr<double>();
      for (int64_t i = c0; i < c1; ++i)
        score[i] = (-hs[i - c0] - joint.offset) - (cond_sum + cond[i]);
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
    // Add the new variable: exactly while the C^n configurations fit, else resample them.
    if (!sampled && double(M) * double(C) <= double(num_samples)) {
      const at::Tensor lpi = pc[best].log();  // [T, C]
      logp = (logp.t().unsqueeze(2) + lpi.unsqueeze(1)).reshape({T, M * C}).t().contiguous();
      joint = make_joint(logp, true);
    } else {
      sampled = true;
      const at::Tensor pb = pc.index_select(0, at::tensor(picked_pos, at::kLong)).contiguous();
      joint = make_joint(sample_configurations(pb, std::max<int64_t>(1, num_samples / T), rng),
                         false);
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
