#include "fastmath.h"

namespace alx::sampling::detail {

// AVX-512 and AVX2+FMA clones next to the baseline one, picked at load time (GNU ifunc):
// 16 or 8 lanes instead of 4 where the CPU has them, and the same binary runs everywhere.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ALX_SIMD_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ALX_SIMD_CLONES
#endif

ALX_SIMD_CLONES
void plogp_map(const float* __restrict src, float* __restrict dst, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    float p = src[i];
    p = p > 0.0f ? p : 0.0f;
    dst[i] = p * fast_logf(p > FLT_MIN ? p : FLT_MIN);
  }
}

void plogp_map(const double* __restrict src, double* __restrict dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = plogp(src[i]);
}

namespace {
template <class S>
inline bool all_in_range_impl(const S* __restrict p, int64_t n, S lo, S hi) {
  int bad = 0;
#pragma omp simd reduction(| : bad)
  for (int64_t i = 0; i < n; ++i) bad |= !((p[i] >= lo) & (p[i] <= hi));
  return bad == 0;
}

template <class S>
inline void group_sums_impl(const S* __restrict x, int64_t groups, int64_t len, S* __restrict out) {
  if (len >= 16) {
    for (int64_t g = 0; g < groups; ++g) {
      const S* r = x + g * len;
      S s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < len; ++i) s += r[i];
      out[g] = s;
    }
    return;
  }
  // Short groups (C = 10 classes): one group per lane, columns read with a stride.
#pragma omp simd
  for (int64_t g = 0; g < groups; ++g) {
    S s = 0;
    for (int64_t i = 0; i < len; ++i) s += x[g * len + i];
    out[g] = s;
  }
}

template <class S>
inline void pass_mean_impl(const S* __restrict p, int64_t rows, int64_t T, int64_t C,
                           S* __restrict mean) {
  const S inv = S(1) / static_cast<S>(T);
  for (int64_t r = 0; r < rows; ++r) {
    const S* row = p + r * T * C;
    S* m = mean + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) m[c] = row[c];
    for (int64_t t = 1; t < T; ++t) {
      const S* q = row + t * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) m[c] += q[c];
    }
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) m[c] *= inv;
  }
}
}  // namespace

ALX_SIMD_CLONES
bool all_in_range(const float* __restrict p, int64_t n, float lo, float hi) {
  return all_in_range_impl(p, n, lo, hi);
}
bool all_in_range(const double* __restrict p, int64_t n, double lo, double hi) {
  return all_in_range_impl(p, n, lo, hi);
}

ALX_SIMD_CLONES
void group_sums(const float* __restrict x, int64_t groups, int64_t len, float* __restrict out) {
  group_sums_impl(x, groups, len, out);
}
void group_sums(const double* __restrict x, int64_t groups, int64_t len, double* __restrict out) {
  group_sums_impl(x, groups, len, out);
}

ALX_SIMD_CLONES
void pass_mean(const float* __restrict p, int64_t rows, int64_t T, int64_t C,
               float* __restrict mean) {
  pass_mean_impl(p, rows, T, C, mean);
}
void pass_mean(const double* __restrict p, int64_t rows, int64_t T, int64_t C,
               double* __restrict mean) {
  pass_mean_impl(p, rows, T, C, mean);
}

}  // namespace alx::sampling::detail

namespace alx::sampling::detail {

// 16 independent partial sums hide the add latency; GCC maps them onto two AVX2 (or four
// SSE2) registers. The order of additions is fixed, so results do not depend on threads.
ALX_SIMD_CLONES
float squared_distance(const float* __restrict a, const float* __restrict b, int64_t d) {
  float acc[16] = {0};
  int64_t j = 0;
  for (; j + 16 <= d; j += 16)
    for (int l = 0; l < 16; ++l) {
      const float t = a[j + l] - b[j + l];
      acc[l] += t * t;
    }
  float s = 0;
  for (; j < d; ++j) s += (a[j] - b[j]) * (a[j] - b[j]);
  for (int l = 0; l < 16; ++l) s += acc[l];
  return s;
}

ALX_SIMD_CLONES
float dot(const float* __restrict a, const float* __restrict b, int64_t d) {
  float acc[16] = {0};
  int64_t j = 0;
  for (; j + 16 <= d; j += 16)
    for (int l = 0; l < 16; ++l) acc[l] += a[j + l] * b[j + l];
  float s = 0;
  for (; j < d; ++j) s += a[j] * b[j];
  for (int l = 0; l < 16; ++l) s += acc[l];
  return s;
}

}  // namespace alx::sampling::detail
