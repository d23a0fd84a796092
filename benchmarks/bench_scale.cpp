// bench_scale — time and peak memory of streamed scoring + top-k (+ stochastic) and of
// k-center, per pool size N, on 1 and 2 c10d ranks (Gloo over loopback).
//
//   build/benchmarks/bench_scale                       # N = 100k, 1M, 4M
//   build/benchmarks/bench_scale --n 100000,1000000 --k 10 --kcenter-max-d512 1000000 --tasks score,kcenter
//
// Each (task, N, ranks) runs in fresh processes so that the peak RSS (getrusage of the
// children) belongs to that task alone. Probabilities [N, T, C] are generated chunk by
// chunk (blocks keyed by their global position, so every sharding sees the same pool) and
// never held at once; the "in-memory" row is the baseline that holds [N, T, C] and scores it.
// k-center keeps each rank's shard of the embeddings [N / ranks, D] in memory (D = 512 up
// to --kcenter-max-d512 rows, D = 64 above) and the O(N) distance state.
// Not a Google Benchmark program: peak memory needs one process per measurement.
#include <alx/sampling/scorers.h>
#include <alx/sampling/streaming_select.h>
#include <alx/training/distributed.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace {

using alx::training::Communicator;
constexpr int64_t kT = 10, kC = 10, kBlock = 4096;

/// Rows [b, e) of a synthetic pool of probabilities [N, T, C]; block j of kBlock rows is a
/// function of j only.
at::Tensor probs_rows(int64_t b, int64_t e) {
  std::vector<at::Tensor> parts;
  for (int64_t j = b / kBlock; j * kBlock < e; ++j) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(1000 + j);
    at::Tensor u = at::rand({kBlock, kT, kC}, gen).pow_(4);
    u.div_(u.sum(-1, true));
    const int64_t lo = std::max(b, j * kBlock) - j * kBlock, hi = std::min(e, (j + 1) * kBlock) - j * kBlock;
    parts.push_back(u.slice(0, lo, hi));
  }
  return parts.size() == 1 ? parts[0] : at::cat(parts);
}

/// Rows [b, e) of synthetic embeddings [N, d], filled in place block by block (a
/// concatenation would hold the shard twice).
at::Tensor embedding_rows(int64_t b, int64_t e, int64_t d) {
  at::Tensor out = at::empty({e - b, d}, at::kFloat);
  for (int64_t j = b / kBlock; j * kBlock < e; ++j) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(5000 + j);
    const at::Tensor x = at::randn({kBlock, d}, gen);
    const int64_t lo = std::max(b, j * kBlock), hi = std::min(e, (j + 1) * kBlock);
    out.slice(0, lo - b, hi - b).copy_(x.slice(0, lo - j * kBlock, hi - j * kBlock));
  }
  return out;
}

uint64_t digest(const std::vector<int64_t>& v) {
  uint64_t h = 1469598103934665603ULL;
  for (int64_t x : v) h = (h ^ static_cast<uint64_t>(x)) * 1099511628211ULL;
  return h;
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

/// One rank of one measurement; prints "seconds digest" on rank 0.
int worker(const std::string& task, int64_t n, int64_t k) {
  at::set_num_threads(1);  // one core per rank: 1 vs 2 ranks compares like with like
  auto comm = Communicator::create();
  const auto [lo, hi] = alx::training::shard_of(n, comm->rank(), comm->world_size());
  comm->barrier();
  const double t0 = now();
  std::vector<int64_t> picks;
  if (task == "score") {
    // Streamed: BALD scores of chunks, a heap for top-k, and a second pass for the
    // stochastic (power) batch; nothing of size N·T·C ever exists.
    auto read = [](int64_t b, int64_t e) { return alx::sampling::score(probs_rows(b, e), "bald"); };
    picks = alx::training::distributed_topk(*comm, read, lo, hi, k, 65536);
    const auto s = alx::training::distributed_stochastic(*comm, read, lo, hi, k, "power", 1.0, 7, 65536);
    picks.insert(picks.end(), s.begin(), s.end());
  } else if (task == "inmemory") {
    // Baseline: the whole [N, T, C] at once, then one score and one top-k.
    const at::Tensor p = probs_rows(0, n);
    const at::Tensor top = std::get<1>(alx::sampling::score(p, "bald").topk(k)).to(at::kLong).contiguous();
    picks.assign(top.data_ptr<int64_t>(), top.data_ptr<int64_t>() + top.numel());
  } else if (task == "kcenter512" || task == "kcenter64") {
    const int64_t d = task == "kcenter512" ? 512 : 64;
    const at::Tensor shard = embedding_rows(lo, hi, d);  // this rank's rows only
    alx::sampling::KCenterShard state([&](int64_t b, int64_t e) { return shard.slice(0, b - lo, e - lo); }, lo, hi,
                                      d, std::vector<uint8_t>(static_cast<size_t>(hi - lo), 1), 65536);
    const double t1 = now();
    picks = alx::training::distributed_kcenter(*comm, state, {}, k, 7);
    if (comm->rank() == 0) std::fprintf(stderr, "  (k-center steps: %.2f s after %.2f s making embeddings)\n",
                                        now() - t1, t1 - t0);
  } else {
    std::fprintf(stderr, "unknown task %s\n", task.c_str());
    return 2;
  }
  comm->barrier();
  if (comm->rank() == 0) std::printf("%.3f %016llx\n", now() - t0, static_cast<unsigned long long>(digest(picks)));
  return 0;
}

int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  ::close(s);
  return port;
}

struct Run {
  double wall = 0, seconds = 0, peak_mib = 0;
  std::string digest;
};

/// Starts `ranks` workers; peak RSS is the largest child's.
Run measure(const char* self, const std::string& task, int64_t n, int64_t k, int ranks) {
  const std::string port = std::to_string(free_port());
  int pipefd[2];
  if (::pipe(pipefd) != 0) std::abort();
  std::vector<pid_t> pids;
  const double t0 = now();
  for (int r = 0; r < ranks; ++r) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setenv("RANK", std::to_string(r).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(ranks).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", port.c_str(), 1);
      if (r == 0) ::dup2(pipefd[1], 1);
      ::close(pipefd[0]);
      ::execl(self, self, "--worker", task.c_str(), std::to_string(n).c_str(), std::to_string(k).c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  ::close(pipefd[1]);
  Run run;
  for (pid_t pid : pids) {
    int status = 0;
    rusage ru{};
    ::wait4(pid, &status, 0, &ru);
    run.peak_mib = std::max(run.peak_mib, ru.ru_maxrss / 1024.0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) run.digest = "FAILED";
  }
  run.wall = now() - t0;
  char buf[256] = {0};
  const ssize_t got = ::read(pipefd[0], buf, sizeof buf - 1);
  ::close(pipefd[0]);
  if (got > 0 && run.digest.empty()) {
    char hex[64] = {0};
    if (std::sscanf(buf, "%lf %63s", &run.seconds, hex) == 2) run.digest = hex;
  }
  return run;
}

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> v;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ',')) v.push_back(std::stoll(x));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--worker") == 0)
    return worker(argv[2], std::stoll(argv[3]), std::stoll(argv[4]));
  std::vector<int64_t> ns{100000, 1000000, 4000000};
  int64_t k = 100, kcenter_k = 10, max512 = 1000000, max_inmem = 1000000;
  std::string only;  // --tasks score,inmemory,kcenter: a subset

  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--n") ns = parse_list(argv[i + 1]);
    else if (a == "--k") k = std::stoll(argv[i + 1]);
    else if (a == "--kcenter-k") kcenter_k = std::stoll(argv[i + 1]);
    else if (a == "--kcenter-max-d512") max512 = std::stoll(argv[i + 1]);
    else if (a == "--inmemory-max") max_inmem = std::stoll(argv[i + 1]);
    else if (a == "--tasks") only = argv[i + 1];
  }
  std::printf("bench_scale: T=%lld C=%lld, top-k k=%lld (+ stochastic k=%lld), k-center k=%lld; one LibTorch "
              "thread per rank; %ld cores\n",
              static_cast<long long>(kT), static_cast<long long>(kC), static_cast<long long>(k),
              static_cast<long long>(k), static_cast<long long>(kcenter_k), sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("%-22s %9s %5s %9s %9s %10s %12s %s\n", "task", "N", "ranks", "seconds", "us/item", "peak MiB",
              "[N,T,C] MiB", "picks digest (equal across ranks)");
  for (int64_t n : ns) {
    std::vector<std::pair<std::string, int64_t>> tasks{{"score", k}};
    if (n <= max_inmem) tasks.push_back({"inmemory", k});
    tasks.push_back({n <= max512 ? "kcenter512" : "kcenter64", kcenter_k});
    for (const auto& [task, kk] : tasks)
      for (int ranks : {1, 2}) {
        if (task == "inmemory" && ranks == 2) continue;
        if (!only.empty() && only.find(task.substr(0, 5)) == std::string::npos) continue;
        const Run r = measure(argv[0], task, n, kk, ranks);
        std::printf("%-22s %9lld %5d %9.2f %9.3f %10.0f %12.0f %s\n",
                    (task == "score" ? "score+topk+stochastic" : task).c_str(), static_cast<long long>(n), ranks,
                    r.seconds, 1e6 * r.seconds / static_cast<double>(n), r.peak_mib,
                    static_cast<double>(n) * kT * kC * 4 / 1048576.0, r.digest.c_str());
        std::fflush(stdout);
      }
  }
  return 0;
}
