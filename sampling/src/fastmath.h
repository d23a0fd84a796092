// Internal: a branch-free natural logarithm that GCC vectorises in plain loops.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace alx::sampling::detail {

/// ln(x) for finite x > 0 (FLT_MIN ≤ x), within ~2 ulp of logf (Cephes polynomial).
/// Branch-free so that a loop over a buffer becomes SIMD code.
inline float fast_logf(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int e = static_cast<int>(bits >> 23) - 127;
  bits = (bits & 0x007fffffu) | 0x3f800000u;  // mantissa in [1, 2)
  float m;
  std::memcpy(&m, &bits, sizeof m);
  // Move m to [sqrt(1/2), sqrt(2)) so that the polynomial argument is small.
  // Selects of constants only (no conditional arithmetic), so the loop if-converts under
  // the default -ftrapping-math.
  const bool big = m > 1.41421356f;
  m *= big ? 0.5f : 1.0f;
  e += big ? 1 : 0;
  const float z = m - 1.0f;
  const float z2 = z * z;
  float y = 7.0376836292e-2f;
  y = y * z - 1.1514610310e-1f;
  y = y * z + 1.1676998740e-1f;
  y = y * z - 1.2420140846e-1f;
  y = y * z + 1.4249322787e-1f;
  y = y * z - 1.6668057665e-1f;
  y = y * z + 2.0000714765e-1f;
  y = y * z - 2.4999993993e-1f;
  y = y * z + 3.3333331174e-1f;
  y = y * z * z2;
  const float fe = static_cast<float>(e);
  y += -2.12194440e-4f * fe;
  y += -0.5f * z2;
  return z + y + 0.693359375f * fe;
}

/// p · ln(p) with 0 · ln 0 = 0; negative p (within tolerance) counts as 0.
inline float plogp(float p) {
  p = p > 0.0f ? p : 0.0f;
  return p * fast_logf(p > FLT_MIN ? p : FLT_MIN);
}
inline double plogp(double p) { return p > 0.0 ? p * std::log(p) : 0.0; }

/// dst[i] = p·ln p of src[i], for a whole buffer: a plain map loop that GCC turns into SIMD
/// code (a reduction over a short row of C = 10 would stay scalar).
void plogp_map(const float* __restrict src, float* __restrict dst, int64_t n);
void plogp_map(const double* __restrict src, double* __restrict dst, int64_t n);

/// Whether every p[i] of n lies in [lo, hi] (false for NaN).
bool all_in_range(const float* __restrict p, int64_t n, float lo, float hi);
bool all_in_range(const double* __restrict p, int64_t n, double lo, double hi);
/// out[g] = Σ_i x[g·len + i]: the sums of `groups` consecutive groups of `len` values.
void group_sums(const float* __restrict x, int64_t groups, int64_t len, float* __restrict out);
void group_sums(const double* __restrict x, int64_t groups, int64_t len, double* __restrict out);
/// mean[r·C + c] = (1/T) Σ_t p[(r·T + t)·C + c]: the mean over passes of `rows` rows [T, C].
void pass_mean(const float* __restrict p, int64_t rows, int64_t T, int64_t C,
               float* __restrict mean);
void pass_mean(const double* __restrict p, int64_t rows, int64_t T, int64_t C,
               double* __restrict mean);

/// Σ_j (a_j − b_j)² and Σ_j a_j b_j over d floats, SIMD (AVX2 where the CPU has it).
float squared_distance(const float* __restrict a, const float* __restrict b, int64_t d);
float dot(const float* __restrict a, const float* __restrict b, int64_t d);

}  // namespace alx::sampling::detail
