#include <alx/augment/random.h>
#include <alx/core/error.h>

#include <utility>

namespace alx::augment {

uint64_t mix64(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::mt19937_64 sample_rng(uint64_t seed, int64_t epoch, int64_t item) {
  // Chained mixing: every input passes through a full-avalanche step, so neighbouring
  // items (or epochs) get unrelated streams.
  uint64_t h = mix64(seed ^ 0x5851f42d4c957f2dULL);
  h = mix64(h ^ static_cast<uint64_t>(epoch));
  h = mix64(h ^ static_cast<uint64_t>(item));
  return std::mt19937_64(h);
}

double uniform(std::mt19937_64& rng, double lo, double hi) {
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // [0, 1)
  return lo + (hi - lo) * u;
}

int64_t uniform_int(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  ALX_CHECK(lo <= hi, "uniform_int: empty range [{}, {}]", lo, hi);
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;  // 0 means the full 2^64
  const uint64_t r = rng();
  if (span == 0) return static_cast<int64_t>(r);
  // Lemire's multiply-shift; the bias (< span / 2^64) is irrelevant for augmentation.
  const uint64_t k = static_cast<uint64_t>((static_cast<unsigned __int128>(r) * span) >> 64);
  return lo + static_cast<int64_t>(k);
}

bool bernoulli(std::mt19937_64& rng, double p) { return uniform(rng, 0.0, 1.0) < p; }

std::vector<int64_t> permutation(int64_t n, uint64_t seed, int64_t epoch) {
  ALX_CHECK(n >= 0, "permutation: n must be >= 0, got {}", n);
  std::vector<int64_t> order(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  auto rng = sample_rng(seed, epoch, -1);
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = uniform_int(rng, 0, i);
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  return order;
}

}  // namespace alx::augment
