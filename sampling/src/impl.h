// Internal: the built-in sampler classes (one .cpp each for the large ones).
#pragma once

#include <alx/sampling/samplers.h>

#include <memory>
#include <string>
#include <vector>

namespace alx::sampling::detail {

class RandomSampler final : public Sampler {
 public:
  explicit RandomSampler(RandomOptions o = {}) : opts_(o) {}
  std::vector<int64_t> select(const SamplerInput& in, int64_t k, uint64_t seed) const override;
  std::string name() const override { return "random"; }

 private:
  RandomOptions opts_;
};

class TopKSampler final : public Sampler {
 public:
  explicit TopKSampler(TopKOptions o);
  std::vector<int64_t> select(const SamplerInput& in, int64_t k, uint64_t seed) const override;
  Needs needs() const override;
  std::string name() const override { return "topk"; }

 private:
  TopKOptions opts_;
};

enum class Stochastic { kPower, kSoftmax, kSoftrank };

class StochasticSampler final : public Sampler {
 public:
  StochasticSampler(Stochastic kind, StochasticOptions o);
  std::vector<int64_t> select(const SamplerInput& in, int64_t k, uint64_t seed) const override;
  Needs needs() const override;
  std::string name() const override;

 private:
  Stochastic kind_;
  StochasticOptions opts_;
};

class KCenterSampler final : public Sampler {
 public:
  explicit KCenterSampler(KCenterOptions o) : opts_(o) {}
  std::vector<int64_t> select(const SamplerInput& in, int64_t k, uint64_t seed) const override;
  Needs needs() const override { return {false, false, true, false}; }
  std::string name() const override { return "kcenter"; }

 private:
  KCenterOptions opts_;
};

class BadgeSampler final : public Sampler {
 public:
  explicit BadgeSampler(BadgeOptions o) : opts_(o) {}
  std::vector<int64_t> select(const SamplerInput& in, int64_t k, uint64_t seed) const override;
  Needs needs() const override;
  std::string name() const override { return "badge"; }

 private:
  BadgeOptions opts_;
};

class ClusterMarginSampler final : public Sampler {
 public:
  explicit ClusterMarginSampler(ClusterMarginOptions o) : opts_(o) {}
  std::vector<int64_t> select(const SamplerInput& in, int64_t k, uint64_t seed) const override;
  Needs needs() const override { return {true, false, true, false}; }
  std::string name() const override { return "cluster_margin"; }

 private:
  ClusterMarginOptions opts_;
};

class BatchBaldSampler final : public Sampler {
 public:
  explicit BatchBaldSampler(BatchBaldOptions o) : opts_(o) {}
  std::vector<int64_t> select(const SamplerInput& in, int64_t k, uint64_t seed) const override;
  Needs needs() const override { return {true, true, false, false}; }
  std::string name() const override { return "batchbald"; }

 private:
  BatchBaldOptions opts_;
};

class TypiclustSampler final : public Sampler {
 public:
  explicit TypiclustSampler(TypiclustOptions o) : opts_(o) {}
  std::vector<int64_t> select(const SamplerInput& in, int64_t k, uint64_t seed) const override;
  Needs needs() const override { return {false, false, true, false}; }
  std::string name() const override { return "typiclust"; }

 private:
  TypiclustOptions opts_;
};

class ClassBalancedSampler final : public Sampler {
 public:
  explicit ClassBalancedSampler(ClassBalancedOptions o);
  std::vector<int64_t> select(const SamplerInput& in, int64_t k, uint64_t seed) const override;
  Needs needs() const override;
  std::string name() const override { return "class_balanced"; }

 private:
  ClassBalancedOptions opts_;
  std::unique_ptr<Sampler> inner_;
};

class HybridSampler final : public Sampler {
 public:
  explicit HybridSampler(HybridOptions o);
  std::vector<int64_t> select(const SamplerInput& in, int64_t k, uint64_t seed) const override;
  Needs needs() const override;
  std::string name() const override { return "hybrid"; }

 private:
  HybridOptions opts_;
  std::unique_ptr<Sampler> diversity_;
};

/// Considers only a random `m` of the selectable items, then runs `inner` on them.
class SubsampleSampler final : public Sampler {
 public:
  SubsampleSampler(std::unique_ptr<Sampler> inner, int64_t m) : inner_(std::move(inner)), m_(m) {}
  std::vector<int64_t> select(const SamplerInput& in, int64_t k, uint64_t seed) const override;
  Needs needs() const override { return inner_->needs(); }
  std::string name() const override { return inner_->name(); }

 private:
  std::unique_ptr<Sampler> inner_;
  int64_t m_;
};

}  // namespace alx::sampling::detail
