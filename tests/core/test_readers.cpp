#include <alx/core/error.h>
#include <alx/core/io/csv.h>
#include <alx/core/io/folder.h>
#include <alx/core/io/idx.h>

#include <gtest/gtest.h>
#include <zlib.h>

#include "alx_test_util.h"

namespace fs = std::filesystem;
using alx::test::fixture;
using alx::test::TempDir;

namespace {

std::string kaggle(const std::string& rel) {
  return fixture("datumaro/tests/assets/kaggle_dataset/" + rel);
}

void write_gz(const fs::path& p, const std::string& bytes) {
  gzFile f = gzopen(p.string().c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::string idx_header(uint8_t type, std::vector<uint32_t> dims) {
  std::string h = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) h += static_cast<char>((d >> s) & 0xFF);
  return h;
}

std::string idx_error(const std::string& bytes) {
  TempDir dir;
  write_gz(dir.path() / "x.gz", bytes);
  try {
    alx::io::read_idx(dir.str("x.gz"));
  } catch (const alx::FormatError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Idx, ReadsFashionMnistTestSplit) {
  auto ds = alx::io::load_fashion_mnist(ALX_FASHION_MNIST_DIR, "test");
  ASSERT_EQ(ds.pool.size(), 10000);
  EXPECT_EQ(ds.pool.num_labeled(), 10000);
  EXPECT_EQ(ds.pool.schema().size(), 10);
  EXPECT_EQ(ds.pool.schema().name(9), "Ankle boot");
  // Fashion-MNIST is balanced: 1,000 test images per class.
  for (auto c : ds.pool.counts_per_class()) EXPECT_EQ(c, 1000);
  // The first test image is an ankle boot (label 9), a well-known fact of the data set.
  EXPECT_EQ(ds.pool.label(0), 9);
  EXPECT_EQ(ds.pool.id(0), "test/0");
  cv::Mat img = ds.images->load(0);
  EXPECT_EQ(img.size(), cv::Size(28, 28));
  EXPECT_EQ(img.channels(), 1);
  EXPECT_GT(cv::sum(img)[0], 0.0);
}

TEST(Idx, MalformedFilesGiveClearMessages) {
  EXPECT_NE(idx_error("ab").find("shorter than its 4-byte header"), std::string::npos);
  EXPECT_NE(idx_error(std::string("\x01\x02\x08\x01", 4)).find("not an IDX file"), std::string::npos);
  EXPECT_NE(idx_error(idx_header(0x0D, {2})).find("type 0x0d"), std::string::npos);
  EXPECT_NE(idx_error(idx_header(0x08, {10}) + "abc").find("truncated: header promises 10 values"),
            std::string::npos);
  EXPECT_NE(idx_error(idx_header(0x08, {2}) + "abc").find("data after the 2 values"), std::string::npos);
  EXPECT_NE(idx_error(idx_header(0x08, {65535, 65535, 65535})).find("refused"), std::string::npos);
  TempDir dir;
  write_gz(dir.path() / "ok.gz", idx_header(0x08, {2, 1, 2}) + "abcd");
  auto a = alx::io::read_idx(dir.str("ok.gz"));
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 1, 2}));
  EXPECT_EQ((*a.data)[3], 'd');
  EXPECT_THROW(alx::io::read_idx(dir.str("absent.gz")), alx::IoError);
}

TEST(Folder, ReadsImagenetStyleTreeWithItsQuirks) {
  auto ds = alx::io::read_folder_tree(fixture("datumaro/tests/assets/imagenet_dataset"));
  EXPECT_EQ(ds.pool.schema().names(), (std::vector<std::string>{"label_0", "label_1"}));
  ASSERT_EQ(ds.pool.size(), 4);
  // The image at the root is an unlabeled item; the nested one belongs to its top folder.
  const auto root_img = ds.pool.index("label_0_2.jpg");
  EXPECT_FALSE(ds.pool.is_labeled(root_img));
  EXPECT_EQ(ds.pool.label(ds.pool.index("label_1/label_1_1/label_1_1.jpg")), 1);
  EXPECT_EQ(ds.pool.label(ds.pool.index("label_0/label_0_1.jpg")), 0);
  EXPECT_EQ(ds.notes.size(), 2u);
  EXPECT_FALSE(ds.images->load(ds.pool.index("label_1/label_1_1.jpg")).empty());
  alx::io::FolderOptions strict;
  strict.root_images_unlabeled = false;
  EXPECT_THROW(alx::io::read_folder_tree(fixture("datumaro/tests/assets/imagenet_dataset"), strict),
               alx::FormatError);
  EXPECT_THROW(alx::io::read_folder_tree("/nonexistent/folder"), alx::IoError);
}

TEST(Csv, ReadsKaggleClassificationTables) {
  for (const char* file : {"image_csv/ann.csv", "image_csv/ann_wo_ext.csv", "image_txt/ann.txt",
                           "image_txt/ann_wo_ext.txt"}) {
    SCOPED_TRACE(file);
    auto ds = alx::io::read_csv(kaggle(file));
    ASSERT_EQ(ds.pool.size(), 5);
    EXPECT_EQ(ds.pool.schema().names(), (std::vector<std::string>{"dog", "cat"}));
    EXPECT_EQ(ds.pool.id(0), "1.jpg");  // names without extension find their file
    EXPECT_EQ(ds.pool.label(0), 0);
    EXPECT_EQ(ds.pool.label(1), 1);
    EXPECT_EQ(ds.pool.counts_per_class(), (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(ds.images->load(4).rows, 10) << "real JPEG under images/ is decoded";
  }
}

TEST(Csv, ReadsDetectionTablesInAllThreeBoxSpellings) {
  for (const char* file : {"image_csv_det/ann.csv", "image_csv_det/ann2.csv", "image_csv_det/ann3.csv"}) {
    SCOPED_TRACE(file);
    auto ds = alx::io::read_csv(kaggle(file));
    ASSERT_EQ(ds.pool.size(), 3);
    ASSERT_EQ(ds.pool.objects(0).size(), 2u);
    ASSERT_EQ(ds.pool.objects(2).size(), 3u);
    EXPECT_EQ(ds.pool.objects(0)[1].box, (alx::Box{1, 2, 3, 3}));
    EXPECT_EQ(ds.pool.schema().name(ds.pool.objects(0)[1].label), "cat");
    EXPECT_EQ(ds.pool.objects(2)[0].box, (alx::Box{0, 2, 2, 4}));
  }
}

TEST(Csv, RefusesMultiLabelTablesAndBadRows) {
  try {
    alx::io::read_csv(kaggle("image_csv_multi_label/ann.csv"));
    FAIL();
  } catch (const alx::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("multi-label one-hot"), std::string::npos) << e.what();
  }
  TempDir dir;
  alx::test::write_text(dir.path() / "a.csv", "image,label\na.png,cat\nb.png\n");
  try {
    alx::io::read_csv(dir.str("a.csv"));
    FAIL();
  } catch (const alx::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("a.csv:3: expected at least 2 columns"), std::string::npos)
        << e.what();
  }
  alx::test::write_text(dir.path() / "b.csv", "file,label\nx.png,cat\nx.png,dog\n");
  EXPECT_THROW(alx::io::read_csv(dir.str("b.csv")), alx::FormatError);
  alx::test::write_text(dir.path() / "c.csv", "name,label\nx.png,cat\n");
  EXPECT_THROW(alx::io::read_csv(dir.str("c.csv")), alx::FormatError);
  alx::test::write_text(dir.path() / "d.csv", "image,label\n\"../escape.png\",cat\n");
  EXPECT_THROW(alx::io::read_csv(dir.str("d.csv")), alx::InvalidArgument);
  // Empty label = unlabeled item, quoted fields with commas work.
  alx::test::write_text(dir.path() / "e.csv", "image,label\n\"a,b.png\",cat\nc.png,\n");
  auto ds = alx::io::read_csv(dir.str("e.csv"));
  EXPECT_EQ(ds.pool.id(0), "a,b.png");
  EXPECT_FALSE(ds.pool.is_labeled(1));
}

TEST(Csv, SplitAndEscapeRoundTrip) {
  const std::vector<std::string> fields = {"plain", "with,comma", "with \"quote\"", ""};
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + alx::io::csv_escape(fields[i]);
  EXPECT_EQ(alx::io::split_csv_line(line), fields);
}
