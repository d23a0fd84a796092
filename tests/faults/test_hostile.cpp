// Hostile input, reader by reader: image paths that escape the image root ("..", absolute,
// a symlink inside the root pointing outside) are refused before anything is opened, and
// images whose header claims enormous dimensions are refused before decoding. Every
// refusal names the file and the item.
#include <alx/core/config.h>
#include <alx/core/error.h>
#include <alx/core/image_source.h>
#include <alx/core/io/coco.h>
#include <alx/core/io/csv.h>
#include <alx/core/io/cvat.h>
#include <alx/core/io/folder.h>
#include <alx/core/io/label_studio.h>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <functional>
#include <memory>

#include "alx_test_util.h"

namespace fs = std::filesystem;
using alx::test::TempDir;
using alx::test::write_text;

namespace {

/// root/ok.png, a secret outside the root, and root/link.png → the secret.
struct Tree {
  TempDir dir;
  fs::path root = dir.path() / "root";
  fs::path secret = dir.path() / "secret.png";
  Tree() {
    alx::test::write_pattern_image(root / "ok.png", 4, 4);
    alx::test::write_pattern_image(secret, 4, 4);
    fs::create_symlink(secret, root / "link.png");
  }
  /// The three ways out of the root.
  std::vector<std::string> escapes() const {
    return {"../secret.png", secret.string(), "link.png"};
  }
};

/// Runs `f`, which must throw an alx error whose message holds every fragment.
template <class F>
void expect_refusal(F&& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "not refused";
  } catch (const std::invalid_argument& e) {  // FormatError, InvalidArgument
    for (const auto& s : fragments)
      EXPECT_NE(std::string(e.what()).find(s), std::string::npos)
          << "'" << s << "' not in: " << e.what();
  } catch (const alx::IoError& e) {
    ADD_FAILURE() << "an escaping path was opened: " << e.what();
  }
}

}  // namespace

TEST(Hostile, FileImageSourceRefusesEveryEscape) {
  Tree t;
  for (const auto& rel : t.escapes()) {
    SCOPED_TRACE(rel);
    expect_refusal(
        [&] {
          alx::FileImageSource(t.root, {"ok.png", rel}).load(1);
        },
        {rel, "item 1", "outside the image root"});
  }
}

TEST(Hostile, LabelStudioRefusesEveryEscape) {
  Tree t;
  // A bare "/<p>" is a path on the Label Studio server and maps to <p> under the root (not
  // an escape); Label Studio's local-files URL carries absolute paths.
  for (const std::string& rel :
       {std::string("../secret.png"), "/data/local-files/?d=" + t.secret.string(),
        std::string("link.png")}) {
    SCOPED_TRACE(rel);
    const auto file = t.dir.path() / "export.json";
    write_text(file, R"([{"id": 1, "data": {"image": "ok.png"}}, {"id": 7, "data": {"image": ")" +
                         rel + R"("}}])");
    expect_refusal(
        [&] {
          alx::io::read_label_studio(file.string(),
                                     alx::io::LabelStudioOptions().images_root(t.root.string()));
        },
        {"export.json", "task 7"});
  }
}

TEST(Hostile, CvatRefusesEveryEscape) {
  Tree t;
  for (const auto& rel : t.escapes()) {
    SCOPED_TRACE(rel);
    const auto file = t.dir.path() / "annotations.xml";
    write_text(file,
               "<annotations><version>1.1</version><image id=\"0\" name=\"ok.png\" width=\"4\" "
               "height=\"4\"/><image id=\"3\" name=\"" +
                   rel + "\" width=\"4\" height=\"4\"/></annotations>");
    expect_refusal(
        [&] {
          alx::io::read_cvat(file.string(), alx::io::CvatOptions().images_root(t.root.string()));
        },
        {"annotations.xml", rel});
  }
}

TEST(Hostile, CocoRefusesEveryEscape) {
  Tree t;
  for (const auto& rel : t.escapes()) {
    SCOPED_TRACE(rel);
    const auto file = t.dir.path() / "instances.json";
    write_text(file, R"({"images": [{"id": 1, "file_name": "ok.png", "width": 4, "height": 4},
                                   {"id": 9, "file_name": ")" +
                         rel + R"(", "width": 4, "height": 4}],
                        "categories": [{"id": 1, "name": "cat"}], "annotations": []})");
    expect_refusal(
        [&] {
          alx::io::read_coco(file.string(), alx::io::CocoOptions().images_root(t.root.string()));
        },
        {"instances.json", "image 9"});
  }
}

TEST(Hostile, CsvRefusesEveryEscape) {
  Tree t;
  for (const auto& rel : t.escapes()) {
    SCOPED_TRACE(rel);
    const auto file = t.dir.path() / "labels.csv";
    write_text(file, "image,label\nok.png,cat\n\"" + rel + "\",dog\n");
    alx::io::CsvOptions options;
    options.images_root = t.root.string();
    expect_refusal([&] { alx::io::read_csv(file.string(), options).images->load(1); }, {rel});
  }
}

// A class folder or an image that is a symlink to outside the tree is refused when the tree
// is read, naming the path; nothing outside is opened.
TEST(Hostile, FolderTreeRefusesSymlinksOutside) {
  TempDir dir;
  alx::test::write_pattern_image(dir.path() / "tree/cat/a.png", 4, 4);
  alx::test::write_pattern_image(dir.path() / "outside/b.png", 4, 4);
  fs::create_symlink(dir.path() / "outside/b.png", dir.path() / "tree/cat/link.png");
  expect_refusal([&] { alx::io::read_folder_tree(dir.str("tree")); },
                 {"outside/b.png", "outside the image root"});
  fs::remove(dir.path() / "tree/cat/link.png");
  fs::create_symlink(dir.path() / "outside", dir.path() / "tree/dog");
  expect_refusal([&] { alx::io::read_folder_tree(dir.str("tree")); },
                 {"outside/b.png", "outside the image root"});
}

// Enormous dimensions in a header: refused before decoding, with the limit configurable
// in every reader (FileImageOptions for CSV and folder tree, `max_pixels` for Label Studio,
// CVAT and COCO); the default limit is 2^28 pixels.
TEST(Hostile, EnormousImagesAreRefusedBeforeDecoding) {
  TempDir dir;
  alx::test::write_pixel_bomb(dir.path() / "root/bomb.png", 30000, 30000);  // 900 M pixels
  alx::test::write_pattern_image(dir.path() / "root/small.png", 40, 30);

  // FileImageSource with its default limit; check_header refuses it as load() does.
  const alx::FileImageSource bomb(dir.path() / "root", {"bomb.png"});
  expect_refusal([&] { bomb.load(0); }, {"bomb.png", "item 0", "30000x30000", "max_pixels"});
  expect_refusal([&] { bomb.check_header(0); }, {"bomb.png", "item 0", "30000x30000"});

  // The CSV reader passes its own limit through: 40x30 = 1200 pixels > 1000.
  write_text(dir.path() / "t.csv", "image,label\nsmall.png,cat\n");
  alx::io::CsvOptions options;
  options.images_root = dir.str("root");
  options.images.max_pixels = 1000;
  const auto csv = alx::io::read_csv(dir.str("t.csv"), options);
  expect_refusal([&] { csv.images->load(0); }, {"small.png", "item 0", "40x30", "limit of 1000"});
  options.images.max_pixels = 1200;
  EXPECT_FALSE(alx::io::read_csv(dir.str("t.csv"), options).images->load(0).empty());

  // A JPEG whose frame header follows 120 KB of metadata: check_header reads on to find it.
  std::vector<uint8_t> jpeg;
  cv::imencode(".jpg", cv::Mat(30, 40, CV_8UC3, cv::Scalar(9, 8, 7)), jpeg);
  for (int k = 0; k < 2; ++k) {  // two APP15 segments of 60000 bytes after SOI
    std::vector<uint8_t> app = {0xFF, 0xEF, 60000 >> 8, 60000 & 0xFF};
    app.resize(2 + 60000, 0x20);
    jpeg.insert(jpeg.begin() + 2, app.begin(), app.end());
  }
  write_text(dir.path() / "root/meta.jpg", std::string(jpeg.begin(), jpeg.end()));
  alx::FileImageOptions limit_1000;
  limit_1000.max_pixels = 1000;
  const alx::FileImageSource meta(dir.path() / "root", {"meta.jpg"}, limit_1000);
  expect_refusal([&] { meta.check_header(0); }, {"meta.jpg", "item 0", "40x30", "limit of 1000"});
  EXPECT_NO_THROW(alx::FileImageSource(dir.path() / "root", {"meta.jpg"}).check_header(0));

  // Width x height that overflows 64 bits is refused too (found by fuzz_image).
  alx::test::write_pixel_bomb(dir.path() / "root/overflow.png", 0xFFFFFFF0u, 0xFFFFFFF0u);
  expect_refusal([&] { alx::FileImageSource(dir.path() / "root", {"overflow.png"}).load(0); },
                 {"overflow.png", "max_pixels"});
}

// Label Studio, CVAT and COCO take the limit as `max_pixels` and hand it to their image
// source: each export lists small.png (40x30, item 0) and bomb.png (item 1).
TEST(Hostile, LabelStudioCvatAndCocoTakeThePixelLimit) {
  TempDir dir;
  alx::test::write_pixel_bomb(dir.path() / "root/bomb.png", 30000, 30000);
  alx::test::write_pattern_image(dir.path() / "root/small.png", 40, 30);
  const std::string root = dir.str("root");
  write_text(
      dir.path() / "export.json",
      R"([{"id": 3, "data": {"image": "small.png"}}, {"id": 4, "data": {"image": "bomb.png"}}])");
  write_text(dir.path() / "annotations.xml",
             "<annotations><version>1.1</version>"
             "<image id=\"0\" name=\"small.png\" width=\"40\" height=\"30\"/>"
             "<image id=\"1\" name=\"bomb.png\" width=\"30000\" height=\"30000\"/></annotations>");
  write_text(dir.path() / "instances.json",
             R"({"images": [{"id": 1, "file_name": "small.png", "width": 40, "height": 30},
                            {"id": 2, "file_name": "bomb.png", "width": 30000, "height": 30000}],
                 "categories": [{"id": 1, "name": "cat"}], "annotations": []})");
  // Reads the export with that limit (0: the reader's default) and returns its images.
  const auto options = [&](auto o, int64_t max) {
    o.images_root(root);
    if (max) o.max_pixels(max);
    return o;
  };
  const std::vector<
      std::pair<std::string, std::function<std::shared_ptr<const alx::ImageSource>(int64_t)>>>
      readers = {
          {"labelstudio",
           [&](int64_t max) {
             return alx::io::read_label_studio(dir.str("export.json"),
                                               options(alx::io::LabelStudioOptions(), max))
                 .dataset.images;
           }},
          {"cvat",
           [&](int64_t max) {
             return alx::io::read_cvat(dir.str("annotations.xml"),
                                       options(alx::io::CvatOptions(), max))
                 .dataset.images;
           }},
          {"coco",
           [&](int64_t max) {
             return alx::io::read_coco(dir.str("instances.json"),
                                       options(alx::io::CocoOptions(), max))
                 .dataset.images;
           }},
      };
  for (const auto& [name, read] : readers) {
    SCOPED_TRACE(name);
    const auto defaults = read(0);
    expect_refusal([&] { defaults->load(1); },
                   {"bomb.png", "item 1", "30000x30000", "limit of 268435456", "before decoding"});
    EXPECT_FALSE(defaults->load(0).empty());
    // 40x30 = 1200 pixels: refused under 1000, read under 1200.
    const auto small_limit = read(1000);
    expect_refusal([&] { small_limit->load(0); },
                   {"small.png", "item 0", "40x30", "limit of 1000"});
    EXPECT_FALSE(read(1200)->load(0).empty());
  }
  // The option reaches YAML configs (and Python keyword arguments) through `visit`, checked.
  alx::io::CvatOptions from_yaml;
  alx::config::read_into(alx::config::load_string("max_pixels: 5000\n"), from_yaml, {"t.yaml", ""});
  EXPECT_EQ(from_yaml.max_pixels(), 5000);
  EXPECT_THROW(alx::config::read_into(alx::config::load_string("max_pixels: 0\n"), from_yaml,
                                      {"t.yaml", ""}),
               alx::ConfigError);
}
