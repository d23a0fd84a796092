// `alx round` against real exports made from Fashion-MNIST PNGs: Label Studio, CVAT, COCO.
#include <alx/core/store.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "loop_test_util.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace alx::test;

namespace {

constexpr int kImages = 300;
constexpr int kLabeledPerClass = 5;

const char* kConfig =
    "trainer: {epochs: 6, batch_size: 32, threads: 2, workers: 1}\n"
    "predictor: {threads: 2}\n"
    "loop: {sampler: topk, sampler_params: {scorer: entropy}}\n";

/// Which of the kImages items start labeled: the first kLabeledPerClass of each class.
std::vector<bool> initial_labeled(const std::vector<int>& truth) {
  std::vector<bool> labeled(truth.size());
  std::map<int, int> per_class;
  for (std::size_t i = 0; i < truth.size(); ++i)
    if (per_class[truth[i]]++ < kLabeledPerClass) labeled[i] = true;
  return labeled;
}

json label_studio_export(const std::vector<int>& truth, const std::vector<bool>& labeled) {
  json tasks = json::array();
  for (std::size_t i = 0; i < truth.size(); ++i) {
    json task = {{"id", 1000 + i},
                 {"data", {{"image", "/data/local-files/?d=images/" + png_name(static_cast<int>(i))}}},
                 {"annotations", json::array()},
                 {"predictions", json::array()}};
    if (labeled[i]) {
      task["annotations"].push_back(
          {{"id", 5000 + i},
           {"was_cancelled", false},
           {"result",
            {{{"from_name", "garment"}, {"to_name", "photo"}, {"type", "choices"},
              {"value", {{"choices", {fashion_class(truth[i])}}}}}}}});
    } else if (i % 50 == 7) {  // a skipped annotation: ignored, the task stays unlabeled
      task["annotations"].push_back({{"id", 9000 + i}, {"was_cancelled", true}, {"result", json::array()}});
    }
    tasks.push_back(task);
  }
  return tasks;
}

std::map<std::string, double> read_pool_scores(const fs::path& p) {
  std::map<std::string, double> scores;
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    const auto comma = line.rfind(',');
    scores[line.substr(0, comma)] = std::stod(line.substr(comma + 1));
  }
  return scores;
}

class RoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    truth_ = write_fashion_pngs(dir_.path(), kImages);
    labeled_ = initial_labeled(truth_);
    write_text(dir_.path() / "config.yaml", kConfig);
  }
  std::string common(const std::string& export_name, int batch = 20) const {
    return "round --export '" + dir_.str(export_name) + "' --images '" + dir_.str() + "' --config '" +
           dir_.str("config.yaml") + "' --batch " + std::to_string(batch) + " --out '" + dir_.str("out") + "'";
  }
  TempDir dir_;
  std::vector<int> truth_;
  std::vector<bool> labeled_;
};

}  // namespace

TEST_F(RoundTrip, LabelStudioExportToNextBatchAndBack) {
  write_text(dir_.path() / "export.json", label_studio_export(truth_, labeled_).dump(2));
  CliRun r = run_alx(common("export.json"), dir_.path());
  ASSERT_EQ(r.rc, 0) << r.out << r.err;

  // next_batch.json is a Label Studio import file: tasks with data.image and predictions.
  const json batch = json::parse(read_file(dir_.path() / "out/next_batch.json"));
  ASSERT_TRUE(batch.is_array());
  ASSERT_EQ(batch.size(), 20u);
  std::set<std::string> class_names;
  for (int c = 0; c < 10; ++c) class_names.insert(fashion_class(c));
  std::vector<double> uncertainty;
  std::set<std::string> picked;
  for (std::size_t k = 0; k < batch.size(); ++k) {
    const json& task = batch[k];
    const std::string image = task.at("data").at("image");
    EXPECT_EQ(image.rfind("/data/local-files/?d=images/img_", 0), 0u) << image;  // the reference as given
    EXPECT_EQ(task.at("data").at("alx_rank").get<int>(), static_cast<int>(k));
    uncertainty.push_back(task.at("data").at("alx_uncertainty").get<double>());
    const json& pred = task.at("predictions").at(0);
    EXPECT_FALSE(pred.at("model_version").get<std::string>().empty());
    const double score = pred.at("score");
    EXPECT_GE(score, 0.0);
    EXPECT_LE(score, 1.0);
    const json& result = pred.at("result").at(0);
    EXPECT_EQ(result.at("type"), "choices");
    EXPECT_EQ(result.at("from_name"), "garment");  // the export's own tag names
    EXPECT_EQ(result.at("to_name"), "photo");
    EXPECT_TRUE(class_names.count(result.at("value").at("choices").at(0).get<std::string>()));
    const std::string file = image.substr(image.find("images/") + 7);
    picked.insert("images/" + file);
    EXPECT_FALSE(labeled_[static_cast<std::size_t>(std::stoi(file.substr(4, 3)))]) << "a labeled image was picked";
  }
  EXPECT_TRUE(std::is_sorted(uncertainty.rbegin(), uncertainty.rend())) << "rank 0 = most uncertain";

  // The batch is the most uncertain images of the pool: nothing outside it scores higher.
  const auto scores = read_pool_scores(dir_.path() / "out/pool_scores.csv");
  EXPECT_EQ(scores.size(), static_cast<std::size_t>(kImages - 10 * kLabeledPerClass));
  double lowest_picked = 1e9, highest_left = -1;
  for (const auto& [id, s] : scores) {
    if (picked.count(id))
      lowest_picked = std::min(lowest_picked, s);
    else
      highest_left = std::max(highest_left, s);
  }
  EXPECT_GE(lowest_picked, highest_left - 1e-6);

  // The round is in the store.
  {
    alx::Store store = alx::Store::open(dir_.str("out/store.h5"));
    ASSERT_EQ(store.rounds().size(), 1u);
    EXPECT_EQ(store.rounds()[0].selected.size(), 20u);
    EXPECT_EQ(store.pool().num_labeled(), 10 * kLabeledPerClass);
  }

  // People label the batch; the next export goes round again, and nothing is picked twice.
  std::vector<bool> now = labeled_;
  for (const auto& id : picked) now[static_cast<std::size_t>(std::stoi(id.substr(11, 3)))] = true;
  write_text(dir_.path() / "export2.json", label_studio_export(truth_, now).dump());
  r = run_alx(common("export2.json"), dir_.path());
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  alx::Store store = alx::Store::open(dir_.str("out/store.h5"));
  ASSERT_EQ(store.rounds().size(), 2u);
  EXPECT_EQ(store.pool().num_labeled(), 10 * kLabeledPerClass + 20);
  for (const auto& id : store.rounds()[1].selected_ids) EXPECT_FALSE(picked.count(id)) << id;
  // Labels that answered round 1's batch arrived in round 1; the initial ones in round 0.
  EXPECT_EQ(store.pool().label_round(store.pool().index(*picked.begin())), 1);
}

TEST_F(RoundTrip, CvatExportGivesCvatPreAnnotations) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<annotations>\n<version>1.1</version>\n<meta><task><labels>";
  for (int c = 0; c < 10; ++c) xml += "<label><name>" + fashion_class(c) + "</name><attributes/></label>";
  xml += "</labels></task></meta>\n";
  for (int i = 0; i < kImages; ++i) {
    xml += "<image id=\"" + std::to_string(i) + "\" name=\"" + png_name(i) + "\" width=\"28\" height=\"28\">";
    if (labeled_[static_cast<std::size_t>(i)])
      xml += "<tag label=\"" + fashion_class(truth_[static_cast<std::size_t>(i)]) + "\" source=\"manual\"></tag>";
    xml += "</image>\n";
  }
  xml += "</annotations>\n";
  write_text(dir_.path() / "images/annotations.xml", xml);
  CliRun r = run_alx("round --export '" + dir_.str("images/annotations.xml") + "' --config '" + dir_.str("config.yaml") +
                      "' --batch 15 --out '" + dir_.str("out") + "'",
                  dir_.path());
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_file(dir_.str("out/next_batch.xml").c_str()));
  // The confidence is a declared attribute, so CVAT accepts it.
  bool declared = false;
  for (auto a : doc.select_nodes("//labels/label/attributes/attribute/name"))
    declared |= std::string(a.node().text().get()) == "score";
  EXPECT_TRUE(declared);
  auto images = doc.select_nodes("/annotations/image");
  ASSERT_EQ(images.size(), 15u);
  for (auto img : images) {
    const int i = std::stoi(std::string(img.node().attribute("name").value()).substr(4, 3));
    EXPECT_FALSE(labeled_[static_cast<std::size_t>(i)]);
    EXPECT_TRUE(img.node().child("tag")) << "a predicted class per image";
  }
  EXPECT_EQ(json::parse(read_file(dir_.path() / "out/next_batch.json")).size(), 15u);
}

TEST_F(RoundTrip, CocoExportWithImageLevelLabels) {
  json coco = {{"images", json::array()}, {"annotations", json::array()}, {"categories", json::array()}};
  for (int c = 0; c < 10; ++c) coco["categories"].push_back({{"id", 10 + 3 * c}, {"name", fashion_class(c)}});
  int ann = 1;
  for (int i = 0; i < kImages; ++i) {
    coco["images"].push_back({{"id", 100 + i}, {"file_name", png_name(i)}, {"width", 28}, {"height", 28}});
    if (labeled_[static_cast<std::size_t>(i)])
      coco["annotations"].push_back({{"id", ann++}, {"image_id", 100 + i}, {"category_id", 10 + 3 * truth_[static_cast<std::size_t>(i)]}});
  }
  write_text(dir_.path() / "images/instances.json", coco.dump());
  CliRun r = run_alx("round --export '" + dir_.str("images/instances.json") + "' --config '" + dir_.str("config.yaml") +
                      "' --batch 10 --out '" + dir_.str("out") + "'",
                  dir_.path());
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  const json results = json::parse(read_file(dir_.path() / "out/next_batch.coco.json"));
  ASSERT_TRUE(results.is_array());
  ASSERT_FALSE(results.empty());
  std::set<int64_t> category_ids;
  for (const auto& c : coco["categories"]) category_ids.insert(c["id"].get<int64_t>());
  for (const auto& res : results) {
    EXPECT_TRUE(category_ids.count(res.at("category_id").get<int64_t>())) << "original category ids";
    EXPECT_GE(res.at("image_id").get<int64_t>(), 100);
    EXPECT_TRUE(res.contains("score"));
  }
  EXPECT_EQ(json::parse(read_file(dir_.path() / "out/next_batch.json")).size(), 10u);
}

TEST_F(RoundTrip, BadInputIsRefusedAndTheStoreStaysAsItWas) {
  write_text(dir_.path() / "export.json", label_studio_export(truth_, labeled_).dump());
  ASSERT_EQ(run_alx(common("export.json"), dir_.path()).rc, 0);
  const std::string before = read_file(dir_.path() / "out/store.h5");

  auto expect_refused = [&](const std::string& name, const std::string& content, const std::string& needle,
                            const std::string& extra = "") {
    SCOPED_TRACE(name);
    write_text(dir_.path() / name, content);
    CliRun r = run_alx(common(name) + extra, dir_.path());
    EXPECT_NE(r.rc, 0);
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("alx: error:"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one clear line: " << r.err;
    EXPECT_EQ(read_file(dir_.path() / "out/store.h5"), before) << "the store changed";
  };
  json missing = label_studio_export(truth_, labeled_);
  missing[3]["data"]["image"] = "/data/local-files/?d=images/not_there.png";
  expect_refused("missing.json", missing.dump(), "not_there.png");

  json unknown = label_studio_export(truth_, labeled_);
  for (auto& t : unknown)
    if (!t["annotations"].empty() && !t["annotations"][0]["result"].empty()) {
      t["annotations"][0]["result"][0]["value"]["choices"][0] = "Unicorn";
      break;
    }
  std::string classes;
  for (int c = 0; c < 10; ++c) classes += (c ? "," : "") + fashion_class(c);
  expect_refused("unknown.json", unknown.dump(), "Unicorn", " --classes '" + classes + "'");

  expect_refused("empty.json", "[]", "empty.json");
  const std::string full = label_studio_export(truth_, labeled_).dump();
  expect_refused("truncated.json", full.substr(0, full.size() / 2), "truncated.json");

  json escape = label_studio_export(truth_, labeled_);
  escape[5]["data"]["image"] = "/data/local-files/?d=../../../etc/passwd";
  expect_refused("escape.json", escape.dump(), "outside");
}
