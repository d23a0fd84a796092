#include "fastmath.h"

#include <algorithm>

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

void quantize_row(const float* __restrict x, int64_t d, int8_t* __restrict q, float& scale,
                  float& err, float& qnorm) {
  float mx = 0.0f;
  for (int64_t j = 0; j < d; ++j) mx = std::max(mx, std::abs(x[j]));
  scale = mx / 127.0f;
  const float inv = mx > 0.0f ? 127.0f / mx : 0.0f;
  double e2 = 0.0, n2 = 0.0;
  for (int64_t j = 0; j < d; ++j) {
    const float v = std::nearbyint(std::min(127.0f, std::max(-127.0f, x[j] * inv)));
    q[j] = static_cast<int8_t>(v);
    const double r = static_cast<double>(v) * scale;
    e2 += (x[j] - r) * (x[j] - r);
    n2 += r * r;
  }
  err = static_cast<float>(std::sqrt(e2)) * (1.0f + 1e-5f) + 1e-30f;
  qnorm = static_cast<float>(std::sqrt(n2));
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static inline __m256i int16_lanes(const int8_t* q) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
}

__attribute__((target("avx2"))) static void int8_dot4_avx2(const int8_t* const q[4], const int8_t* __restrict c,
                                                          int64_t d, int32_t out[4]) {
  __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
  int64_t j = 0;
  for (; j + 16 <= d; j += 16) {
    const __m256i cj = int16_lanes(c + j);
    for (int r = 0; r < 4; ++r) acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(int16_lanes(q[r] + j), cj));
  }
  // Lane sums: [r0, r1, r2, r3] after two horizontal adds and folding the 128-bit halves.
  const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]), _mm256_hadd_epi32(acc[2], acc[3]));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1)));
  for (; j < d; ++j)
    for (int r = 0; r < 4; ++r) out[r] += static_cast<int32_t>(q[r][j]) * c[j];
}

// The same with 512-bit registers: 32 dimensions per step, half the instructions.
__attribute__((target("avx512bw"))) static inline __m512i int16_lanes_512(const int8_t* q) {
  return _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
}

__attribute__((target("avx512bw"))) static void int8_dot4_avx512(const int8_t* const q[4],
                                                                const int8_t* __restrict c, int64_t d,
                                                                int32_t out[4]) {
  __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                    _mm512_setzero_si512()};
  int64_t j = 0;
  for (; j + 32 <= d; j += 32) {
    const __m512i cj = int16_lanes_512(c + j);
    for (int r = 0; r < 4; ++r)
      acc[r] = _mm512_add_epi32(acc[r], _mm512_madd_epi16(int16_lanes_512(q[r] + j), cj));
  }
  for (int r = 0; r < 4; ++r) {  // (GCC 12 warns inside _mm512_reduce_add_epi32; add lanes by hand)
    alignas(64) int32_t lane[16];
    _mm512_store_si512(reinterpret_cast<__m512i*>(lane), acc[r]);
    int32_t sum = 0;
    for (int32_t v : lane) sum += v;
    out[r] = sum;
  }
  for (; j < d; ++j)
    for (int r = 0; r < 4; ++r) out[r] += static_cast<int32_t>(q[r][j]) * c[j];
}

static bool avx2_available() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
static bool avx512bw_available() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bw");
}
#endif

int32_t int8_dot(const int8_t* __restrict q, const int8_t* __restrict c, int64_t d) {
  int32_t s = 0;
  for (int64_t j = 0; j < d; ++j) s += static_cast<int32_t>(q[j]) * c[j];
  return s;
}

void int8_dot4(const int8_t* const q[4], const int8_t* __restrict c, int64_t d, int32_t out[4]) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool wide = avx512bw_available(), hw = avx2_available();
  if (wide) return int8_dot4_avx512(q, c, d, out);
  if (hw) return int8_dot4_avx2(q, c, d, out);
#endif
  for (int r = 0; r < 4; ++r) out[r] = int8_dot(q[r], c, d);
}

}  // namespace alx::sampling::detail
