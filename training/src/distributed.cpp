// c10d process groups and the exact distributed selection / data-parallel helpers.
#include <alx/augment/loader.h>
#include <alx/core/error.h>
#include <alx/training/distributed.h>

#include <c10/util/irange.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <ATen/Context.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <string>

namespace alx::training {
namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  ALX_CHECK(end && *end == '\0' && x >= 0 && x <= 1 << 30, "environment variable {}='{}' is not a number", name, v);
  return static_cast<int>(x);
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

}  // namespace

DistributedOptions distributed_options_from_env() {
  DistributedOptions o;
  o.rank(env_int("RANK", 0)).world_size(env_int("WORLD_SIZE", 1)).master_port(env_int("MASTER_PORT", 29500));
  if (const char* a = std::getenv("MASTER_ADDR"); a && *a) o.master_addr(a);
  ALX_CHECK(o.world_size() >= 1 && o.rank() < o.world_size(), "RANK={} must be below WORLD_SIZE={}", o.rank(),
            o.world_size());
  return o;
}

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  bool cuda = false;  ///< NCCL: collectives run on CUDA copies
};

Communicator::Communicator(int rank, int world, std::string backend, std::unique_ptr<Impl> impl)
    : rank_(rank), world_(world), backend_(std::move(backend)), impl_(std::move(impl)) {}

Communicator::~Communicator() = default;

std::shared_ptr<Communicator> Communicator::create(const DistributedOptions& o) {
  ALX_CHECK(o.world_size() >= 1 && o.rank() >= 0 && o.rank() < o.world_size(), "rank {} must be in [0, {})",
            o.rank(), o.world_size());
  ALX_CHECK(o.backend() == "auto" || o.backend() == "gloo" || o.backend() == "nccl",
            "distributed backend must be auto, gloo or nccl, got '{}'", o.backend());
  if (o.world_size() == 1)
    return std::shared_ptr<Communicator>(new Communicator(0, 1, "none", std::make_unique<Impl>()));
  const auto timeout = std::chrono::milliseconds(int64_t{1000} * o.timeout_s());
  auto impl = std::make_unique<Impl>();
  c10d::TCPStoreOptions so;
  so.port = static_cast<uint16_t>(o.master_port());
  so.isServer = o.rank() == 0;
  so.numWorkers = static_cast<size_t>(o.world_size());
  so.waitWorkers = true;
  so.timeout = timeout;
  try {
    impl->store = c10::make_intrusive<c10d::TCPStore>(o.master_addr(), so);
  } catch (const std::exception& e) {
    ALX_THROW(IoError, "rank {}: cannot reach the TCPStore at {}:{} (MASTER_ADDR/MASTER_PORT): {}", o.rank(),
              o.master_addr(), o.master_port(), e.what());
  }
  std::string backend = o.backend();
#ifdef USE_C10D_NCCL
  if (backend == "auto") backend = at::hasCUDA() ? "nccl" : "gloo";
  if (backend == "nccl") {
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = timeout;
    impl->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl->store, o.rank(), o.world_size(), opts);
    impl->cuda = true;
  }
#else
  if (backend == "auto") backend = "gloo";
  ALX_CHECK(backend != "nccl", "backend nccl: this LibTorch was built without NCCL; use gloo");
#endif
  if (backend == "gloo") {
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (is_loopback(o.master_addr()))
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    opts->threads = 2;
    impl->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, o.rank(), o.world_size(), opts);
  }
  return std::shared_ptr<Communicator>(new Communicator(o.rank(), o.world_size(), backend, std::move(impl)));
}

void Communicator::all_reduce_sum(at::Tensor& t) {
  if (world_ == 1) return;
  std::vector<at::Tensor> ts{impl_->cuda ? t.to(at::kCUDA) : t.contiguous()};
  impl_->pg->allreduce(ts)->wait();
  if (impl_->cuda || !ts[0].is_same(t)) t.copy_(ts[0]);
}

std::vector<at::Tensor> Communicator::all_gather(const at::Tensor& t) {
  if (world_ == 1) return {t.clone()};
  std::vector<at::Tensor> in{impl_->cuda ? t.to(at::kCUDA) : t.contiguous()};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < world_; ++r) out[0].push_back(at::empty_like(in[0]));
  impl_->pg->allgather(out, in)->wait();
  std::vector<at::Tensor> res;
  for (auto& x : out[0]) res.push_back(x.to(t.device()));
  return res;
}

void Communicator::broadcast(at::Tensor& t, int root) {
  if (world_ == 1) return;
  std::vector<at::Tensor> ts{impl_->cuda ? t.to(at::kCUDA) : t.contiguous()};
  c10d::BroadcastOptions bo;
  bo.rootRank = root;
  impl_->pg->broadcast(ts, bo)->wait();
  if (impl_->cuda || !ts[0].is_same(t)) t.copy_(ts[0]);
}

void Communicator::barrier() {
  if (world_ == 1) return;
  impl_->pg->barrier()->wait();
}

std::pair<int64_t, int64_t> shard_of(int64_t n, int rank, int world) {
  return augment::shard_of(n, rank, world);
}

std::vector<sampling::Keyed> merge_topk(Communicator& comm, const std::vector<sampling::Keyed>& local, int64_t k) {
  // Fixed-size exchange: k slots per rank, empty slots carry index −1.
  at::Tensor keys = at::full({k}, -std::numeric_limits<double>::infinity(), at::kDouble);
  at::Tensor idx = at::full({k}, int64_t{-1}, at::kLong);
  const int64_t m = std::min<int64_t>(k, static_cast<int64_t>(local.size()));
  for (int64_t i = 0; i < m; ++i) {
    keys[i] = local[i].key;
    idx[i] = local[i].index;
  }
  sampling::TopKStream top(k);
  const auto all_keys = comm.all_gather(keys);
  const auto all_idx = comm.all_gather(idx);
  for (size_t r = 0; r < all_keys.size(); ++r) {
    const double* kp = all_keys[r].data_ptr<double>();
    const int64_t* ip = all_idx[r].data_ptr<int64_t>();
    for (int64_t i = 0; i < k; ++i)
      if (ip[i] >= 0) top.push(kp[i], ip[i]);
  }
  return top.result();
}

namespace {

std::vector<int64_t> stream_and_merge(Communicator& comm, const ScoreReader& scores, int64_t lo, int64_t hi,
                                      int64_t k, int64_t chunk_rows,
                                      const std::function<at::Tensor(const at::Tensor&, int64_t)>& to_keys) {
  ALX_CHECK(k >= 0 && chunk_rows > 0 && lo >= 0 && hi >= lo, "distributed selection: bad k, chunk or rows");
  sampling::TopKStream top(k);
  for (int64_t b = lo; b < hi; b += chunk_rows) {
    const int64_t e = std::min(hi, b + chunk_rows);
    const at::Tensor s = scores(b, e);
    ALX_CHECK(s.dim() == 1 && s.size(0) == e - b, "score reader returned {} values for rows [{}, {})", s.numel(), b,
              e);
    top.push(to_keys ? to_keys(s, b) : s, b);
  }
  std::vector<int64_t> out;
  for (const auto& it : merge_topk(comm, top.result(), k)) out.push_back(it.index);
  return out;
}

}  // namespace

std::vector<int64_t> distributed_topk(Communicator& comm, const ScoreReader& scores, int64_t lo, int64_t hi,
                                      int64_t k, int64_t chunk_rows) {
  return stream_and_merge(comm, scores, lo, hi, k, chunk_rows, nullptr);
}

std::vector<int64_t> distributed_stochastic(Communicator& comm, const ScoreReader& scores, int64_t lo, int64_t hi,
                                            int64_t k, const std::string& mode, double beta, uint64_t seed,
                                            int64_t chunk_rows) {
  return stream_and_merge(comm, scores, lo, hi, k, chunk_rows, [&](const at::Tensor& s, int64_t first) {
    // Unselectable rows (−inf / NaN) stay −inf whatever the mode.
    const at::Tensor ok = at::isfinite(s);
    const at::Tensor keys = sampling::stochastic_keys(at::where(ok, s, at::zeros_like(s)), first, mode, beta, seed);
    return at::where(ok.to(keys.device()), keys, at::full_like(keys, -std::numeric_limits<double>::infinity()));
  });
}

std::vector<int64_t> distributed_kcenter(Communicator& comm, sampling::KCenterShard& shard,
                                         const std::vector<int64_t>& centers, int64_t k, uint64_t seed) {
  std::vector<int64_t> out;
  if (k <= 0) return out;
  // The row of a global index, owned by exactly one rank: the others add zeros (exact).
  int64_t dim = -1;
  auto shared_rows = [&](const std::vector<int64_t>& idx) {
    at::Tensor rows;
    for (size_t i = 0; i < idx.size(); ++i) {
      if (idx[i] < shard.lo() || idx[i] >= shard.hi()) continue;
      const at::Tensor r = shard.row(idx[i]);
      if (!rows.defined()) rows = at::zeros({static_cast<int64_t>(idx.size()), r.size(0)}, at::kFloat);
      rows[static_cast<int64_t>(i)].copy_(r);
    }
    // Every rank must know D: agree on it with a max-reduction of what the owners saw.
    at::Tensor d = at::tensor({rows.defined() ? rows.size(1) : int64_t{0}}, at::kLong);
    at::Tensor dd = at::stack(comm.all_gather(d)).max();
    dim = dd.item<int64_t>();
    if (!rows.defined()) rows = at::zeros({static_cast<int64_t>(idx.size()), dim}, at::kFloat);
    comm.all_reduce_sum(rows);
    return rows;
  };
  if (!centers.empty()) {
    shard.add_centers(shared_rows(centers));
  } else {
    sampling::TopKStream first(1);
    for (int64_t i : shard.selectable_indices()) first.push(sampling::gumbel_noise(seed, i), i);
    const auto pick = merge_topk(comm, first.result(), 1);
    if (pick.empty()) return out;
    out.push_back(pick[0].index);
    shard.mark_picked(pick[0].index);
    if (k == 1) return out;
    shard.add_centers(shared_rows({pick[0].index}));
  }
  while (static_cast<int64_t>(out.size()) < k) {
    // The (d², index) max-reduction: gather each rank's farthest row, keep the largest d²
    // (ties: lower index), exactly as one process scanning every row.
    const sampling::Keyed local = shard.farthest();
    std::vector<sampling::Keyed> mine;
    if (local.index >= 0) mine.push_back(local);
    const auto best = merge_topk(comm, mine, 1);
    if (best.empty()) break;
    out.push_back(best[0].index);
    shard.mark_picked(best[0].index);
    if (static_cast<int64_t>(out.size()) == k) break;
    shard.add_centers(shared_rows({best[0].index}));
  }
  return out;
}

void broadcast_parameters(Communicator& comm, const std::vector<at::Tensor>& params, int root) {
  if (comm.world_size() == 1 || params.empty()) return;
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> flat;
  for (const auto& p : params) flat.push_back(p.detach().reshape(-1).to(at::kCPU));
  at::Tensor buf = at::cat(flat);
  comm.broadcast(buf, root);
  int64_t off = 0;
  for (const auto& p : params) {
    const int64_t n = p.numel();
    p.detach().copy_(buf.slice(0, off, off + n).view(p.sizes()));
    off += n;
  }
}

void sum_gradients(Communicator& comm, const std::vector<at::Tensor>& params) {
  if (comm.world_size() == 1) return;
  at::NoGradGuard no_grad;
  // One buffer: every gradient (zeros where undefined here), then one "defined" flag per
  // parameter, so that a gradient no rank produced stays undefined (as in one process,
  // where the optimizer then skips the parameter).
  std::vector<at::Tensor> flat;
  for (const auto& p : params)
    flat.push_back(p.grad().defined() ? p.grad().reshape(-1).to(at::kCPU, at::kFloat)
                                      : at::zeros({p.numel()}, at::kFloat));
  std::vector<float> flags;  // per step: fill on the host, not one tensor write per parameter
  flags.reserve(params.size());
  for (const auto& p : params) flags.push_back(p.grad().defined() ? 1.f : 0.f);
  flat.push_back(at::tensor(flags, at::kFloat));
  at::Tensor buf = at::cat(flat);
  comm.all_reduce_sum(buf);
  const float* defined =
      buf.data_ptr<float>() + (buf.numel() - static_cast<int64_t>(params.size()));
  int64_t off = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    const int64_t n = p.numel();
    if (defined[i] > 0) {
      at::Tensor g = buf.slice(0, off, off + n).view(p.sizes()).to(p.device(), p.scalar_type());
      if (p.grad().defined())
        p.mutable_grad().copy_(g);
      else
        p.mutable_grad() = g.clone();
    }
    off += n;
  }
}

void average_gradients(Communicator& comm, const std::vector<at::Tensor>& params) {
  if (comm.world_size() == 1) return;
  sum_gradients(comm, params);
  at::NoGradGuard no_grad;
  for (const auto& p : params)
    if (p.grad().defined()) p.mutable_grad().div_(comm.world_size());
}

}  // namespace alx::training
