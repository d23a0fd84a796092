// `alx round`: what a labeling team runs between two labeling sessions.
//
// Classification exports: train on the labeled images, score the unlabeled ones, pick the
// next batch and write it back with the model's predictions. Detection / segmentation
// exports whose images carry per-object pre-labels with scores (Label Studio predictions,
// or a COCO results file given with --predictions): order the images by how likely their
// pre-labels are to be wrong (aggregated object doubts) — no training needed.
#include <alx/augment/pipeline.h>
#include <alx/core/error.h>
#include <alx/core/io/coco.h>
#include <alx/core/io/csv.h>
#include <alx/core/io/cvat.h>
#include <alx/core/io/detection.h>
#include <alx/core/io/folder.h>
#include <alx/core/io/label_studio.h>
#include <alx/core/log.h>
#include <alx/training/experiment.h>

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "commands.h"

namespace fs = std::filesystem;

namespace alx::cli {
namespace {

/// What a reader gave us, whatever the format.
struct Export {
  std::string format;
  Dataset dataset;
  std::vector<std::string> image_refs;        ///< per item, as the tool wrote it (may be empty)
  std::vector<io::ImageSize> sizes;           ///< per item (may be empty)
  std::vector<std::vector<Object>> predicted;  ///< per item pre-labels with scores (may be empty)
  io::LabelStudioNames ls_names;
  io::CocoIds coco_ids;
};

std::string detect_format(const std::string& path) {
  if (fs::is_directory(path)) return "folder";
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".xml") return "cvat";
  if (ext == ".csv" || ext == ".txt") return "csv";
  ALX_CHECK(ext == ".json", "cannot tell the format of '{}' from its name; pass --format", path);
  std::ifstream in(path);
  ALX_CHECK_IO(in.good(), "cannot open export '{}'", path);
  std::string head(1 << 16, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  const bool coco = head.find("\"categories\"") != std::string::npos &&
                    head.find("\"images\"") != std::string::npos;
  return coco ? "coco" : "labelstudio";
}

Export read_export(const RoundArgs& a) {
  Export e;
  e.format = a.format.empty() ? detect_format(a.export_file) : a.format;
  if (e.format == "labelstudio") {
    auto ls = io::read_label_studio(
        a.export_file,
        io::LabelStudioOptions().images_root(a.images).classes(a.classes).max_pixels(a.max_pixels));
    e.dataset = std::move(ls.dataset);
    e.image_refs = std::move(ls.image_refs);
    e.sizes = std::move(ls.sizes);
    e.ls_names = ls.names;
    for (auto& p : ls.predictions) e.predicted.push_back(p ? p->objects : std::vector<Object>{});
  } else if (e.format == "cvat") {
    auto cv = io::read_cvat(
        a.export_file,
        io::CvatOptions().images_root(a.images).classes(a.classes).max_pixels(a.max_pixels));
    e.dataset = std::move(cv.dataset);
    e.image_refs = std::move(cv.names);
    e.sizes = std::move(cv.sizes);
  } else if (e.format == "coco") {
    auto co = io::read_coco(
        a.export_file,
        io::CocoOptions().images_root(a.images).classes(a.classes).max_pixels(a.max_pixels));
    e.dataset = std::move(co.dataset);
    e.coco_ids = std::move(co.ids);
    e.sizes = std::move(co.sizes);
  } else if (e.format == "folder") {
    io::FolderOptions o;
    o.images.max_pixels = a.max_pixels;
    e.dataset = io::read_folder_tree(a.export_file, o);
  } else {
    io::CsvOptions o;
    o.images_root = a.images;
    o.images.max_pixels = a.max_pixels;
    e.dataset = io::read_csv(a.export_file, o);
  }
  ALX_CHECK(e.dataset.pool.size() > 0, "export '{}' holds no images", a.export_file);
  if (!a.classes.empty() && (e.format == "folder" || e.format == "csv"))
    for (const auto& name : e.dataset.pool.schema().names())
      ALX_CHECK(std::find(a.classes.begin(), a.classes.end(), name) != a.classes.end(),
                "export '{}': label '{}' is not one of --classes ({})", a.export_file, name, fmt::join(a.classes, ", "));
  for (const auto& note : e.dataset.notes) log::info("{}: {}", a.export_file, note);
  return e;
}

/// The export's pool with the store's labels carried over. Refuses to drop a stored label.
Pool merge_with_store(const Pool& fresh, const Store& store, const std::string& export_file) {
  const Pool& old = store.pool();
  Schema schema = old.schema();
  for (const auto& name : fresh.schema().names())
    if (!schema.contains(name)) schema.add(name);
  Pool merged(schema, fresh.ids());
  std::vector<std::string> lost;
  for (int64_t i : old.labeled())
    if (!fresh.find(old.id(i))) lost.push_back(old.id(i));
  ALX_CHECK(lost.empty(),
            "export '{}' lacks {} images the store has labels for (e.g. '{}'); export the whole project "
            "so that no label is lost (the store is unchanged)",
            export_file, lost.size(), lost.empty() ? "" : lost.front());
  const int new_round = store.last_round();  // labels answering the last emitted batch
  std::map<int, std::pair<std::vector<int64_t>, std::vector<int>>> by_round;
  const auto keep = [&](int round, int64_t item, int label) {
    by_round[round].first.push_back(item);
    by_round[round].second.push_back(label);
  };
  for (int64_t i = 0; i < fresh.size(); ++i) {
    const auto in_old = old.find(fresh.id(i));
    const int old_label = in_old && old.is_labeled(*in_old) ? schema.index(old.schema().name(old.label(*in_old))) : -1;
    const int new_label = fresh.is_labeled(i) ? schema.index(fresh.schema().name(fresh.label(i))) : -1;
    if (new_label < 0 && old_label >= 0)
      log::warn("'{}' is labeled in the store but not in the export: keeping the stored label", fresh.id(i));
    if (old_label >= 0 && (new_label < 0 || new_label == old_label))
      keep(old.label_round(*in_old), i, old_label);  // unchanged: it keeps the round it arrived in
    else if (new_label >= 0)
      keep(new_round, i, new_label);  // new or corrected
    if (!fresh.objects(i).empty()) {  // objects carry class indices of the export's schema
      std::vector<Object> objs = fresh.objects(i);
      for (auto& o : objs) o.label = schema.index(fresh.schema().name(o.label));
      merged.set_objects(i, std::move(objs));
    }
  }
  for (auto& [r, il] : by_round) merged.add_labels(il.first, il.second, r);
  return merged;
}

training::RunConfig round_defaults() {
  training::RunConfig c = training::RunConfig::defaults();
  c.trainer().epochs(30).validation_fraction(0.0);
  c.loop().batch_size(20).pool_subsample(0).rounds(1000000);
  c.augment(YAML::Load(
      "eval: [{name: grayscale, channels: 1}, {name: resize, height: 28, width: 28}]\n"
      "train: [{name: grayscale, channels: 1}, {name: resize, height: 28, width: 28}]\n"));
  return c;
}

void write_outputs(const RoundArgs& a, const Export& e, const io::NextBatch& batch) {
  fs::create_directories(a.out);
  io::write_label_studio_tasks(a.out + "/next_batch.json", batch, e.ls_names);
  const std::string csv_path = a.out + "/next_batch.csv";
  {
    std::ofstream csv(csv_path + ".tmp");
    ALX_CHECK_IO(csv.good(), "cannot write '{}'", csv_path);
    csv << "rank,id,image,uncertainty,predicted_label,confidence\n";
    for (const auto& it : batch.items)
      csv << it.rank << ',' << io::csv_escape(it.id) << ',' << io::csv_escape(it.image) << ','
          << fmt::format("{:.6f}", it.uncertainty) << ','
          << io::csv_escape(it.predicted_label >= 0 ? batch.schema.name(it.predicted_label) : "") << ','
          << fmt::format("{:.6f}", it.confidence) << '\n';
    ALX_CHECK_IO(csv.good(), "could not finish '{}'", csv_path);
  }
  fs::rename(csv_path + ".tmp", csv_path);
  std::printf("next batch: %s/next_batch.json (Label Studio tasks), %s\n", a.out.c_str(), csv_path.c_str());
  if (e.format == "cvat") {
    io::write_cvat(a.out + "/next_batch.xml", batch);
    std::printf("            %s/next_batch.xml (CVAT for images 1.1)\n", a.out.c_str());
  }
  if (e.format == "coco") {
    // COCO results hold objects; a class prediction for a whole image becomes a box over
    // the whole image with the predicted category and its confidence as score.
    io::NextBatch coco = batch;
    for (auto& it : coco.items)
      if (it.objects.empty() && it.predicted_label >= 0 && it.size.known()) {
        Object o;
        o.label = it.predicted_label;
        o.box = {0, 0, static_cast<float>(it.size.width), static_cast<float>(it.size.height)};
        o.score = static_cast<float>(it.confidence);
        it.objects.push_back(o);
      }
    io::write_coco_results(a.out + "/next_batch.coco.json", coco, e.coco_ids);
    std::printf("            %s/next_batch.coco.json (COCO results)\n", a.out.c_str());
  }
}

/// Detection pre-labels only: rank images by aggregated object doubt.
io::NextBatch rank_prelabels(const Export& e, const Pool& pool, int64_t k) {
  const auto u = io::image_uncertainties(e.predicted);
  std::vector<int64_t> order;
  for (int64_t i = 0; i < pool.size(); ++i)
    if (!pool.is_labeled(i) && pool.objects(i).empty()) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
    return u[static_cast<std::size_t>(x)] > u[static_cast<std::size_t>(y)];
  });
  if (static_cast<int64_t>(order.size()) > k) order.resize(static_cast<std::size_t>(k));
  io::NextBatch batch;
  batch.schema = pool.schema();
  batch.model_version = "prelabels";
  for (std::size_t r = 0; r < order.size(); ++r) {
    io::BatchItem it;
    it.index = order[r];
    it.id = pool.id(order[r]);
    it.image = e.image_refs.empty() ? it.id : e.image_refs[static_cast<std::size_t>(order[r])];
    it.rank = static_cast<int>(r);
    it.uncertainty = u[static_cast<std::size_t>(order[r])];
    it.objects = e.predicted[static_cast<std::size_t>(order[r])];
    it.confidence = 1.0 - it.uncertainty;
    if (!e.sizes.empty()) it.size = e.sizes[static_cast<std::size_t>(order[r])];
    batch.items.push_back(std::move(it));
  }
  return batch;
}

}  // namespace

int round(const RoundArgs& a) {
  // Everything that can fail on bad input happens before the store is touched.
  Export e = read_export(a);
  training::RunConfig config = round_defaults();
  if (!a.config.empty()) config::read_into(config::load_file(a.config), config, {a.config, ""});
  if (a.batch > 0) config.loop().batch_size(a.batch);
  fs::create_directories(a.out);
  const std::string store_path = a.store.empty() ? a.out + "/store.h5" : a.store;

  const bool prelabels_only = e.dataset.pool.num_labeled() == 0 &&
                              std::any_of(e.predicted.begin(), e.predicted.end(), [](const auto& v) { return !v.empty(); });
  if (prelabels_only) {
    io::NextBatch batch = rank_prelabels(e, e.dataset.pool, config.loop().batch_size());
    write_outputs(a, e, batch);
    std::printf("ranked %zu pre-labeled images by object doubt (no class labels to train on)\n", batch.items.size());
    return 0;
  }
  ALX_CHECK(e.dataset.pool.num_labeled() > 0,
            "export '{}' has no labeled images: label a first few (a handful per class) and export again",
            a.export_file);
  ALX_CHECK(e.dataset.pool.num_unlabeled() > 0, "export '{}' has no unlabeled images left to pick from",
            a.export_file);
  // Image headers (missing files, more pixels than --max-pixels) are checked now, not when
  // training meets them, so that such an image stops the round before the store is touched.
  if (const auto* files = dynamic_cast<const FileImageSource*>(e.dataset.images.get()))
    for (int64_t i = 0; i < files->size(); ++i) files->check_header(i);

  Store store = fs::exists(store_path) ? Store::open(store_path) : Store::create(store_path, e.dataset.pool);
  store.pool() = merge_with_store(e.dataset.pool, store, a.export_file);
  const Pool& pool = store.pool();
  config.model().num_classes(pool.schema().size());
  store.set_meta("config", config.to_yaml());

  const auto aug = augment::AugmentConfig::from_yaml(config.augment(), {a.config.empty() ? "<defaults>" : a.config, "augment"});
  training::LoopParts parts;
  parts.model = training::make_model(config.model());
  parts.trainer = config.trainer();
  parts.predictor = config.predictor();
  parts.train_pipeline = std::make_shared<augment::Pipeline>(aug.train);
  parts.eval_pipeline = std::make_shared<augment::Pipeline>(aug.eval);
  parts.images = e.dataset.images;
  parts.store = &store;
  training::ActiveLoop loop(config.loop(), std::move(parts));
  std::printf("alx round %d: %lld images, %lld labeled (%d classes), picking %lld with %s\n", loop.next_round(),
              static_cast<long long>(pool.size()), static_cast<long long>(pool.num_labeled()),
              pool.schema().size(), static_cast<long long>(config.loop().batch_size()),
              config.loop().sampler().c_str());
  const training::RoundResult r = loop.step();

  io::NextBatch batch;
  batch.schema = pool.schema();
  batch.model_version = r.record.model_version;
  for (std::size_t j = 0; j < r.record.selected.size(); ++j) {
    io::BatchItem it;
    it.index = r.record.selected[j];
    it.id = r.record.selected_ids[j];
    const auto idx = static_cast<std::size_t>(it.index);
    it.image = e.image_refs.empty() ? it.id : e.image_refs[idx];
    it.rank = static_cast<int>(j);
    it.uncertainty = r.uncertainty[j];
    it.predicted_label = r.predicted[j];
    it.confidence = r.confidence[j];
    auto p = r.probs[static_cast<int64_t>(j)];
    it.probabilities.assign(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
    if (!e.sizes.empty()) it.size = e.sizes[idx];
    batch.items.push_back(std::move(it));
  }
  write_outputs(a, e, batch);
  // Every candidate's uncertainty, so people can sort the whole pool in any tool.
  {
    std::ofstream csv(a.out + "/pool_scores.csv");
    csv << "id,uncertainty\n";
    for (std::size_t i = 0; i < r.candidates.size(); ++i)
      csv << io::csv_escape(pool.id(r.candidates[i])) << ',' << fmt::format("{:.6f}", r.candidate_uncertainty[i]) << '\n';
    ALX_CHECK_IO(csv.good(), "could not write '{}/pool_scores.csv'", a.out);
  }
  std::printf("scores: %s/pool_scores.csv\n", a.out.c_str());
  std::printf("store: %s (round %d recorded)\n", store_path.c_str(), r.record.round);
  return 0;
}

}  // namespace alx::cli
