// alx/training/distributed.h — scoring, selection and training across processes and
// machines on LibTorch's own c10d process groups (Gloo on CPU; NCCL where LibTorch was
// built with it and CUDA exists), launched as torchrun launches PyTorch jobs:
//
//   RANK=0 WORLD_SIZE=2 MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 ./my_program   # machine A
//   RANK=1 WORLD_SIZE=2 MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 ./my_program   # machine B
//
//   auto comm = alx::training::Communicator::create();            // from the environment
//   auto [lo, hi] = alx::training::shard_of(n, comm->rank(), comm->world_size());
//   auto batch = alx::training::distributed_topk(*comm, read_scores, lo, hi, 100);
//
// Every result is exact: the same batch as one process over the whole pool (the keys are
// functions of (value, global index, seed); ties go to the lower index), the same model as
// one process up to the order of floating-point sums. With WORLD_SIZE unset or 1 no
// process group is created and every collective is the identity.
#pragma once

#include <alx/core/options.h>
#include <alx/sampling/streaming_select.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace alx::training {

struct DistributedOptions {
  ALX_ARG(int, rank) = 0;
  ALX_ARG(int, world_size) = 1;
  ALX_ARG(std::string, master_addr) = "127.0.0.1";
  ALX_ARG(int, master_port) = 29500;
  /// Seconds a collective (and the rendezvous) may wait for the other ranks.
  ALX_ARG(int, timeout_s) = 300;
  /// auto (nccl when built in and CUDA is available, else gloo), gloo or nccl.
  ALX_ARG(std::string, backend) = "auto";

 public:
  template <class V>
  void visit(V&& v) {
    v("rank", rank_, "this process (RANK)", Range::at_least(0));
    v("world_size", world_size_, "number of processes (WORLD_SIZE)", Range::at_least(1));
    v("master_addr", master_addr_, "host of rank 0's TCPStore (MASTER_ADDR)");
    v("master_port", master_port_, "port of rank 0's TCPStore (MASTER_PORT)", Range::at_least(1));
    v("timeout_s", timeout_s_, "seconds to wait for the other ranks", Range::at_least(1));
    v("backend", backend_, "auto, gloo or nccl");
  }
};

/// RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT as torchrun sets them (defaults: one process).
/// Throws alx::InvalidArgument naming the variable when one is malformed.
DistributedOptions distributed_options_from_env();

/// A c10d process group (or the trivial group of one process). Collectives block.
class Communicator {
 public:
  /// Rendezvous through a c10d::TCPStore served by rank 0 at master_addr:master_port.
  /// The Gloo device binds to GLOO_SOCKET_IFNAME when set, to 127.0.0.1 when the master is
  /// a loopback address, else to the address of this host's name.
  static std::shared_ptr<Communicator> create(const DistributedOptions& options = distributed_options_from_env());
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const noexcept { return rank_; }
  int world_size() const noexcept { return world_; }
  /// "gloo", "nccl" or "none" (one process).
  const std::string& backend() const noexcept { return backend_; }

  /// Element-wise sum over ranks, in place.
  void all_reduce_sum(at::Tensor& t);
  /// t from every rank (same shape and dtype everywhere), in rank order.
  std::vector<at::Tensor> all_gather(const at::Tensor& t);
  /// root's t into t of every rank.
  void broadcast(at::Tensor& t, int root);
  void barrier();

 private:
  struct Impl;
  Communicator(int rank, int world, std::string backend, std::unique_ptr<Impl> impl);
  int rank_, world_;
  std::string backend_;
  std::unique_ptr<Impl> impl_;
};

/// Rows [lo, hi) of a pool of n that rank `rank` of `world` owns (contiguous, sizes differ by ≤ 1).
/// The same split as augment::shard_of, which the sharded BatchLoader uses for each batch.
std::pair<int64_t, int64_t> shard_of(int64_t n, int rank, int world);

/// Reads values (scores) of the rows [begin, end) as [end − begin]; rows that may not be
/// picked (labeled items) hold −inf or NaN and are skipped.
using ScoreReader = std::function<at::Tensor(int64_t begin, int64_t end)>;

/// Global top-k from each rank's own best k (an all-gather of k (key, index) pairs per rank).
std::vector<sampling::Keyed> merge_topk(Communicator& comm, const std::vector<sampling::Keyed>& local, int64_t k);

/// Exact global top-k of the scores of all ranks; this rank reads rows [lo, hi) in chunks.
/// Returns global row indices, best first, identical on every rank.
std::vector<int64_t> distributed_topk(Communicator& comm, const ScoreReader& scores, int64_t lo, int64_t hi,
                                      int64_t k, int64_t chunk_rows = 65536);

/// Stochastic batch acquisition (sampling::stochastic_keys: power or softmax, β) drawn
/// exactly as one process with the same seed draws it.
std::vector<int64_t> distributed_stochastic(Communicator& comm, const ScoreReader& scores, int64_t lo, int64_t hi,
                                            int64_t k, const std::string& mode, double beta, uint64_t seed,
                                            int64_t chunk_rows = 65536);

/// Greedy k-center with each rank holding the state of its rows (`shard`): fixed centers
/// (global indices, e.g. labeled items) are gathered from their owners, then each step is a
/// (d², index) max-reduction across ranks and the owner's row is shared with all. Same
/// picks as sampling::kcenter_streaming on one process.
std::vector<int64_t> distributed_kcenter(Communicator& comm, sampling::KCenterShard& shard,
                                         const std::vector<int64_t>& centers, int64_t k, uint64_t seed);

/// Data-parallel training by hand (Trainer::set_communicator does all of it for a Trainer):
/// every rank starts from rank root's parameters (all of one dtype) …
void broadcast_parameters(Communicator& comm, const std::vector<at::Tensor>& params, int root = 0);
/// … and after each backward replaces its gradients by their mean over ranks (one flat
/// all-reduce). With equal local batches this is the gradient of the global batch.
void average_gradients(Communicator& comm, const std::vector<at::Tensor>& params);
/// The sum over ranks instead (one flat all-reduce; an undefined gradient counts as 0, and
/// stays undefined when it is undefined on every rank): the
/// gradient of the global batch when each rank's loss is already divided by the global
/// denominator — exact with unequal or empty local batches (what Trainer::fit does).
void sum_gradients(Communicator& comm, const std::vector<at::Tensor>& params);

}  // namespace alx::training
