// Label review: statistics, cross-fitting, suspects, duplicates, maps. See alx/training/review.h.
#include <alx/core/error.h>
#include <alx/core/io/csv.h>
#include <alx/core/io/cvat.h>
#include <alx/core/io/label_studio.h>
#include <alx/core/log.h>
#include <alx/core/plot.h>
#include <alx/training/loop.h>
#include <alx/training/review.h>

#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <set>

namespace alx::training {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::ofstream open_csv(const std::string& path) {
  std::ofstream out(path);
  ALX_CHECK_IO(out.good(), "cannot write '{}'", path);
  return out;
}

void close_csv(std::ofstream& out, const std::string& path) {
  out.close();
  ALX_CHECK_IO(!out.fail(), "could not write '{}' (disk full?)", path);
}

std::string class_name(const Pool& pool, int label) { return label < 0 ? std::string() : pool.schema().name(label); }

torch::Tensor index_tensor(const std::vector<int64_t>& v) {
  return torch::tensor(v.empty() ? std::vector<int64_t>{} : v, torch::kLong);
}

}  // namespace

// ------------------------------------------------------------------ label statistics

LabelStats label_stats(const Pool& pool, double min_share) {
  LabelStats s;
  const int c = pool.schema().size();
  s.classes = pool.schema().names();
  s.pool_size = pool.size();
  s.labeled = pool.num_labeled();
  s.unlabeled = pool.num_unlabeled();
  s.counts = pool.counts_per_class();
  s.shares.assign(static_cast<std::size_t>(c), 0.0);
  for (int j = 0; j < c; ++j)
    if (s.labeled > 0)
      s.shares[static_cast<std::size_t>(j)] = static_cast<double>(s.counts[static_cast<std::size_t>(j)]) / s.labeled;
  std::set<int> rounds;
  for (int64_t i : pool.labeled()) rounds.insert(std::max(0, pool.label_round(i)));
  s.rounds.assign(rounds.begin(), rounds.end());
  std::map<int, std::size_t> slot;
  for (std::size_t r = 0; r < s.rounds.size(); ++r) slot[s.rounds[r]] = r;
  s.added.assign(s.rounds.size(), std::vector<int64_t>(static_cast<std::size_t>(c), 0));
  for (int64_t i : pool.labeled())
    ++s.added[slot[std::max(0, pool.label_round(i))]][static_cast<std::size_t>(pool.label(i))];
  s.cumulative = s.added;
  for (std::size_t r = 1; r < s.cumulative.size(); ++r)
    for (int j = 0; j < c; ++j) s.cumulative[r][static_cast<std::size_t>(j)] += s.cumulative[r - 1][static_cast<std::size_t>(j)];
  s.min_share = min_share > 0 ? min_share : (c > 0 ? 0.5 / c : 0.0);
  if (s.labeled > 0) {
    for (int j = 0; j < c; ++j) {
      const auto jj = static_cast<std::size_t>(j);
      if (s.counts[jj] == 0)
        s.warnings.push_back(fmt::format("class '{}' has no labels", s.classes[jj]));
      else if (s.shares[jj] < s.min_share)
        s.warnings.push_back(fmt::format("class '{}' has {} of {} labels ({:.1f}%), under {:.1f}%", s.classes[jj],
                                         s.counts[jj], s.labeled, 100 * s.shares[jj], 100 * s.min_share));
    }
  }
  return s;
}

std::string format_label_stats(const LabelStats& s) {
  std::string out = fmt::format("labels:   {} of {} items labeled, {} unlabeled, {} label round(s)\n", s.labeled,
                                s.pool_size, s.unlabeled, s.rounds.size());
  const bool growth = !s.added.empty();
  out += fmt::format("  {:<20} {:>7} {:>7} {:>12}\n", "class", "labeled", "share",
                     growth ? fmt::format("+round {}", s.rounds.back()) : std::string());
  for (std::size_t j = 0; j < s.classes.size(); ++j)
    out += fmt::format("  {:<20} {:>7} {:>6.1f}% {:>12}\n", s.classes[j], s.counts[j], 100 * s.shares[j],
                       growth ? fmt::format("+{}", s.added.back()[j]) : std::string());
  for (const auto& w : s.warnings) out += "  warning: " + w + "\n";
  return out;
}

void save_label_stats(Store& store, const LabelStats& s) {
  store.set_meta("review_label_stats", format_label_stats(s));
  StoredArray counts, rounds;
  counts.shape = {static_cast<int64_t>(s.rounds.size()), static_cast<int64_t>(s.classes.size())};
  for (const auto& row : s.cumulative)
    for (int64_t v : row) counts.data.push_back(static_cast<float>(v));
  counts.tag = "labeled per class after each label round";
  rounds.shape = {static_cast<int64_t>(s.rounds.size())};
  for (int r : s.rounds) rounds.data.push_back(static_cast<float>(r));
  rounds.tag = "label rounds of review_label_counts";
  store.set_array("review_label_counts", std::move(counts));
  store.set_array("review_label_rounds", std::move(rounds));
}

void plot_label_stats(const LabelStats& s, const std::string& png_path) {
  plot::BarChart chart;
  chart.title = fmt::format("labels per class ({} labeled of {})", s.labeled, s.pool_size);
  chart.ylabel = "labeled items";
  chart.labels = s.classes;
  const std::size_t r = s.cumulative.size();
  for (std::size_t j = 0; j < s.classes.size(); ++j) {
    chart.values.push_back(r >= 2 ? static_cast<double>(s.cumulative[r - 2][j]) : static_cast<double>(s.counts[j]));
    if (r >= 2) chart.values2.push_back(static_cast<double>(s.counts[j]));
  }
  if (r >= 2) {
    chart.name1 = fmt::format("after round {}", s.rounds[r - 2]);
    chart.name2 = fmt::format("after round {}", s.rounds[r - 1]);
  }
  plot::save(chart, png_path);
}

// ------------------------------------------------------------------ cross-fitting

CrossFitResult cross_fit(const ReviewModel& m, std::shared_ptr<const ImageSource> images,
                         const std::vector<int64_t>& indices, const std::vector<int>& labels, int folds,
                         uint64_t seed) {
  const auto n = static_cast<int64_t>(indices.size());
  ALX_CHECK(folds >= 2, "cross-fitting needs at least 2 folds, got {}", folds);
  ALX_CHECK(indices.size() == labels.size(), "cross_fit: {} indices but {} labels", indices.size(), labels.size());
  ALX_CHECK(n >= folds, "cross-fitting with {} folds needs at least {} labeled items, got {}", folds, folds, n);
  const int64_t c = m.model.num_classes();
  // Stratified folds: each class shuffled, then dealt out round-robin (continuing across
  // classes, so fold sizes differ by at most one).
  CrossFitResult r;
  r.fold.assign(indices.size(), 0);
  std::map<int, std::vector<int64_t>> by_class;
  for (int64_t i = 0; i < n; ++i) {
    const int y = labels[static_cast<std::size_t>(i)];
    ALX_CHECK(y >= 0 && y < c, "cross_fit: label {} of item {} is outside [0, {})", y, indices[static_cast<std::size_t>(i)], c);
    by_class[y].push_back(i);
  }
  std::mt19937_64 rng(round_seed(seed, 0, "review-folds"));
  int next = 0;
  for (auto& [y, rows] : by_class) {
    std::shuffle(rows.begin(), rows.end(), rng);
    for (int64_t row : rows) r.fold[static_cast<std::size_t>(row)] = next++ % folds;
  }
  r.probs = torch::zeros({n, c}, torch::kFloat);
  for (int f = 0; f < folds; ++f) {
    std::vector<int64_t> train_idx, test_idx, test_rows;
    std::vector<int> train_labels;
    for (int64_t i = 0; i < n; ++i) {
      const auto ii = static_cast<std::size_t>(i);
      if (r.fold[ii] == f) {
        test_idx.push_back(indices[ii]);
        test_rows.push_back(i);
      } else {
        train_idx.push_back(indices[ii]);
        train_labels.push_back(labels[ii]);
      }
    }
    auto model = make_model(m.model);
    TrainerOptions topts = m.trainer;
    topts.seed(round_seed(seed, f + 1, "review-train")).reinit(true);
    const Trainer trainer(topts, m.train_pipeline, m.eval_pipeline);
    const auto t = Clock::now();
    trainer.fit(*model, images, train_idx, train_labels);
    const Predictor predictor(m.predictor, m.eval_pipeline);
    const torch::Tensor p = predictor.probs(*model, images, test_idx).to(torch::kCPU, torch::kFloat);
    r.probs.index_copy_(0, index_tensor(test_rows), p);
    int64_t agree = 0;
    const torch::Tensor arg = p.argmax(1);
    for (std::size_t k = 0; k < test_rows.size(); ++k)
      agree += arg[static_cast<int64_t>(k)].item<int64_t>() == labels[static_cast<std::size_t>(test_rows[k])];
    r.fold_accuracy.push_back(test_rows.empty() ? 0.0 : static_cast<double>(agree) / static_cast<double>(test_rows.size()));
    log::info("review: fold {}/{}: trained on {}, scored {} (agreement {:.3f}) in {:.1f} s", f + 1, folds,
              train_idx.size(), test_idx.size(), r.fold_accuracy.back(), seconds_since(t));
    if (f == folds - 1) r.model = std::move(model);
  }
  return r;
}

// ------------------------------------------------------------------ mislabels

std::vector<Suspect> rank_suspects(const std::vector<int64_t>& indices, const std::vector<int>& labels,
                                   const torch::Tensor& probs, const sampling::ConfidentLearning& cl) {
  ALX_CHECK(indices.size() == labels.size() && indices.size() == cl.ranking.size(),
            "rank_suspects: {} indices, {} labels, {} ranked rows", indices.size(), labels.size(), cl.ranking.size());
  const torch::Tensor p = probs.to(torch::kCPU, torch::kFloat).contiguous();
  const auto pa = p.accessor<float, 2>();
  std::vector<Suspect> out;
  out.reserve(cl.ranking.size());
  for (int64_t row : cl.ranking) {
    const auto r = static_cast<std::size_t>(row);
    Suspect s;
    s.index = indices[r];
    s.given = labels[r];
    s.suggested = cl.suggested[r];
    s.p_given = pa[row][s.given];
    s.p_suggested = pa[row][s.suggested];
    s.margin = cl.margin[r];
    s.flagged = cl.flagged[r];
    out.push_back(s);
  }
  return out;
}

void write_suspects_csv(const std::string& path, const Pool& pool, const std::vector<Suspect>& suspects) {
  auto out = open_csv(path);
  out << "rank,id,index,given,suggested,p_given,p_suggested,margin,flagged\n";
  for (std::size_t r = 0; r < suspects.size(); ++r) {
    const auto& s = suspects[r];
    out << r << ',' << io::csv_escape(pool.id(s.index)) << ',' << s.index << ','
        << io::csv_escape(class_name(pool, s.given)) << ',' << io::csv_escape(class_name(pool, s.suggested)) << ','
        << fmt::format("{:.6f},{:.6f},{:.6f},{}\n", s.p_given, s.p_suggested, s.margin, s.flagged ? 1 : 0);
  }
  close_csv(out, path);
}

io::NextBatch review_batch(const Pool& pool, const std::vector<Suspect>& suspects, int64_t max_items,
                           const std::string& model_version, const std::vector<std::string>& image_refs) {
  io::NextBatch batch;
  batch.schema = pool.schema();
  batch.model_version = model_version;
  for (const auto& s : suspects) {
    if (static_cast<int64_t>(batch.items.size()) >= max_items) break;
    if (!s.flagged) continue;
    io::BatchItem it;
    it.index = s.index;
    it.id = pool.id(s.index);
    it.image = image_refs.empty() ? it.id : image_refs[static_cast<std::size_t>(s.index)];
    it.rank = static_cast<int>(batch.items.size());
    it.uncertainty = std::clamp((1.0 - s.margin) / 2.0, 0.0, 1.0);
    it.predicted_label = s.suggested;
    it.confidence = std::clamp(s.p_suggested, 0.0, 1.0);
    batch.items.push_back(std::move(it));
  }
  return batch;
}

// ------------------------------------------------------------------ duplicates

std::vector<int64_t> duplicates_to_skip(const Pool& pool, const std::vector<sampling::DuplicatePair>& pairs) {
  std::vector<bool> labeled(static_cast<std::size_t>(pool.size()));
  for (int64_t i = 0; i < pool.size(); ++i) labeled[static_cast<std::size_t>(i)] = pool.is_labeled(i);
  const torch::Tensor mask = sampling::duplicate_skip_mask(pool.size(), pairs, labeled);
  const auto m = mask.accessor<bool, 1>();
  std::vector<int64_t> skip;
  for (int64_t i = 0; i < pool.size(); ++i)
    if (!m[i] && !labeled[static_cast<std::size_t>(i)]) skip.push_back(i);
  return skip;
}

torch::Tensor thumbnails(const ImageSource& images, const std::vector<int64_t>& indices, int side) {
  ALX_CHECK(side > 0, "thumbnail side must be positive, got {}", side);
  torch::Tensor out = torch::empty({static_cast<int64_t>(indices.size()), int64_t{side} * side}, torch::kFloat);
  float* dst = out.data_ptr<float>();
  at::parallel_for(0, static_cast<int64_t>(indices.size()), 256, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      cv::Mat m = images.load(indices[static_cast<std::size_t>(k)]), g, t, f;
      ALX_CHECK_IO(!m.empty(), "cannot read image {}", images.describe(indices[static_cast<std::size_t>(k)]));
      if (m.channels() == 3) cv::cvtColor(m, g, cv::COLOR_BGR2GRAY);
      else if (m.channels() == 4) cv::cvtColor(m, g, cv::COLOR_BGRA2GRAY);
      else g = m;
      cv::resize(g, t, cv::Size(side, side), 0, 0, cv::INTER_AREA);
      t.convertTo(f, CV_32F);
      for (int r = 0; r < side; ++r)
        std::copy(f.ptr<float>(r), f.ptr<float>(r) + side, dst + k * side * side + r * side);
    }
  });
  return out;
}

void write_duplicates_csv(const std::string& path, const Pool& pool, const std::vector<sampling::DuplicatePair>& pairs) {
  auto out = open_csv(path);
  out << "a_id,b_id,a_index,b_index,cosine,a_label,b_label\n";
  for (const auto& p : pairs)
    out << io::csv_escape(pool.id(p.a)) << ',' << io::csv_escape(pool.id(p.b)) << ',' << p.a << ',' << p.b << ','
        << fmt::format("{:.6f}", p.cosine) << ',' << io::csv_escape(class_name(pool, pool.label(p.a))) << ','
        << io::csv_escape(class_name(pool, pool.label(p.b))) << '\n';
  close_csv(out, path);
}

// ------------------------------------------------------------------ embedding map

void plot_embedding_map(const std::string& png_path, const std::string& title, const torch::Tensor& coords,
                        const Pool& pool, const std::vector<int64_t>& indices, const std::vector<int64_t>& flagged,
                        const std::vector<int64_t>& next_batch) {
  ALX_CHECK(coords.dim() == 2 && coords.size(1) == 2 && coords.size(0) == static_cast<int64_t>(indices.size()),
            "plot_embedding_map: coords must be [{}, 2]", indices.size());
  const torch::Tensor xy = coords.to(torch::kCPU, torch::kFloat).contiguous();
  const auto a = xy.accessor<float, 2>();
  const std::set<int64_t> fl(flagged.begin(), flagged.end()), nb(next_batch.begin(), next_batch.end());
  // Draw order: unlabeled, labeled, then marked points on top.
  std::vector<std::size_t> order(indices.size());
  std::iota(order.begin(), order.end(), 0);
  auto layer = [&](std::size_t k) {
    const int64_t i = indices[k];
    return fl.count(i) || nb.count(i) ? 2 : pool.is_labeled(i) ? 1 : 0;
  };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return layer(x) < layer(y); });
  plot::ScatterChart chart;
  chart.title = title;
  chart.group_names = pool.schema().names();
  for (std::size_t k : order) {
    const int64_t i = indices[k];
    chart.x.push_back(a[static_cast<int64_t>(k)][0]);
    chart.y.push_back(a[static_cast<int64_t>(k)][1]);
    chart.group.push_back(pool.label(i));
    chart.mark.push_back(fl.count(i) ? 1 : nb.count(i) ? 2 : 0);
  }
  chart.mark_names = {"", "flagged", "next batch"};  // the legend column is narrow
  plot::save(chart, png_path);
}

// ------------------------------------------------------------------ everything

std::string format_review_summary(const ReviewResult& r, const Pool& pool) {
  std::string out;
  double acc = 0;
  for (double a : r.fold_accuracy) acc += a;
  if (!r.fold_accuracy.empty()) acc /= static_cast<double>(r.fold_accuracy.size());
  out += fmt::format("cross-fitted {} labeled items in {} folds, out-of-sample agreement {:.3f}\n", r.labeled.size(),
                     r.fold_accuracy.size(), acc);
  out += fmt::format("suspected mislabels: {} flagged by confident learning\n", r.cl.num_flagged);
  for (std::size_t k = 0; k < std::min<std::size_t>(5, r.suspects.size()); ++k) {
    const auto& s = r.suspects[k];
    if (!s.flagged) break;
    out += fmt::format("  {}  labeled '{}', model says '{}' ({:.2f} vs {:.2f})\n", pool.id(s.index),
                       class_name(pool, s.given), class_name(pool, s.suggested), s.p_suggested, s.p_given);
  }
  out += fmt::format("near-duplicates: {} pairs, {} unlabeled items to skip\n", r.duplicates.size(), r.skip.size());
  out += fmt::format("labeled/test leaks: {} pairs\n", r.leaks.size());
  return out;
}

ReviewResult run_review(const ReviewInputs& in, const ReviewOptions& o, const std::string& out_dir) {
  ALX_CHECK(in.store != nullptr, "run_review needs a store");
  ALX_CHECK(in.images != nullptr, "run_review needs the pool's images");
  ALX_CHECK(o.duplicate_scope() == "all" || o.duplicate_scope() == "labeled",
            "review duplicate_scope must be all or labeled, got '{}'", o.duplicate_scope());
  Store& store = *in.store;
  const Pool& pool = store.pool();
  ALX_CHECK(in.images->size() >= pool.size(), "the image source has {} images for a pool of {}", in.images->size(),
            pool.size());
  ALX_CHECK(in.model.model.num_classes() == pool.schema().size(), "the model has {} classes, the pool's schema {}",
            in.model.model.num_classes(), pool.schema().size());
  std::filesystem::create_directories(out_dir);
  const std::string dir = out_dir + "/";
  ReviewResult r;
  auto t = Clock::now();

  // 1. Label statistics.
  r.stats = label_stats(pool, o.min_share());
  plot_label_stats(r.stats, dir + "label_stats.png");
  r.files.push_back(dir + "label_stats.png");
  save_label_stats(store, r.stats);
  for (const auto& w : r.stats.warnings) log::warn("labels: {}", w);
  r.seconds["stats"] = seconds_since(t);

  // 2. Out-of-sample probabilities of every labeled item.
  t = Clock::now();
  r.labeled = pool.labeled();
  std::vector<int> labels;
  for (int64_t i : r.labeled) labels.push_back(pool.label(i));
  CrossFitResult cf = cross_fit(in.model, in.images, r.labeled, labels, o.folds(), o.seed());
  r.probs = cf.probs;
  r.fold_accuracy = cf.fold_accuracy;
  r.seconds["cross_fit"] = seconds_since(t);

  // 3. Suspects: ranked list and a batch for re-checking.
  t = Clock::now();
  r.cl = sampling::confident_learning(r.probs, labels);
  r.suspects = rank_suspects(r.labeled, labels, r.probs, r.cl);
  write_suspects_csv(dir + "suspects.csv", pool, r.suspects);
  r.files.push_back(dir + "suspects.csv");
  const io::NextBatch batch = review_batch(pool, r.suspects, o.review_batch(),
                                           fmt::format("review-round-{}", store.last_round()), in.image_refs);
  if (!batch.items.empty()) {
    io::write_label_studio_tasks(dir + "review_tasks.json", batch);
    io::write_cvat(dir + "review_cvat.xml", batch, io::CvatWriteOptions().task_name("alx label review"));
    r.files.push_back(dir + "review_tasks.json");
    r.files.push_back(dir + "review_cvat.xml");
  }
  r.seconds["suspects"] = seconds_since(t);

  // 4. Embeddings (one model: the last fold's), near-duplicates and leaks.
  t = Clock::now();
  std::vector<int64_t> scope = o.duplicate_scope() == "all" ? std::vector<int64_t>(static_cast<std::size_t>(pool.size()))
                                                           : r.labeled;
  if (o.duplicate_scope() == "all") std::iota(scope.begin(), scope.end(), 0);
  const Predictor predictor(in.model.predictor, in.model.eval_pipeline);
  const torch::Tensor emb = predictor.embeddings(*cf.model, in.images, scope).to(torch::kCPU, torch::kFloat);
  r.seconds["embed"] = seconds_since(t);
  t = Clock::now();
  // The features duplicates are compared on, centered by the scope's means (also for the test split).
  const std::string feat = o.duplicate_features();
  ALX_CHECK(feat == "both" || feat == "embeddings" || feat == "thumbnails",
            "review duplicate_features must be both, embeddings or thumbnails, got '{}'", feat);
  const bool center = o.duplicates().center();
  const torch::Tensor emb_mean = center ? emb.mean(0, true) : torch::zeros({1, emb.size(1)});
  torch::Tensor thumb_mean;
  auto features = [&](const torch::Tensor& e, const ImageSource& imgs, const std::vector<int64_t>& idx) {
    auto unit = [](const torch::Tensor& x) { return x / x.norm(2, 1, true).clamp_min(1e-12); };
    std::vector<torch::Tensor> parts;
    if (feat != "thumbnails") parts.push_back(unit(e - emb_mean));
    if (feat != "embeddings") {
      const torch::Tensor th = thumbnails(imgs, idx);
      if (!thumb_mean.defined()) thumb_mean = center ? th.mean(0, true) : torch::zeros({1, th.size(1)});
      parts.push_back(unit(th - thumb_mean));
    }
    return (torch::cat(parts, 1) / std::sqrt(static_cast<double>(parts.size()))).contiguous();
  };
  sampling::DuplicateOptions dopts = o.duplicates();
  dopts.center(false);  // centered above
  const torch::Tensor feats = features(emb, *in.images, scope);
  for (auto p : sampling::near_duplicates(feats, dopts)) {
    p.a = scope[static_cast<std::size_t>(p.a)], p.b = scope[static_cast<std::size_t>(p.b)];
    r.duplicates.push_back(p);
  }
  write_duplicates_csv(dir + "duplicates.csv", pool, r.duplicates);
  r.files.push_back(dir + "duplicates.csv");
  r.skip = duplicates_to_skip(pool, r.duplicates);
  if (in.test_images && !in.test_indices.empty() && !r.labeled.empty()) {
    const torch::Tensor test_emb =
        predictor.embeddings(*cf.model, in.test_images, in.test_indices).to(torch::kCPU, torch::kFloat);
    // Rows of the labeled items within `scope`.
    std::vector<int64_t> rows;
    if (o.duplicate_scope() == "all") rows = r.labeled;
    else rows.resize(r.labeled.size()), std::iota(rows.begin(), rows.end(), 0);
    const torch::Tensor lab_feats = feats.index_select(0, index_tensor(rows));
    const torch::Tensor test_feats = features(test_emb, *in.test_images, in.test_indices);
    for (auto p : sampling::cross_duplicates(lab_feats, test_feats, dopts)) {
      p.a = r.labeled[static_cast<std::size_t>(p.a)];
      r.leaks.push_back(p);
    }
    auto out = open_csv(dir + "leaks.csv");
    out << "labeled_id,labeled_index,test_index,cosine,label\n";
    for (const auto& p : r.leaks)
      out << io::csv_escape(pool.id(p.a)) << ',' << p.a << ',' << in.test_indices[static_cast<std::size_t>(p.b)] << ','
          << fmt::format("{:.6f}", p.cosine) << ',' << io::csv_escape(class_name(pool, pool.label(p.a))) << '\n';
    close_csv(out, dir + "leaks.csv");
    r.files.push_back(dir + "leaks.csv");
  }
  r.seconds["duplicates"] = seconds_since(t);

  // 5. Embedding maps: labeled, flagged and next-batch items, and a random subset of the rest.
  t = Clock::now();
  std::vector<int64_t> next = in.next_batch;
  if (next.empty() && !store.rounds().empty()) next = store.rounds().back().selected;
  std::vector<int64_t> flagged;
  for (const auto& s : r.suspects)
    if (s.flagged) flagged.push_back(s.index);
  std::set<int64_t> keep(r.labeled.begin(), r.labeled.end());
  keep.insert(next.begin(), next.end());
  std::vector<int64_t> rest;
  for (int64_t i : pool.unlabeled())
    if (!keep.count(i)) rest.push_back(i);
  std::mt19937_64 rng(round_seed(o.seed(), 0, "review-map"));
  std::shuffle(rest.begin(), rest.end(), rng);
  if (static_cast<int64_t>(rest.size()) > o.map_unlabeled()) rest.resize(static_cast<std::size_t>(o.map_unlabeled()));
  keep.insert(rest.begin(), rest.end());
  r.map_indices.assign(keep.begin(), keep.end());
  torch::Tensor map_emb;
  if (o.duplicate_scope() == "all") {
    map_emb = emb.index_select(0, index_tensor(r.map_indices));
  } else {
    map_emb = predictor.embeddings(*cf.model, in.images, r.map_indices).to(torch::kCPU, torch::kFloat);
  }
  const std::string what = fmt::format("{} labeled, {} flagged, {} next batch", r.labeled.size(), flagged.size(), next.size());
  if (o.pca() && r.map_indices.size() >= 2) {
    r.pca = sampling::pca_2d(map_emb);
    plot_embedding_map(dir + "map_pca.png", "PCA of embeddings: " + what, r.pca, pool, r.map_indices, flagged, next);
    r.files.push_back(dir + "map_pca.png");
  }
  if (o.tsne() && r.map_indices.size() >= 4) {
    sampling::TsneOptions topts = o.tsne_options();
    topts.seed(o.seed());
    r.tsne = sampling::tsne_2d(map_emb, topts);
    plot_embedding_map(dir + "map_tsne.png", "t-SNE of embeddings: " + what, r.tsne, pool, r.map_indices, flagged,
                       next);
    r.files.push_back(dir + "map_tsne.png");
  }
  {
    const std::set<int64_t> fl(flagged.begin(), flagged.end()), nb(next.begin(), next.end());
    const torch::Tensor pca = r.pca.defined() ? r.pca.to(torch::kFloat).contiguous() : torch::Tensor();
    const torch::Tensor tsne = r.tsne.defined() ? r.tsne.to(torch::kFloat).contiguous() : torch::Tensor();
    auto out = open_csv(dir + "map.csv");
    out << "id,index,label,flagged,next_batch,pca_x,pca_y,tsne_x,tsne_y\n";
    for (std::size_t k = 0; k < r.map_indices.size(); ++k) {
      const int64_t i = r.map_indices[k];
      out << io::csv_escape(pool.id(i)) << ',' << i << ',' << io::csv_escape(class_name(pool, pool.label(i))) << ','
          << (fl.count(i) ? 1 : 0) << ',' << (nb.count(i) ? 1 : 0);
      for (const torch::Tensor* c : {&pca, &tsne}) {
        if (c->defined())
          out << fmt::format(",{:.5f},{:.5f}", c->data_ptr<float>()[2 * k], c->data_ptr<float>()[2 * k + 1]);
        else
          out << ",,";
      }
      out << '\n';
    }
    close_csv(out, dir + "map.csv");
    r.files.push_back(dir + "map.csv");
  }
  r.seconds["maps"] = seconds_since(t);

  // 6. Into the store, in one atomic save.
  StoredArray sus;
  for (const auto& s : r.suspects) {
    if (!s.flagged) break;
    sus.data.insert(sus.data.end(), {static_cast<float>(s.index), static_cast<float>(s.given),
                                     static_cast<float>(s.suggested), static_cast<float>(s.margin)});
  }
  sus.shape = {static_cast<int64_t>(sus.data.size() / 4), 4};
  sus.tag = "flagged suspects: pool index, given, suggested, margin";
  store.set_array("review_suspects", std::move(sus));
  StoredArray skip;
  for (int64_t i : r.skip) skip.data.push_back(static_cast<float>(i));
  skip.shape = {static_cast<int64_t>(skip.data.size())};
  skip.tag = "unlabeled near-duplicates samplers should skip (pool indices)";
  store.set_array("review_duplicate_skip", std::move(skip));
  store.set_meta("review_summary", format_review_summary(r, pool));
  store.save();
  return r;
}

}  // namespace alx::training
