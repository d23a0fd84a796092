#include "fastmath.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace alx::sampling::detail {

// An AVX2+FMA clone next to the baseline one, picked at load time (GNU ifunc): 8 lanes
// instead of 4 where the CPU has them, and the same binary still runs everywhere.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ALX_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
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

namespace alx::sampling::detail {

#ifdef ALX_HAVE_FLOAT16
// Written with intrinsics: GCC's auto-vectorised _Float16 loop inserts lanes one by one.
__attribute__((target("avx2,f16c,fma"))) static float half_squared_distance_avx2(
    const _Float16* __restrict a, const float* __restrict b, int64_t d) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= d; j += 16) {
    const __m256 a0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + j)));
    const __m256 a1 =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + j + 8)));
    const __m256 t0 = _mm256_sub_ps(a0, _mm256_loadu_ps(b + j));
    const __m256 t1 = _mm256_sub_ps(a1, _mm256_loadu_ps(b + j + 8));
    acc0 = _mm256_fmadd_ps(t0, t0, acc0);
    acc1 = _mm256_fmadd_ps(t1, t1, acc1);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(acc0, acc1));
  float s = 0;
  for (; j < d; ++j) {
    const float t = static_cast<float>(a[j]) - b[j];
    s += t * t;
  }
  for (float v : lanes) s += v;
  return s;
}

__attribute__((target("avx2,f16c,fma"))) static float half_dot_avx2(
    const _Float16* __restrict a, const float* __restrict b, int64_t d) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= d; j += 16) {
    const __m256 a0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + j)));
    const __m256 a1 =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + j + 8)));
    acc0 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b + j), acc0);
    acc1 = _mm256_fmadd_ps(a1, _mm256_loadu_ps(b + j + 8), acc1);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(acc0, acc1));
  float s = 0;
  for (; j < d; ++j) s += static_cast<float>(a[j]) * b[j];
  for (float v : lanes) s += v;
  return s;
}

float half_dot(const _Float16* __restrict a, const float* __restrict b, int64_t d) {
  static const bool hw = fast_half_available();
  if (hw) return half_dot_avx2(a, b, d);
  float s = 0;
  for (int64_t j = 0; j < d; ++j) s += static_cast<float>(a[j]) * b[j];
  return s;
}

float half_squared_distance(const _Float16* __restrict a, const float* __restrict b, int64_t d) {
  static const bool hw = fast_half_available();
  if (hw) return half_squared_distance_avx2(a, b, d);
  float s = 0;
  for (int64_t j = 0; j < d; ++j) {
    const float t = static_cast<float>(a[j]) - b[j];
    s += t * t;
  }
  return s;
}

bool fast_half_available() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") &&
         __builtin_cpu_supports("fma");
}
#else
bool fast_half_available() { return false; }
#endif

}  // namespace alx::sampling::detail
