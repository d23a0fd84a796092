#include <alx/core/error.h>
#include <alx/core/image_source.h>

#include <gtest/gtest.h>

#include "alx_test_util.h"

namespace fs = std::filesystem;
using alx::test::TempDir;

TEST(FileImageSource, DecodesRealPngAndJpeg) {
  TempDir dir;
  const cv::Mat png = alx::test::write_pattern_image(dir.path() / "a/one.png", 20, 10, 3, 5);
  alx::test::write_pattern_image(dir.path() / "two.jpg", 16, 16, 1);
  alx::FileImageSource src(dir.path(), {"a/one.png", "two.jpg"});
  ASSERT_EQ(src.size(), 2);
  cv::Mat a = src.load(0);
  ASSERT_EQ(a.size(), cv::Size(20, 10));
  ASSERT_EQ(a.channels(), 3);
  EXPECT_EQ(cv::norm(a, png, cv::NORM_INF), 0.0);  // PNG is lossless
  cv::Mat b = src.load(1);
  EXPECT_EQ(b.channels(), 1);
  EXPECT_EQ(b.size(), cv::Size(16, 16));
  alx::FileImageSource gray(dir.path(), {"a/one.png"}, {alx::ColorMode::kGray});
  EXPECT_EQ(gray.load(0).channels(), 1);
}

TEST(FileImageSource, MissingFileNamesTheFile) {
  TempDir dir;
  alx::FileImageSource src(dir.path(), {"missing.png"});
  try {
    src.load(0);
    FAIL();
  } catch (const alx::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.png"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
  }
}

TEST(FileImageSource, SkipModeCountsAndReports) {
  TempDir dir;
  alx::test::write_pattern_image(dir.path() / "ok.png", 4, 4);
  alx::test::write_text(dir.path() / "broken.png", "not an image at all");
  alx::FileImageOptions opts;
  opts.on_error = alx::OnError::kSkip;
  alx::FileImageSource src(dir.path(), {"ok.png", "broken.png", "gone.png"}, opts);
  EXPECT_FALSE(src.load(0).empty());
  EXPECT_TRUE(src.load(1).empty());
  EXPECT_TRUE(src.load(2).empty());
  EXPECT_EQ(src.skipped(), (std::vector<int64_t>{1, 2}));
}

TEST(FileImageSource, RefusesPathsOutsideTheRoot) {
  TempDir dir;
  alx::test::write_pattern_image(dir.path() / "outside.png", 4, 4);
  fs::create_directories(dir.path() / "root");
  EXPECT_THROW(alx::FileImageSource(dir.path() / "root", {"../outside.png"}), alx::InvalidArgument);
  EXPECT_THROW(alx::FileImageSource(dir.path() / "root", {(dir.path() / "outside.png").string()}),
               alx::InvalidArgument);
  // A symlink inside the root that points outside is refused at load time, never read.
  fs::create_symlink(dir.path() / "outside.png", dir.path() / "root" / "link.png");
  alx::FileImageSource src(dir.path() / "root", {"link.png", "sub/../ok.png"});
  try {
    src.load(0);
    FAIL();
  } catch (const alx::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("outside the image root"), std::string::npos) << e.what();
  }
}

TEST(FileImageSource, RefusesHugeHeadersBeforeDecoding) {
  TempDir dir;
  alx::test::write_pattern_image(dir.path() / "big.png", 300, 200);
  alx::FileImageOptions opts;
  opts.max_pixels = 10000;
  alx::FileImageSource src(dir.path(), {"big.png"}, opts);
  try {
    src.load(0);
    FAIL();
  } catch (const alx::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("claims 300x200 pixels"), std::string::npos) << e.what();
  }
  // A PNG header forged to claim 100000 x 100000 pixels is refused by the default limit.
  cv::Mat small(2, 2, CV_8UC1, cv::Scalar(1));
  std::vector<uint8_t> bytes;
  cv::imencode(".png", small, bytes);
  const uint8_t huge[8] = {0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0};
  std::copy(huge, huge + 8, bytes.begin() + 16);
  alx::test::write_text(dir.path() / "forged.png", std::string(bytes.begin(), bytes.end()));
  alx::FileImageSource forged(dir.path(), {"forged.png"});
  EXPECT_THROW(forged.load(0), alx::FormatError);
}

TEST(MemoryImageSource, ViewsContiguousBytes) {
  auto bytes = std::make_shared<std::vector<uint8_t>>(2 * 3 * 4);
  for (std::size_t i = 0; i < bytes->size(); ++i) (*bytes)[i] = static_cast<uint8_t>(i);
  alx::MemoryImageSource src(bytes, 2, 3, 4, 1);
  cv::Mat second = src.load(1);
  EXPECT_EQ(second.size(), cv::Size(4, 3));
  EXPECT_EQ(second.at<uint8_t>(0, 0), 12);
  EXPECT_EQ(second.at<uint8_t>(2, 3), 23);
  EXPECT_EQ(src.describe(1), "memory[1]");
  EXPECT_THROW(src.load(2), alx::InvalidArgument);
  EXPECT_THROW(alx::MemoryImageSource(bytes, 3, 3, 4, 1), alx::InvalidArgument);
  auto sub = std::make_shared<alx::SubsetImageSource>(std::make_shared<alx::MemoryImageSource>(bytes, 2, 3, 4, 1),
                                                      std::vector<int64_t>{1});
  EXPECT_EQ(sub->load(0).at<uint8_t>(0, 0), 12);
}
