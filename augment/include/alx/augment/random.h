// alx/augment/random.h — the random numbers behind augmentation, reproducible by design.
//
// Every random choice of a transform is drawn from a std::mt19937_64 handed to it.
// The loader seeds one generator per sample from (seed, epoch, item), so what an
// image looks like after augmentation depends on nothing else: not on the number of
// worker threads, not on which thread ran first.
//
// The draws below use only the raw 64-bit output of the engine (no
// std::uniform_*_distribution, whose algorithms differ between standard libraries),
// so the same seed gives the same augmentation with libstdc++ and libc++.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace alx::augment {

/// splitmix64's finalizer: a bijective 64-bit mix with full avalanche.
uint64_t mix64(uint64_t x) noexcept;

/// The generator of one sample: seeded from a hash of (seed, epoch, item).
/// `item` is the index of the image in its ImageSource.
///
///   auto rng = alx::augment::sample_rng(/*seed=*/7, /*epoch=*/0, /*item=*/1234);
///   pipeline.apply(sample, rng);
std::mt19937_64 sample_rng(uint64_t seed, int64_t epoch, int64_t item);

/// Uniform double in [lo, hi) (lo when hi == lo); consumes one draw.
double uniform(std::mt19937_64& rng, double lo, double hi);
/// Uniform integer in [lo, hi] (inclusive); consumes one draw.
int64_t uniform_int(std::mt19937_64& rng, int64_t lo, int64_t hi);
/// True with probability p; consumes one draw whatever p is.
bool bernoulli(std::mt19937_64& rng, double p);

/// The order of n items in one epoch: a Fisher–Yates shuffle driven by
/// sample_rng(seed, epoch, -1). Returns 0..n-1 permuted.
std::vector<int64_t> permutation(int64_t n, uint64_t seed, int64_t epoch);

}  // namespace alx::augment
