// Scale: streaming selection equals in-memory selection; the pool cache is reused for an
// unchanged model; 2–4 c10d ranks over loopback select and train exactly as one process,
// by hand and through a data-parallel Trainer.
//
// The distributed tests start this binary again as the ranks (ScaleChild.Rank and
// ScaleChild.Fit, which skip unless ALX_SCALE_CHILD_OUT is set); each rank writes its
// results to a file.
#include <alx/augment/pipeline.h>
#include <alx/core/image_source.h>
#include <alx/sampling/sampler.h>
#include <alx/sampling/samplers.h>
#include <alx/sampling/scorers.h>
#include <alx/sampling/streaming_select.h>
#include <alx/training/distributed.h>
#include <alx/training/model.h>
#include <alx/training/predictor.h>
#include <alx/training/streaming.h>
#include <alx/training/trainer.h>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;
using namespace alx;
using namespace alx::training;

namespace {

constexpr int64_t kN = 3001, kD = 16, kK = 25, kLabeled = 40;
constexpr uint64_t kSeed = 11;

std::string tmp_dir(const std::string& name) {
  auto d = fs::path(ALX_TEST_TMP) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

/// The synthetic pool every rank builds identically: probs [N, T, C], embeddings [N, D],
/// and a labeled mask (every N / kLabeled-th item).
struct SynthPool {
  at::Tensor probs, emb, scores, labeled;
  std::vector<uint8_t> selectable;
  std::vector<int64_t> labeled_idx;
};

SynthPool make_pool() {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1234);
  SynthPool p;
  p.probs = at::softmax(at::randn({kN, 4, 6}, gen) * 2, -1);
  p.emb = at::randn({kN, kD}, gen);
  p.scores = sampling::score(p.probs, "bald").to(at::kDouble);
  p.labeled = at::zeros({kN}, at::kBool);
  p.selectable.assign(kN, 1);
  for (int64_t i = 0; i < kN; i += kN / kLabeled) {
    p.labeled[i] = true;
    p.selectable[i] = 0;
    p.labeled_idx.push_back(i);
  }
  // A few exact ties, so "ties go to the lower index" is exercised.
  p.scores[7] = p.scores[2000].item<double>();
  return p;
}

/// Scores with labeled rows as −inf (what a distributed score reader returns).
ScoreReader masked_scores(const SynthPool& p) {
  return [&p](int64_t b, int64_t e) {
    at::Tensor s = p.scores.slice(0, b, e).clone();
    s.masked_fill_(p.labeled.slice(0, b, e), -std::numeric_limits<double>::infinity());
    return s;
  };
}

sampling::RowReader rows_of(const at::Tensor& x) {
  return [x](int64_t b, int64_t e) { return x.slice(0, b, e); };
}

/// Every parameter's values, flattened in order (what the ranks compare).
std::vector<float> flat_params(const std::vector<at::Tensor>& params) {
  std::vector<float> out;
  for (const auto& p : params) {
    const at::Tensor c = p.detach().reshape(-1).contiguous();
    out.insert(out.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return out;
}

/// A small classifier trained on a fixed batch; every rank trains on its shard of it.
std::vector<float> train(Communicator& comm) {
  torch::manual_seed(5);
  torch::nn::Sequential net(torch::nn::Linear(8, 16), torch::nn::Tanh(), torch::nn::Linear(16, 3));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(99);
  const at::Tensor x = at::randn({48, 8}, gen);
  const at::Tensor y = at::randint(0, 3, {48}, gen);
  const auto [lo, hi] = shard_of(48, comm.rank(), comm.world_size());
  broadcast_parameters(comm, net->parameters());
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.2).momentum(0.9));
  for (int step = 0; step < 30; ++step) {
    opt.zero_grad();
    const auto loss = torch::nn::functional::cross_entropy(net->forward(x.slice(0, lo, hi)), y.slice(0, lo, hi));
    loss.backward();
    average_gradients(comm, net->parameters());
    opt.step();
  }
  return flat_params(net->parameters());
}

struct Results {
  std::vector<int64_t> topk, stochastic, kcenter_labeled, kcenter_cold;
  std::vector<float> params;
};

/// Everything a rank (or one process, world 1) computes.
Results run_all(Communicator& comm) {
  const SynthPool p = make_pool();
  const auto [lo, hi] = shard_of(kN, comm.rank(), comm.world_size());
  Results r;
  r.topk = distributed_topk(comm, masked_scores(p), lo, hi, kK, /*chunk_rows=*/97);
  r.stochastic = distributed_stochastic(comm, masked_scores(p), lo, hi, kK, "power", 2.0, kSeed, 97);
  const std::vector<uint8_t> sel(p.selectable.begin() + lo, p.selectable.begin() + hi);
  sampling::KCenterShard a(rows_of(p.emb), lo, hi, kD, sel, 113);
  r.kcenter_labeled = distributed_kcenter(comm, a, p.labeled_idx, kK, kSeed);
  sampling::KCenterShard b(rows_of(p.emb), lo, hi, kD, sel, 113);
  r.kcenter_cold = distributed_kcenter(comm, b, {}, kK, kSeed);
  r.params = train(comm);
  return r;
}

// ---- data-parallel Trainer ----------------------------------------------------------

constexpr int64_t kFitPool = 60, kFitLabeled = 46, kFitSide = 16, kFitClasses = 3;

/// Gray 16×16 images: noise plus a bright row whose position depends on the class.
std::shared_ptr<const ImageSource> fit_images() {
  auto pixels = std::make_shared<std::vector<uint8_t>>(kFitPool * kFitSide * kFitSide);
  std::mt19937_64 rng(21);
  for (auto& v : *pixels) v = static_cast<uint8_t>(rng() % 160);
  for (int64_t i = 0; i < kFitPool; ++i)
    for (int64_t x = 0; x < kFitSide; ++x)
      (*pixels)[(i * kFitSide + 3 + 4 * (i % kFitClasses)) * kFitSide + x] = 250;
  return std::make_shared<MemoryImageSource>(pixels, kFitPool, kFitSide, kFitSide, 1);
}

/// The labeled items of both fits: the first kFitLabeled, classes in turn.
std::pair<std::vector<int64_t>, std::vector<int>> fit_items() {
  std::vector<int64_t> idx;
  std::vector<int> labels;
  for (int64_t i = 0; i < kFitLabeled; ++i) {
    idx.push_back(i);
    labels.push_back(static_cast<int>(i % kFitClasses));
  }
  return {idx, labels};
}

struct FitResults {
  std::vector<float> params, probs;
  std::vector<double> loss, train_accuracy, val_accuracy;
  std::vector<int64_t> counts;  ///< num_train, num_val, best_epoch
};

/// A dropout-free gal_cnn fitted through Trainer (comm: null for one process) on 46 labeled
/// items: 9 held out, 37 trained in batches of 7 (five full, then 2: with 3 ranks one shard
/// of the last batch is empty), with random crops and flips. `weighted`: balanced class
/// weights, SGD with clipping and a cosine schedule; else Adam.
FitResults fit_through_trainer(const std::shared_ptr<Communicator>& comm, bool weighted) {
  const auto images = fit_images();
  const auto [idx, labels] = fit_items();
  auto model = make_model(ModelOptions()
                              .name("gal_cnn")
                              .num_classes(kFitClasses)
                              .image_size(kFitSide)
                              .dropout(0)
                              .conv_dropout(0));
  auto pipeline = std::make_shared<augment::Pipeline>(
      augment::Pipeline::from_yaml(YAML::Load("[{name: pad, padding: [2]}, {name: random_crop, "
                                              "height: 16, width: 16}, {name: hflip, p: 0.5}]")));
  auto opts =
      TrainerOptions().epochs(3).batch_size(7).seed(4).threads(1).workers(1).validation_fraction(
          0.2);
  if (weighted)
    opts.class_weighting("balanced").optimizer("sgd").lr(0.05).grad_clip(0.5).schedule("cosine");
  else
    opts.optimizer("adam").lr(2e-3).restore_best(false);
  Trainer trainer(opts, pipeline);
  trainer.set_communicator(comm);
  const TrainResult r = trainer.fit(*model, images, idx, labels);
  FitResults out;
  out.counts = {r.num_train, r.num_val, r.best_epoch};
  for (const auto& e : r.epochs) {
    out.loss.push_back(e.loss);
    out.train_accuracy.push_back(e.train_accuracy);
    out.val_accuracy.push_back(e.val_accuracy);
  }
  out.params = flat_params(model->parameters());
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> xs;
  for (int64_t i = 0; i < kFitPool; ++i)
    xs.push_back(torch::from_blob(images->load(i).data, {1, kFitSide, kFitSide}, torch::kUInt8)
                     .to(torch::kFloat) /
                 255);
  const at::Tensor probs =
      torch::softmax(model->forward(torch::stack(xs)), 1).reshape(-1).contiguous();
  out.probs.assign(probs.data_ptr<float>(), probs.data_ptr<float>() + probs.numel());
  return out;
}

/// A ResNet-18 (BatchNorm: shard statistics, rank 0's running statistics) fitted for one
/// epoch: sum and sum of squares of every parameter and buffer, then the held-out accuracy.
std::vector<double> fit_batchnorm_model(const std::shared_ptr<Communicator>& comm) {
  const auto images = fit_images();
  const auto [idx, labels] = fit_items();
  auto model = make_model(ModelOptions()
                              .name("resnet18")
                              .variant("small")
                              .num_classes(kFitClasses)
                              .image_size(kFitSide));
  Trainer trainer(
      TrainerOptions().epochs(1).batch_size(7).seed(4).threads(1).workers(1).validation_fraction(
          0.2));
  trainer.set_communicator(comm);
  const TrainResult r = trainer.fit(*model, images, idx, labels);
  std::vector<double> out;
  for (const auto& kv : model->state()) {
    const at::Tensor t = kv.second.detach().to(at::kDouble);
    out.push_back(t.sum().item<double>());
    out.push_back(t.square().sum().item<double>());
  }
  out.push_back(r.epochs.back().val_accuracy);
  return out;
}

template <class T>
void write_line(std::ostream& out, const std::string& name, const std::vector<T>& v) {
  out << name;
  out.precision(17);  // round trip of float and double
  for (const auto& x : v) out << ' ' << x;
  out << '\n';
}

template <class T>
std::vector<T> read_line(std::istream& in, const std::string& name) {
  std::string line;
  std::getline(in, line);
  std::istringstream ls(line);
  std::string head;
  ls >> head;
  EXPECT_EQ(head, name);
  std::vector<T> v;
  T x;
  while (ls >> x) v.push_back(x);
  return v;
}

int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  ::close(s);
  return port;
}

/// Starts `world` copies of this binary as ranks; returns their results files.
std::vector<std::string> launch(int world, const std::string& child = "ScaleChild.Rank") {
  const std::string dir = tmp_dir("ranks" + std::to_string(world) + child);
  const std::string port = std::to_string(free_port());
  std::vector<pid_t> pids;
  std::vector<std::string> outs;
  for (int r = 0; r < world; ++r) {
    outs.push_back(dir + "/rank" + std::to_string(r) + ".txt");
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setenv("RANK", std::to_string(r).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", port.c_str(), 1);
      ::setenv("ALX_SCALE_CHILD_OUT", outs.back().c_str(), 1);
      const std::string filter = "--gtest_filter=" + child;
      ::execl("/proc/self/exe", "test_scale", filter.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "rank process " << pid << " failed";
  }
  return outs;
}

void expect_params_near(const std::vector<float>& a, const std::vector<float>& b,
                        double tolerance = 2e-5, const std::string& what = "parameter") {
  ASSERT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
  EXPECT_LT(worst, tolerance) << "largest " << what << " difference";
  std::printf("[ scale    ] largest %s difference %.3g over %zu values\n", what.c_str(), worst,
              a.size());
}

void write_fit(std::ostream& f, const std::string& tag, const FitResults& r) {
  write_line(f, tag + "_params", r.params);
  write_line(f, tag + "_probs", r.probs);
  write_line(f, tag + "_loss", r.loss);
  write_line(f, tag + "_train_accuracy", r.train_accuracy);
  write_line(f, tag + "_val_accuracy", r.val_accuracy);
  write_line(f, tag + "_counts", r.counts);
}

FitResults read_fit(std::istream& f, const std::string& tag) {
  FitResults r;
  r.params = read_line<float>(f, tag + "_params");
  r.probs = read_line<float>(f, tag + "_probs");
  r.loss = read_line<double>(f, tag + "_loss");
  r.train_accuracy = read_line<double>(f, tag + "_train_accuracy");
  r.val_accuracy = read_line<double>(f, tag + "_val_accuracy");
  r.counts = read_line<int64_t>(f, tag + "_counts");
  return r;
}

}  // namespace

// ---- the rank process ---------------------------------------------------------------

TEST(ScaleChild, Rank) {
  const char* out = std::getenv("ALX_SCALE_CHILD_OUT");
  if (!out) GTEST_SKIP() << "runs only as a rank started by Scale.Distributed*";
  auto comm = Communicator::create();
  ASSERT_EQ(comm->backend(), "gloo");
  const Results r = run_all(*comm);
  comm->barrier();
  std::ofstream f(out);
  write_line(f, "topk", r.topk);
  write_line(f, "stochastic", r.stochastic);
  write_line(f, "kcenter_labeled", r.kcenter_labeled);
  write_line(f, "kcenter_cold", r.kcenter_cold);
  write_line(f, "params", r.params);
}

TEST(ScaleChild, Fit) {
  const char* out = std::getenv("ALX_SCALE_CHILD_OUT");
  if (!out) GTEST_SKIP() << "runs only as a rank started by DistributedTrainer.*";
  auto comm = Communicator::create();
  ASSERT_EQ(comm->backend(), "gloo");
  ASSERT_GT(comm->world_size(), 1);
  const FitResults adam = fit_through_trainer(comm, false);
  const FitResults weighted = fit_through_trainer(comm, true);
  const std::vector<double> batchnorm = fit_batchnorm_model(comm);
  comm->barrier();
  std::ofstream f(out);
  write_fit(f, "adam", adam);
  write_fit(f, "weighted", weighted);
  write_line(f, "batchnorm", batchnorm);
}

// ---- one process: streaming equals in-memory ------------------------------------

TEST(Streaming, TopKHeapEqualsInMemorySampler) {
  const SynthPool p = make_pool();
  sampling::SamplerInput in;
  in.scores = p.scores;
  in.labeled = p.labeled;
  const auto want = sampling::make_sampler("topk")->select(in, kK, 0);
  auto one = Communicator::create(DistributedOptions());
  EXPECT_EQ(distributed_topk(*one, masked_scores(p), 0, kN, kK, 97), want);
  sampling::TopKStream whole(kK);
  whole.push(p.scores, 0, ~p.labeled);
  EXPECT_EQ(whole.indices(), want);
}

TEST(Streaming, StochasticKeysIndependentOfChunking) {
  const SynthPool p = make_pool();
  auto one = Communicator::create(DistributedOptions());
  const auto a = distributed_stochastic(*one, masked_scores(p), 0, kN, kK, "power", 2.0, kSeed, 7);
  const auto b = distributed_stochastic(*one, masked_scores(p), 0, kN, kK, "power", 2.0, kSeed, kN);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, distributed_stochastic(*one, masked_scores(p), 0, kN, kK, "power", 2.0, kSeed + 1, kN));
  for (int64_t i : a) EXPECT_FALSE(p.labeled[i].item<bool>());
}

TEST(Streaming, KCenterEqualsInMemoryGreedy) {
  const SynthPool p = make_pool();
  std::vector<int64_t> cand;
  for (int64_t i = 0; i < kN; ++i)
    if (p.selectable[i]) cand.push_back(i);
  const auto want = sampling::kcenter_greedy(p.emb, p.labeled_idx, cand, kK, kSeed);
  EXPECT_EQ(sampling::kcenter_streaming(rows_of(p.emb), kN, kD, p.selectable, p.labeled_idx, kK, kSeed, 113), want);
}

TEST(Streaming, CacheRoundTripAndChunkedTopK) {
  const SynthPool p = make_pool();
  const std::string path = tmp_dir("cache") + "/7.h5";
  {
    CacheWriter w(path, kN, 7, "synthetic", {{"mc_samples", {4, 6}}, {"embeddings", {kD}}, {"scores/bald", {}}},
                  StreamingOptions().hdf5_chunk_rows(256));
    for (int64_t b = 0; b < kN; b += 1000) {
      const int64_t e = std::min(kN, b + 1000);
      w.write("mc_samples", p.probs.slice(0, b, e), b);
      w.write("embeddings", p.emb.slice(0, b, e), b);
      w.write("scores/bald", sampling::score(p.probs.slice(0, b, e), "bald"), b);
    }
    std::vector<int64_t> items(kN);
    for (int64_t i = 0; i < kN; ++i) items[i] = 10 * i;
    w.write_items(items);
    EXPECT_FALSE(fs::exists(path));  // only the tmp file until commit
    w.commit();
  }
  PoolCache c(path);
  EXPECT_EQ(c.size(), kN);
  EXPECT_EQ(c.model_version(), 7);
  EXPECT_TRUE(c.has("scores/bald"));
  EXPECT_FALSE(c.has("probs"));
  EXPECT_TRUE(at::equal(c.read("mc_samples", 100, 350), p.probs.slice(0, 100, 350)));
  EXPECT_EQ(c.items({0, 5}), (std::vector<int64_t>{0, 50}));
  sampling::SamplerInput in;
  in.scores = sampling::score(p.probs, "bald");
  in.labeled = p.labeled;
  EXPECT_EQ(topk_rows(c, "scores/bald", kK, p.selectable, 333), sampling::make_sampler("topk")->select(in, kK, 0));
  EXPECT_EQ(kcenter_rows(c, p.selectable, p.labeled_idx, kK, kSeed, 500),
            sampling::kcenter_streaming(rows_of(p.emb), kN, kD, p.selectable, p.labeled_idx, kK, kSeed));
}

TEST(Streaming, UnchangedModelNeverRescores) {
  auto model = make_model(ModelOptions().name("gal_cnn").num_classes(10));
  model->set_version(3);
  auto pixels = std::make_shared<std::vector<uint8_t>>(300 * 28 * 28);
  std::mt19937_64 rng(1);
  for (auto& v : *pixels) v = static_cast<uint8_t>(rng() & 0xff);
  auto images = std::make_shared<MemoryImageSource>(pixels, 300, 28, 28, 1);
  std::vector<int64_t> items;
  for (int64_t i = 0; i < 300; i += 2) items.push_back(i);
  Predictor predictor(PredictorOptions().batch_size(64).mc_passes(4).masks("fixed").seed(2));
  const std::string store = tmp_dir("predict") + "/project.h5";
  const auto opts = StreamingOptions().chunk_rows(64).progress(false);
  const unsigned what = kProbs | kEmbeddings;
  const auto r1 = predict_to_cache(predictor, *model, images, items, what, {"margin", "bald"},
                                   cache_path(store, model->version()), opts);
  EXPECT_FALSE(r1.reused);
  EXPECT_TRUE(fs::exists(store + ".cache/3.h5"));
  const at::Tensor probs1 = PoolCache(r1.path).read("probs", 0, 150);
  // The whole-pool predictor gives the same numbers as the streamed chunks.
  const auto whole = predictor.predict(*model, images, items, kProbs | kMcSamples);
  EXPECT_TRUE(at::allclose(probs1, whole.probs, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(PoolCache(r1.path).read("scores/bald", 0, 150),
                           sampling::score(whole.mc_samples, "bald").to(at::kFloat), 1e-4, 1e-5));

  // Same version: the cache is read, the model does not run (its changed weights would show).
  {
    torch::NoGradGuard g;
    for (auto& t : model->parameters()) t.add_(0.5);
  }
  const auto r2 = predict_to_cache(predictor, *model, images, items, what, {"margin", "bald"},
                                   cache_path(store, model->version()), opts);
  EXPECT_TRUE(r2.reused);
  EXPECT_TRUE(at::equal(PoolCache(r2.path).read("probs", 0, 150), probs1));
  // Other items or a new version: scored again.
  model->set_version(4);
  const auto r3 = predict_to_cache(predictor, *model, images, items, what, {"margin", "bald"},
                                   cache_path(store, model->version()), opts);
  EXPECT_FALSE(r3.reused);
  EXPECT_FALSE(at::allclose(PoolCache(r3.path).read("probs", 0, 150), probs1));
  items.pop_back();
  EXPECT_FALSE(predict_to_cache(predictor, *model, images, items, what, {"margin"}, r3.path, opts).reused);
}

// ---- several processes ------------------------------------------------------------

class Distributed : public ::testing::TestWithParam<int> {};

TEST_P(Distributed, SameSelectionAndModelAsOneProcess) {
  auto one = Communicator::create(DistributedOptions());
  const Results want = run_all(*one);
  // The one-process references themselves: in-memory top-k and k-center.
  {
    const SynthPool p = make_pool();
    sampling::SamplerInput in;
    in.scores = p.scores;
    in.labeled = p.labeled;
    EXPECT_EQ(want.topk, sampling::make_sampler("topk")->select(in, kK, 0));
    std::vector<int64_t> cand;
    for (int64_t i = 0; i < kN; ++i)
      if (p.selectable[i]) cand.push_back(i);
    EXPECT_EQ(want.kcenter_labeled, sampling::kcenter_greedy(p.emb, p.labeled_idx, cand, kK, kSeed));
  }
  const auto outs = launch(GetParam());
  for (const auto& path : outs) {
    std::ifstream f(path);
    ASSERT_TRUE(f.good()) << path;
    EXPECT_EQ(read_line<int64_t>(f, "topk"), want.topk) << path;
    EXPECT_EQ(read_line<int64_t>(f, "stochastic"), want.stochastic) << path;
    EXPECT_EQ(read_line<int64_t>(f, "kcenter_labeled"), want.kcenter_labeled) << path;
    EXPECT_EQ(read_line<int64_t>(f, "kcenter_cold"), want.kcenter_cold) << path;
    expect_params_near(read_line<float>(f, "params"), want.params);
  }
}

INSTANTIATE_TEST_SUITE_P(Ranks, Distributed, ::testing::Values(2, 3, 4));

/// A data-parallel Trainer fits as one process does: batch size 7 over 2 and 3 ranks
/// (unequal shards, and an empty shard of the last batch with 3), with augmentation,
/// a held-out split, Adam, or balanced class weights with SGD and clipping. A BatchNorm
/// model (not equal to one process: shard statistics) ends identical on every rank.
class DistributedTrainer : public ::testing::TestWithParam<int> {};

TEST_P(DistributedTrainer, FitsAsOneProcess) {
  FitResults want[2];
  for (const bool weighted : {false, true}) {
    want[weighted] = fit_through_trainer(nullptr, weighted);
    EXPECT_EQ(want[weighted].counts[0], 37);  // 5 batches of 7, then 2
    EXPECT_EQ(want[weighted].counts[1], 9);
    // A world of one is one process, bit for bit.
    const FitResults one =
        fit_through_trainer(Communicator::create(DistributedOptions()), weighted);
    EXPECT_EQ(one.params, want[weighted].params);
    EXPECT_EQ(one.loss, want[weighted].loss);
  }
  EXPECT_LT(want[0].loss.back(), want[0].loss.front());
  const auto outs = launch(GetParam(), "ScaleChild.Fit");
  std::vector<FitResults> ranks[2];
  std::vector<std::vector<double>> batchnorm;
  for (const auto& path : outs) {
    std::ifstream f(path);
    ASSERT_TRUE(f.good()) << path;
    for (const bool weighted : {false, true}) {
      SCOPED_TRACE(path + (weighted ? ", weighted" : ", adam"));
      const FitResults got = read_fit(f, weighted ? "weighted" : "adam");
      const FitResults& w = want[weighted];
      expect_params_near(got.params, w.params, 1e-4);
      expect_params_near(got.probs, w.probs, 1e-4, "probability");
      EXPECT_EQ(got.counts, w.counts);
      ASSERT_EQ(got.loss.size(), w.loss.size());
      for (size_t e = 0; e < w.loss.size(); ++e) {
        EXPECT_NEAR(got.loss[e], w.loss[e], 1e-5) << "epoch " << e;
        // Statistics over all ranks; a float difference may flip one borderline item.
        EXPECT_NEAR(got.train_accuracy[e], w.train_accuracy[e], 1.0 / 37 + 1e-9) << "epoch " << e;
        EXPECT_NEAR(got.val_accuracy[e], w.val_accuracy[e], 1.0 / 9 + 1e-9) << "epoch " << e;
      }
      ranks[weighted].push_back(got);
    }
    batchnorm.push_back(read_line<double>(f, "batchnorm"));
  }
  // Every rank ends with the same model and the same statistics; with BatchNorm too
  // (rank 0's running statistics everywhere).
  ASSERT_EQ(batchnorm.size(), outs.size());
  EXPECT_GT(batchnorm[0].size(), 100u);
  for (size_t r = 1; r < batchnorm.size(); ++r)
    EXPECT_EQ(batchnorm[r], batchnorm[0]) << "rank " << r;
  for (const bool weighted : {false, true}) {
    for (size_t r = 1; r < ranks[weighted].size(); ++r) {
      EXPECT_EQ(ranks[weighted][r].params, ranks[weighted][0].params) << "rank " << r;
      EXPECT_EQ(ranks[weighted][r].loss, ranks[weighted][0].loss) << "rank " << r;
      EXPECT_EQ(ranks[weighted][r].val_accuracy, ranks[weighted][0].val_accuracy) << "rank " << r;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ranks, DistributedTrainer, ::testing::Values(2, 3));
