// Hostile input, reader by reader: image paths that escape the image root ("..", absolute,
// a symlink inside the root pointing outside) are refused before anything is opened, and
// images whose header claims enormous dimensions are refused before decoding. Every
// refusal names the file and the item.
#include <alx/core/error.h>
#include <alx/core/image_source.h>
#include <alx/core/io/coco.h>
#include <alx/core/io/csv.h>
#include <alx/core/io/cvat.h>
#include <alx/core/io/folder.h>
#include <alx/core/io/label_studio.h>

#include <gtest/gtest.h>

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

/// A PNG whose header claims width x height (the pixels are never there).
void write_png_header(const fs::path& p, uint32_t width, uint32_t height) {
  std::string b = "\x89PNG\r\n\x1a\n";
  b += std::string("\0\0\0\x0dIHDR", 8);
  for (uint32_t v : {width, height})
    for (int s = 24; s >= 0; s -= 8) b += static_cast<char>((v >> s) & 0xff);
  b += std::string("\x08\x02\0\0\0\0\0\0\0", 9);
  write_text(p, b);
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
  for (const std::string rel :
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
// where the reader takes FileImageOptions (CSV, folder tree) and the default limit
// (2^28 pixels) everywhere else.
TEST(Hostile, EnormousImagesAreRefusedBeforeDecoding) {
  TempDir dir;
  write_png_header(dir.path() / "root/bomb.png", 30000, 30000);  // 900 M pixels
  alx::test::write_pattern_image(dir.path() / "root/small.png", 40, 30);

  // FileImageSource with its default limit, and a reader on top of it.
  expect_refusal([&] { alx::FileImageSource(dir.path() / "root", {"bomb.png"}).load(0); },
                 {"bomb.png", "item 0", "30000x30000", "max_pixels"});
  write_text(dir.path() / "export.json", R"([{"id": 3, "data": {"image": "bomb.png"}}])");
  const auto ls = alx::io::read_label_studio(
      dir.str("export.json"), alx::io::LabelStudioOptions().images_root(dir.str("root")));
  expect_refusal([&] { ls.dataset.images->load(0); },
                 {"bomb.png", "item 0", "refused before decoding"});

  // The CSV reader passes its own limit through: 40x30 = 1200 pixels > 1000.
  write_text(dir.path() / "t.csv", "image,label\nsmall.png,cat\n");
  alx::io::CsvOptions options;
  options.images_root = dir.str("root");
  options.images.max_pixels = 1000;
  const auto csv = alx::io::read_csv(dir.str("t.csv"), options);
  expect_refusal([&] { csv.images->load(0); }, {"small.png", "item 0", "40x30", "limit of 1000"});
  options.images.max_pixels = 1200;
  EXPECT_FALSE(alx::io::read_csv(dir.str("t.csv"), options).images->load(0).empty());

  // Width x height that overflows 64 bits is refused too (found by fuzz_image).
  write_png_header(dir.path() / "root/overflow.png", 0xFFFFFFF0u, 0xFFFFFFF0u);
  expect_refusal([&] { alx::FileImageSource(dir.path() / "root", {"overflow.png"}).load(0); },
                 {"overflow.png", "max_pixels"});
}
