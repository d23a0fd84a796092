#include <alx/sampling/scorers.h>

#include <alx/core/error.h>

#include "fastmath.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <mutex>

namespace alx::sampling {
namespace {

enum class Method { kLeastConfidence, kMargin, kRatio, kEntropy, kBald, kVariationRatios, kMeanStd };

const std::map<std::string, Method>& builtin_methods() {
  static const std::map<std::string, Method> m = {
      {"least_confidence", Method::kLeastConfidence}, {"margin", Method::kMargin},
      {"ratio", Method::kRatio},                      {"entropy", Method::kEntropy},
      {"bald", Method::kBald},                        {"variation_ratios", Method::kVariationRatios},
      {"mean_std", Method::kMeanStd}};
  return m;
}

bool method_needs_mc(Method m) {
  return m == Method::kBald || m == Method::kVariationRatios || m == Method::kMeanStd;
}

/// Shapes [N, C] → [N, 1, C]; checks rank, dtype and sizes.
at::Tensor as_ntc(const at::Tensor& probs, const char* what) {
  ALX_CHECK(probs.defined(), "{}: probs is undefined; expected a [N, T, C] or [N, C] tensor", what);
  ALX_CHECK(probs.dim() == 2 || probs.dim() == 3,
            "{}: probs must be [N, C] or [N, T, C], got {} dimensions", what, probs.dim());
  ALX_CHECK(probs.scalar_type() == at::kFloat || probs.scalar_type() == at::kDouble,
            "{}: probs must be float32 or float64, got {}", what,
            std::string(c10::toString(probs.scalar_type())));
  at::Tensor p = probs.dim() == 2 ? probs.unsqueeze(1) : probs;
  ALX_CHECK(p.size(1) >= 1 && p.size(2) >= 1, "{}: probs has an empty pass or class dimension {}",
            what, fmt::join(p.sizes(), "x"));
  return p.device().is_cpu() ? p.contiguous() : p.to(at::kCPU).contiguous();
}

/// First bad (row, pass) of a block, or false. Scalar but cheap next to the log.
template <class S>
bool row_is_probability(const S* row, int64_t T, int64_t C, double tol, int64_t* bad_pass) {
  const S lo = static_cast<S>(-tol), hi = static_cast<S>(1.0 + tol);
  for (int64_t t = 0; t < T; ++t) {
    const S* p = row + t * C;
    double sum = 0.0;
    bool ok = true;
    for (int64_t c = 0; c < C; ++c) {
      ok &= (p[c] >= lo) & (p[c] <= hi);  // false for NaN
      sum += p[c];
    }
    if (!ok || std::abs(sum - 1.0) > tol) {
      *bad_pass = t;
      return false;
    }
  }
  return true;
}

template <class S>
[[noreturn]] void throw_bad_row(const S* data, int64_t row, int64_t pass, int64_t T, int64_t C,
                                double tol) {
  const S* p = data + (row * T + pass) * C;
  double sum = 0.0;
  for (int64_t c = 0; c < C; ++c) {
    if (!std::isfinite(static_cast<double>(p[c])))
      ALX_THROW(InvalidArgument, "probs: row {} (pass {}), class {}: value {} is not finite", row,
                pass, c, static_cast<double>(p[c]));
    if (p[c] < -tol || p[c] > 1.0 + tol)
      ALX_THROW(InvalidArgument,
                "probs: row {} (pass {}), class {}: value {} is not a probability; pass "
                "from_logits=true for logits",
                row, pass, c, static_cast<double>(p[c]));
    sum += p[c];
  }
  ALX_THROW(InvalidArgument,
            "probs: row {} (pass {}) sums to {:.6g}, not 1 (tolerance {}); pass from_logits=true "
            "for logits",
            row, pass, sum, tol);
}

template <class S>
void top_two(const S* p, int64_t C, S* first, S* second) {
  // Branch-free: the second largest is the max over x of min(x, largest so far).
  S a = -std::numeric_limits<S>::infinity(), b = a;
  for (int64_t c = 0; c < C; ++c) {
    const S x = p[c];
    b = std::max(b, std::min(a, x));
    a = std::max(a, x);
  }
  *first = a;
  *second = C > 1 ? b : S(0);
}

/// Fast check of a block of rows: every value in [−tol, 1 + tol] (NaN fails) and every
/// row sum within tol of 1. False means "look closer" (row_is_probability finds which).
/// `sums` holds `rows` values.
template <class S>
bool block_is_probability(const S* block, int64_t rows, int64_t C, double tol, S* sums) {
  if (!detail::all_in_range(block, rows * C, static_cast<S>(-tol), static_cast<S>(1.0 + tol)))
    return false;
  detail::group_sums(block, rows, C, sums);
  const S stol = static_cast<S>(tol);
  int bad = 0;
  for (int64_t r = 0; r < rows; ++r) bad |= std::abs(sums[r] - S(1)) > stol;
  return bad == 0;
}

/// One fused pass: validation, mean over passes and the score, block by block.
template <class S>
void score_rows(const S* data, int64_t N, int64_t T, int64_t C, Method method, bool validate,
                double tol, S* out, std::atomic<int64_t>& first_bad_row,
                std::atomic<int64_t>& first_bad_pass) {
  constexpr int64_t kBlock = 256;
  const int64_t row_len = T * C;
  at::parallel_for(0, N, kBlock, [&](int64_t begin, int64_t end) {
    std::vector<S> mean(static_cast<size_t>(kBlock * C));
    std::vector<S> nats;  // p·ln p of a block, flat
    std::vector<S> sums(static_cast<size_t>(kBlock * T));
    std::vector<S> sq(static_cast<size_t>(C));
    std::vector<int64_t> votes(static_cast<size_t>(C));
    for (int64_t b0 = begin; b0 < end; b0 += kBlock) {
      const int64_t b1 = std::min(end, b0 + kBlock);
      const S* block = data + b0 * row_len;
      if (validate && !block_is_probability(block, (b1 - b0) * T, C, tol, sums.data())) {
        for (int64_t n = b0; n < b1; ++n) {
          int64_t pass = 0;
          if (!row_is_probability(data + n * row_len, T, C, tol, &pass)) {
            int64_t cur = first_bad_row.load();
            while (n < cur && !first_bad_row.compare_exchange_weak(cur, n)) {
            }
            if (first_bad_row.load() == n) first_bad_pass.store(pass);
            return;
          }
        }
      }
      // p̄ for the block: the input itself when T = 1.
      const S* pbar = block;
      if (T > 1 && method != Method::kVariationRatios) {  // the votes need no mean
        detail::pass_mean(block, b1 - b0, T, C, mean.data());
        pbar = mean.data();
      }
      switch (method) {
        case Method::kEntropy:
        case Method::kBald: {
          const int64_t rows = b1 - b0;
          nats.resize(static_cast<size_t>(rows * (method == Method::kBald ? row_len : C)));
          detail::plogp_map(pbar, nats.data(), rows * C);
          detail::group_sums(nats.data(), rows, C, out + b0);
          for (int64_t r = 0; r < rows; ++r) out[b0 + r] = -out[b0 + r];
          if (method == Method::kBald) {
            detail::plogp_map(block, nats.data(), rows * row_len);
            detail::group_sums(nats.data(), rows, row_len, sums.data());
            const S inv = S(1) / static_cast<S>(T);
            for (int64_t r = 0; r < rows; ++r)
              out[b0 + r] = std::max(S(0), out[b0 + r] + sums[r] * inv);
          }
          break;
        }
        case Method::kLeastConfidence:
        case Method::kMargin:
        case Method::kRatio:
          for (int64_t n = b0; n < b1; ++n) {
            S a, b;
            top_two(pbar + (n - b0) * C, C, &a, &b);
            if (method == Method::kLeastConfidence)
              out[n] = S(1) - a;
            else if (method == Method::kMargin)
              out[n] = S(1) - (a - b);
            else
              out[n] = a > S(0) ? b / a : S(1);  // all-zero row only without validation
          }
          break;
        case Method::kVariationRatios:
          for (int64_t n = b0; n < b1; ++n) {
            std::fill(votes.begin(), votes.end(), 0);
            const S* row = data + n * row_len;
            for (int64_t t = 0; t < T; ++t) {
              const S* p = row + t * C;
              // Branch-free argmax (selects, not jumps: the winner is unpredictable);
              // strict > keeps the lower index on ties.
              int64_t best = 0;
              S top = p[0];
              for (int64_t c = 1; c < C; ++c) {
                const bool above = p[c] > top;
                best = above ? c : best;
                top = above ? p[c] : top;
              }
              ++votes[static_cast<size_t>(best)];
            }
            const int64_t modal = *std::max_element(votes.begin(), votes.end());
            out[n] = S(1) - static_cast<S>(modal) / static_cast<S>(T);
          }
          break;
        case Method::kMeanStd:
          for (int64_t n = b0; n < b1; ++n) {
            const S* row = data + n * row_len;
            const S* m = pbar + (n - b0) * C;
            std::fill(sq.begin(), sq.end(), S(0));
            for (int64_t t = 0; t < T; ++t) {
              const S* p = row + t * C;
              for (int64_t c = 0; c < C; ++c) {
                const S d = p[c] - m[c];
                sq[c] += d * d;
              }
            }
            S total = 0;
            for (int64_t c = 0; c < C; ++c) total += std::sqrt(sq[c] / static_cast<S>(T));
            out[n] = total / static_cast<S>(C);
          }
          break;
      }
    }
  });
}

at::Tensor run_builtin(const at::Tensor& probs, Method method, const ScoreOptions& opts) {
  at::Tensor p = as_ntc(probs, "score");
  const bool logits = opts.from_logits();
  if (logits) p = at::softmax(p, -1);
  const int64_t N = p.size(0), T = p.size(1), C = p.size(2);
  if (method == Method::kMargin || method == Method::kRatio)
    ALX_CHECK(C >= 2, "score: '{}' needs at least 2 classes, got C = {}",
              method == Method::kMargin ? "margin" : "ratio", C);
  at::Tensor out = at::empty({N}, p.options());
  std::atomic<int64_t> bad_row{std::numeric_limits<int64_t>::max()};
  std::atomic<int64_t> bad_pass{0};
  const bool validate = opts.validate() && !logits;
  AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "alx_score", [&] {
    score_rows<scalar_t>(p.data_ptr<scalar_t>(), N, T, C, method, validate, opts.tolerance(),
                         out.data_ptr<scalar_t>(), bad_row, bad_pass);
    if (bad_row.load() != std::numeric_limits<int64_t>::max()) {
      // Rows are checked block by block; rescan up to the reported row for the first bad one.
      const int64_t limit = bad_row.load();
      for (int64_t n = 0; n <= limit; ++n) {
        int64_t pass = 0;
        if (!row_is_probability(p.data_ptr<scalar_t>() + n * T * C, T, C, opts.tolerance(), &pass))
          throw_bad_row(p.data_ptr<scalar_t>(), n, pass, T, C, opts.tolerance());
      }
    }
  });
  if (logits) {
    // softmax of a non-finite logit gives NaN: say which row.
    const at::Tensor finite = at::isfinite(out);
    if (!finite.all().item<bool>()) {
      const int64_t row = (~finite).nonzero()[0][0].item<int64_t>();
      ALX_THROW(InvalidArgument, "score: logits row {} is not finite", row);
    }
  }
  return out;
}

class BuiltinScorer final : public Scorer {
 public:
  BuiltinScorer(std::string name, Method m) : name_(std::move(name)), method_(m) {}
  torch::Tensor score(const torch::Tensor& probs) const override {
    return run_builtin(probs, method_, ScoreOptions().validate(false));
  }
  std::string name() const override { return name_; }
  bool needs_mc_samples() const override { return method_needs_mc(method_); }

 private:
  std::string name_;
  Method method_;
};

struct Registry {
  std::mutex mu;
  std::map<std::string, ScorerFactory> user;
};
Registry& registry() {
  static Registry r;
  return r;
}

std::string known_names() {
  std::string s;
  for (const auto& n : scorer_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

void validate_probabilities(const torch::Tensor& probs, double tolerance) {
  at::Tensor p = as_ntc(probs, "validate_probabilities");
  const int64_t N = p.size(0), T = p.size(1), C = p.size(2);
  AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "alx_validate", [&] {
    const scalar_t* d = p.data_ptr<scalar_t>();
    std::atomic<int64_t> bad{std::numeric_limits<int64_t>::max()};
    at::parallel_for(0, N, 1024, [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) {
        int64_t pass = 0;
        if (!row_is_probability(d + n * T * C, T, C, tolerance, &pass)) {
          int64_t cur = bad.load();
          while (n < cur && !bad.compare_exchange_weak(cur, n)) {
          }
          return;
        }
      }
    });
    if (bad.load() != std::numeric_limits<int64_t>::max()) {
      const int64_t n = bad.load();
      int64_t pass = 0;
      row_is_probability(d + n * T * C, T, C, tolerance, &pass);
      throw_bad_row(d, n, pass, T, C, tolerance);
    }
  });
}

torch::Tensor score(const torch::Tensor& probs, const std::string& method,
                    const ScoreOptions& opts) {
  const auto& builtins = builtin_methods();
  if (auto it = builtins.find(method); it != builtins.end())
    return run_builtin(probs, it->second, opts);
  std::unique_ptr<Scorer> scorer = make_scorer(method);  // throws for unknown names
  at::Tensor p = as_ntc(probs, "score");
  if (opts.from_logits())
    p = at::softmax(p, -1);
  else if (opts.validate())
    validate_probabilities(p, opts.tolerance());
  at::Tensor out = scorer->score(probs.dim() == 2 ? p.squeeze(1) : p);
  ALX_CHECK(out.defined() && out.dim() == 1 && out.size(0) == p.size(0),
            "scorer '{}' returned a tensor of shape [{}], expected [{}]", method,
            out.defined() ? fmt::format("{}", fmt::join(out.sizes(), ", ")) : "undefined",
            p.size(0));
  return out;
}

void register_scorer(const std::string& name, ScorerFactory factory) {
  ALX_CHECK(!name.empty(), "register_scorer: empty name");
  ALX_CHECK(static_cast<bool>(factory), "register_scorer('{}'): empty factory", name);
  ALX_CHECK(!builtin_methods().count(name), "register_scorer: '{}' is a built-in scorer", name);
  std::lock_guard<std::mutex> lock(registry().mu);
  registry().user[name] = std::move(factory);
}

std::unique_ptr<Scorer> make_scorer(const std::string& name) {
  const auto& builtins = builtin_methods();
  if (auto it = builtins.find(name); it != builtins.end())
    return std::make_unique<BuiltinScorer>(name, it->second);
  ScorerFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry().mu);
    auto it = registry().user.find(name);
    if (it != registry().user.end()) factory = it->second;
  }
  ALX_CHECK(static_cast<bool>(factory), "unknown scorer '{}'; known scorers: {}", name,
            known_names());
  std::unique_ptr<Scorer> s = factory();
  ALX_CHECK(s != nullptr, "scorer factory '{}' returned null", name);
  return s;
}

std::vector<std::string> scorer_names() {
  std::vector<std::string> names;
  for (const auto& kv : builtin_methods()) names.push_back(kv.first);
  {
    std::lock_guard<std::mutex> lock(registry().mu);
    for (const auto& kv : registry().user) names.push_back(kv.first);
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool has_scorer(const std::string& name) {
  if (builtin_methods().count(name)) return true;
  std::lock_guard<std::mutex> lock(registry().mu);
  return registry().user.count(name) > 0;
}

bool scorer_needs_mc_samples(const std::string& name) {
  if (auto it = builtin_methods().find(name); it != builtin_methods().end())
    return method_needs_mc(it->second);
  return make_scorer(name)->needs_mc_samples();
}

}  // namespace alx::sampling
