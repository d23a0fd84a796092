// Writes the seed inputs that tests/fixtures lacks (stores, IDX files, YAML configs, small
// images) into <out>/<target>/, so that no binary corpus is committed:
//   fuzz_seeds <out>
#include <alx/core/config.h>
#include <alx/core/io/coco.h>
#include <alx/core/io/cvat.h>
#include <alx/core/io/label_studio.h>
#include <alx/core/store.h>

#include <zlib.h>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

std::string idx(std::vector<uint32_t> shape, uint8_t fill) {
  std::string out = {0, 0, 8, static_cast<char>(shape.size())};
  std::size_t n = 1;
  for (uint32_t d : shape) {
    out += {static_cast<char>(d >> 24), static_cast<char>(d >> 16), static_cast<char>(d >> 8),
            static_cast<char>(d)};
    n *= d;
  }
  for (std::size_t i = 0; i < n; ++i) out += static_cast<char>(fill + i);
  return out;
}

void write_gz(const fs::path& p, const std::string& bytes) {
  gzFile f = gzopen(p.string().c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds <out>\n";
    return 2;
  }
  const fs::path out = argv[1];

  // Stores: empty, labeled with objects and rounds, arrays and meta.
  for (int variant = 0; variant < 2; ++variant) {
    const fs::path p = out / "store" / ("seed" + std::to_string(variant) + ".h5");
    fs::create_directories(p.parent_path());
    fs::remove(p);
    alx::Pool pool(alx::Schema({"cat", "dog"}), {"a.png", "b.png", "c.png"});
    if (variant == 1) {
      pool.add_labels({0, 2}, {1, 0}, 0);
      alx::Object o;
      o.label = 1;
      o.box = {1, 2, 3, 4};
      o.score = 0.5f;
      o.polygons = {{{1, 2}, {3, 2}, {3, 4}}};
      pool.set_objects(0, {o});
    }
    alx::Store s = alx::Store::create(p.string(), std::move(pool));
    if (variant == 1) {
      alx::RoundRecord r;
      r.round = 1;
      r.selected = {1};
      r.selected_ids = {"b.png"};
      r.scores = {0.25f};
      r.model_version = "m1";
      r.metrics = {{"accuracy", 0.5}};
      r.seconds = {{"train", 1.5}};
      s.add_round(r);
      s.set_array("embeddings", {{3, 2}, {1, 2, 3, 4, 5, 6}, "m1"});
      s.set_meta("config", "loop: {rounds: 2}\n");
      s.save();
    }
  }
  fs::remove(out / "store" / "seed0.h5.lock");
  fs::remove(out / "store" / "seed1.h5.lock");
  fs::remove(out / "store" / "seed1.h5.bak");

  // IDX: images [N, H, W] (plain and gzip), [N, H, W, C], labels [N].
  write(out / "idx" / "images3", idx({2, 3, 4}, 1));
  write(out / "idx" / "images4", idx({1, 2, 2, 3}, 7));
  write(out / "idx" / "labels", idx({5}, 0));
  write_gz(out / "idx" / "images3.gz", idx({2, 3, 4}, 1));

  // YAML: every options struct written out, nested under its key, and a flow-style variant.
  YAML::Node root;
  root["label_studio"] = alx::config::write(alx::io::LabelStudioOptions().classes({"a", "b"}));
  root["cvat"] = alx::config::write(alx::io::CvatOptions());
  root["coco"] = alx::config::write(alx::io::CocoOptions().images_root("images"));
  YAML::Emitter block;
  block << root;
  write(out / "config" / "block.yaml", block.c_str());
  YAML::Emitter flow;
  flow << YAML::Flow << root;
  write(out / "config" / "flow.yaml", flow.c_str());
  write(out / "config" / "anchors.yaml",
        "base: &b {check_images: false, classes: [x, y]}\nlabel_studio: *b\ncoco: {<<: *b}\n");

  // CSV / TXT tables beyond the fixtures' (boxes in both layouts).
  write(out / "csv" / "boxes.csv",
        "image,label,x1,y1,x2,y2\na.png,cat,1,2,3,4\na.png,dog,0,0,1,1\n");
  write(out / "csv" / "bbox.csv",
        "filename,class,bbox\nb.jpg,cat,\"[1, 2, 3, 4]\"\nc,dog,0 0 2 2\n");
  write(out / "csv" / "list.txt", "\x01 a.png cat\nb.png dog\n");  // odd first byte: .txt

  // Images whose headers the source checks before decoding (first byte picks the extension,
  // the fuzz target names them; the content decides what OpenCV sees).
  cv::Mat img(3, 4, CV_8UC3, cv::Scalar(10, 20, 30));
  std::vector<uint8_t> buf;
  for (const char* ext : {".png", ".jpg", ".bmp"}) {
    cv::imencode(ext, img, buf);
    write(out / "image" / (std::string("seed") + ext), std::string(buf.begin(), buf.end()));
  }
  static const char kGif[] =  // a 1x1 GIF89a
      "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00"
      "\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00;";
  write(out / "image" / "seed.gif", std::string(kGif, sizeof(kGif) - 1));
  return 0;
}
