// Each transform on inputs whose expected output is known.
#include "helpers.h"

#include <alx/augment/pipeline.h>
#include <alx/augment/tensor.h>
#include <alx/augment/transforms.h>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <set>

namespace aug = alx::augment;
using aug::testing::random_image;
using aug::testing::same_mat;

namespace {

aug::Sample sample_with_box(const cv::Mat& image, alx::Box box) {
  alx::Object obj;
  obj.label = 3;
  obj.box = box;
  return {image, {obj}};
}

}  // namespace

TEST(Flip, HorizontalMovesAKnownPixelAndBox) {
  cv::Mat img(50, 100, CV_8UC3, cv::Scalar::all(0));
  img.at<cv::Vec3b>(7, 10) = {1, 2, 3};
  auto s = sample_with_box(img, {10, 20, 30, 40});
  std::mt19937_64 rng(1);
  aug::HorizontalFlip(aug::FlipOptions().p(1.0)).apply(s, rng);
  EXPECT_EQ(s.image.at<cv::Vec3b>(7, 89), cv::Vec3b(1, 2, 3));  // x → W − 1 − x
  EXPECT_EQ(s.image.at<cv::Vec3b>(7, 10), cv::Vec3b(0, 0, 0));
  ASSERT_EQ(s.objects.size(), 1u);
  EXPECT_EQ(s.objects[0].box, (alx::Box{70, 20, 90, 40}));
  EXPECT_EQ(s.objects[0].label, 3);
  EXPECT_EQ(img.at<cv::Vec3b>(7, 10), cv::Vec3b(1, 2, 3)) << "the input must not be modified";
}

TEST(Flip, VerticalMovesAKnownPixelAndBox) {
  cv::Mat img(50, 100, CV_8UC1, cv::Scalar::all(0));
  img.at<uchar>(7, 10) = 200;
  auto s = sample_with_box(img, {10, 20, 30, 40});
  std::mt19937_64 rng(1);
  aug::VerticalFlip(aug::FlipOptions().p(1.0)).apply(s, rng);
  EXPECT_EQ(s.image.at<uchar>(42, 10), 200);
  EXPECT_EQ(s.objects[0].box, (alx::Box{10, 10, 30, 30}));
}

TEST(Flip, ProbabilityZeroKeepsAndHalfFlipsAboutHalf) {
  const cv::Mat img = random_image(8, 4, CV_8UC1);
  std::mt19937_64 rng(3);
  aug::HorizontalFlip never(aug::FlipOptions().p(0.0)), half;
  int flipped = 0;
  for (int i = 0; i < 2000; ++i) {
    EXPECT_TRUE(same_mat(never.apply_image(img, rng), img));
    flipped += !same_mat(half.apply_image(img, rng), img);
  }
  EXPECT_NEAR(flipped / 2000.0, 0.5, 0.05);
}

TEST(Rotate, NinetyDegreesWithExpandEqualsCvRotate) {
  for (int type : {CV_8UC1, CV_8UC3, CV_32FC3}) {
    const cv::Mat img = random_image(37, 20, type);  // not square, odd width
    std::mt19937_64 rng(1);
    cv::Mat expect;
    cv::rotate(img, expect, cv::ROTATE_90_COUNTERCLOCKWISE);
    const cv::Mat got = aug::Rotate(aug::RotateOptions().degrees({90, 90}).expand(true)).apply_image(img, rng);
    EXPECT_TRUE(same_mat(got, expect)) << "type " << type;
    cv::rotate(img, expect, cv::ROTATE_90_CLOCKWISE);
    EXPECT_TRUE(same_mat(
        aug::Rotate(aug::RotateOptions().degrees({-90, -90}).expand(true)).apply_image(img, rng), expect));
    cv::rotate(img, expect, cv::ROTATE_180);
    EXPECT_TRUE(same_mat(aug::Rotate(aug::RotateOptions().degrees({180, 180})).apply_image(img, rng), expect));
  }
}

TEST(Rotate, NinetyDegreesMovesTheBox) {
  cv::Mat img(20, 40, CV_8UC1, cv::Scalar(0));  // W=40, H=20
  auto s = sample_with_box(img, {0, 0, 10, 5});  // top-left corner
  std::mt19937_64 rng(1);
  aug::Rotate(aug::RotateOptions().degrees({90, 90}).expand(true)).apply(s, rng);
  ASSERT_EQ(s.image.size(), cv::Size(20, 40));
  // Counter-clockwise: the top-left corner goes to the bottom-left.
  const auto& b = s.objects.at(0).box;
  EXPECT_NEAR(b.x1, 0, 1e-4);
  EXPECT_NEAR(b.y1, 30, 1e-4);
  EXPECT_NEAR(b.x2, 5, 1e-4);
  EXPECT_NEAR(b.y2, 40, 1e-4);
}

TEST(Resize, ExactAndShorterSide) {
  const cv::Mat img = random_image(200, 100, CV_8UC3);
  std::mt19937_64 rng(1);
  auto s = sample_with_box(img, {20, 10, 60, 50});
  aug::Resize(aug::ResizeOptions().height(50).width(50)).apply(s, rng);
  EXPECT_EQ(s.image.size(), cv::Size(50, 50));
  EXPECT_EQ(s.objects[0].box, (alx::Box{5, 5, 15, 25}));
  EXPECT_EQ(aug::Resize(aug::ResizeOptions().size(50)).apply_image(img, rng).size(), cv::Size(100, 50));
  EXPECT_EQ(aug::Resize(aug::ResizeOptions().size(50).max_size(80)).apply_image(img, rng).size(),
            cv::Size(80, 40));
  const cv::Mat tall = random_image(30, 90, CV_8UC1);
  EXPECT_EQ(aug::Resize(aug::ResizeOptions().size(10)).apply_image(tall, rng).size(), cv::Size(10, 30));
  cv::Mat expect;
  cv::resize(img, expect, {64, 32}, 0, 0, cv::INTER_AREA);
  EXPECT_TRUE(same_mat(
      aug::Resize(aug::ResizeOptions().height(32).width(64).interpolation("area")).apply_image(img, rng),
      expect));
}

TEST(Resize, RejectsAmbiguousOptions) {
  EXPECT_THROW(aug::Resize(aug::ResizeOptions().size(10).height(5).width(5)), alx::InvalidArgument);
  EXPECT_THROW(aug::Resize(aug::ResizeOptions()), alx::InvalidArgument);
  try {
    aug::Resize(aug::ResizeOptions().size(10).interpolation("bilinearr"));
    FAIL();
  } catch (const alx::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("bilinearr"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("lanczos"), std::string::npos);
  }
}

TEST(CenterCrop, TakesTheCenterWithTorchvisionRounding) {
  cv::Mat img(5, 5, CV_32FC1);
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 5; ++c) img.at<float>(r, c) = static_cast<float>(10 * r + c);
  std::mt19937_64 rng(1);
  // (5 − 2) / 2 = 1.5 rounds to 2 (half to even), as Python's round().
  const cv::Mat got = aug::CenterCrop(aug::CropOptions().height(2).width(3)).apply_image(img, rng);
  ASSERT_EQ(got.size(), cv::Size(3, 2));
  EXPECT_EQ(got.at<float>(0, 0), 21.f);
  // Smaller than the crop: padded with fill, the image in the middle.
  const cv::Mat padded =
      aug::CenterCrop(aug::CropOptions().height(7).width(9).fill(-1)).apply_image(img, rng);
  ASSERT_EQ(padded.size(), cv::Size(9, 7));
  EXPECT_EQ(padded.at<float>(0, 0), -1.f);
  EXPECT_EQ(padded.at<float>(1, 2), 0.f);
  EXPECT_EQ(padded.at<float>(5, 6), 44.f);
}

TEST(RandomCrop, CropsAWindowOfTheInputAndMovesTheBox) {
  cv::Mat img(40, 60, CV_32FC1);
  for (int r = 0; r < 40; ++r)
    for (int c = 0; c < 60; ++c) img.at<float>(r, c) = static_cast<float>(1000 * r + c);
  std::mt19937_64 rng(5);
  aug::RandomCrop crop(aug::RandomCropOptions().height(20).width(30));
  std::set<float> corners;
  for (int i = 0; i < 50; ++i) {
    auto s = sample_with_box(img, {0, 0, 60, 40});
    crop.apply(s, rng);
    const float v = s.image.at<float>(0, 0);
    const int y = static_cast<int>(v) / 1000, x = static_cast<int>(v) % 1000;
    EXPECT_TRUE(same_mat(s.image, img(cv::Rect(x, y, 30, 20))));
    EXPECT_EQ(s.objects[0].box, (alx::Box{0, 0, 30, 20}));  // the whole-image box, clipped
    corners.insert(v);
  }
  EXPECT_GT(corners.size(), 20u);
  try {
    aug::RandomCrop(aug::RandomCropOptions().height(50).width(30)).apply_image(img, rng);
    FAIL();
  } catch (const alx::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("pad_if_needed"), std::string::npos) << e.what();
  }
  EXPECT_EQ(aug::RandomCrop(aug::RandomCropOptions().height(50).width(30).pad_if_needed(true))
                .apply_image(img, rng)
                .size(),
            cv::Size(30, 50));
}

TEST(RandomResizedCrop, WindowsFollowScaleAndRatio) {
  aug::RandomResizedCrop rrc(aug::RandomResizedCropOptions().scale({0.2, 0.5}).ratio({0.5, 2.0}));
  std::mt19937_64 rng(11);
  double mean_area = 0;
  for (int i = 0; i < 1000; ++i) {
    const cv::Rect r = rrc.window({1000, 1000}, rng);
    ASSERT_TRUE((r & cv::Rect(0, 0, 1000, 1000)) == r);
    const double area = static_cast<double>(r.area()) / (1000 * 1000);
    EXPECT_GE(area, 0.19);
    EXPECT_LE(area, 0.51);
    const double ratio = static_cast<double>(r.width) / r.height;
    EXPECT_GE(ratio, 0.48);
    EXPECT_LE(ratio, 2.05);
    mean_area += area / 1000;
  }
  EXPECT_NEAR(mean_area, 0.35, 0.015);
  // Impossible scale: torchvision's fallback, a centered crop with the ratio clamped.
  aug::RandomResizedCrop never(aug::RandomResizedCropOptions().scale({2.0, 3.0}));
  EXPECT_EQ(never.window({100, 50}, rng), cv::Rect(16, 0, 67, 50));
  const cv::Mat out = aug::RandomResizedCrop(aug::RandomResizedCropOptions().height(24).width(32))
                          .apply_image(random_image(100, 80, CV_8UC3), rng);
  EXPECT_EQ(out.size(), cv::Size(32, 24));
}

TEST(Pad, MatchesCopyMakeBorderAndMovesTheBox) {
  const cv::Mat img = random_image(10, 8, CV_8UC3);
  std::mt19937_64 rng(1);
  auto s = sample_with_box(img, {1, 1, 5, 5});
  aug::Pad(aug::PadOptions().padding({1, 2, 3, 4}).fill(9)).apply(s, rng);
  cv::Mat expect;
  cv::copyMakeBorder(img, expect, 2, 4, 1, 3, cv::BORDER_CONSTANT, cv::Scalar::all(9));
  EXPECT_TRUE(same_mat(s.image, expect));
  EXPECT_EQ(s.objects[0].box, (alx::Box{2, 3, 6, 7}));
  cv::copyMakeBorder(img, expect, 3, 3, 2, 2, cv::BORDER_REFLECT_101);
  EXPECT_TRUE(same_mat(aug::Pad(aug::PadOptions().padding({2, 3}).mode("reflect")).apply_image(img, rng), expect));
  EXPECT_THROW(aug::Pad(aug::PadOptions().padding({1, 2, 3})), alx::InvalidArgument);
  EXPECT_THROW(aug::Pad(aug::PadOptions().mode("wrap")), alx::InvalidArgument);
}

TEST(Affine, IdentityParametersGiveTheInput) {
  const cv::Mat img = random_image(31, 17, CV_8UC3);
  std::mt19937_64 rng(1);
  EXPECT_TRUE(same_mat(aug::Affine().apply_image(img, rng), img));
}

TEST(Affine, ScaleTwoAboutTheCenter) {
  cv::Mat img(40, 40, CV_8UC1, cv::Scalar(0));
  auto s = sample_with_box(img, {15, 15, 25, 25});
  std::mt19937_64 rng(1);
  aug::Affine(aug::AffineOptions().scale({2, 2})).apply(s, rng);
  EXPECT_EQ(s.objects[0].box, (alx::Box{10, 10, 30, 30}));
}

TEST(Photometric, BrightnessContrastKnownValues) {
  cv::Mat img(1, 4, CV_8UC1);
  img.at<uchar>(0) = 50, img.at<uchar>(1) = 150, img.at<uchar>(2) = 50, img.at<uchar>(3) = 150;
  const cv::Mat b = aug::adjust_brightness(img, 1.5);
  EXPECT_EQ(b.at<uchar>(0), 75);
  EXPECT_EQ(b.at<uchar>(1), 225);
  EXPECT_EQ(aug::adjust_brightness(img, 2.0).at<uchar>(1), 255);  // saturates
  const cv::Mat c = aug::adjust_contrast(img, 2.0);  // mean 100: 50 → 0, 150 → 200
  EXPECT_EQ(c.at<uchar>(0), 0);
  EXPECT_EQ(c.at<uchar>(1), 200);
  cv::Mat f;
  img.convertTo(f, CV_32F, 1 / 255.0);
  EXPECT_FLOAT_EQ(aug::adjust_brightness(f, 1.5).at<float>(0), 75 / 255.f);
  EXPECT_FLOAT_EQ(aug::adjust_brightness(f, 3.0).at<float>(1), 1.f);  // clamped to [0, 1]
}

TEST(Photometric, SaturationAndHueKnownValues) {
  cv::Mat red(2, 2, CV_8UC3, cv::Scalar(0, 0, 255));  // BGR
  const cv::Mat gray = aug::adjust_saturation(red, 0.0);
  const int luma = cvRound(0.299 * 255);
  EXPECT_NEAR(gray.at<cv::Vec3b>(0, 0)[0], luma, 1);
  EXPECT_NEAR(gray.at<cv::Vec3b>(0, 0)[1], luma, 1);
  EXPECT_NEAR(gray.at<cv::Vec3b>(0, 0)[2], luma, 1);
  const cv::Vec3b cyan = aug::adjust_hue(red, 0.5).at<cv::Vec3b>(1, 1);
  EXPECT_NEAR(cyan[0], 255, 4);  // 8-bit HSV quantizes hue to 256 steps
  EXPECT_NEAR(cyan[1], 255, 4);
  EXPECT_NEAR(cyan[2], 0, 4);
  const cv::Vec3b green = aug::adjust_hue(red, 1.0 / 3).at<cv::Vec3b>(0, 1);
  EXPECT_NEAR(green[0], 0, 8);
  EXPECT_NEAR(green[1], 255, 1);
  EXPECT_NEAR(green[2], 0, 8);
  cv::Mat redf;
  red.convertTo(redf, CV_32F, 1 / 255.0);
  const cv::Vec3f cyanf = aug::adjust_hue(redf, 0.5).at<cv::Vec3f>(0, 0);
  EXPECT_NEAR(cyanf[0], 1, 1e-5);
  EXPECT_NEAR(cyanf[1], 1, 1e-5);
  EXPECT_NEAR(cyanf[2], 0, 1e-5);
  const cv::Mat one = random_image(5, 5, CV_8UC1);
  EXPECT_TRUE(same_mat(aug::adjust_hue(one, 0.3), one));
  EXPECT_TRUE(same_mat(aug::adjust_saturation(one, 0.3), one));
}

TEST(ColorJitter, BrightnessOnlyScalesEveryPixelByOneFactorInRange) {
  cv::Mat img(8, 8, CV_32FC3, cv::Scalar(0.2, 0.3, 0.4));
  aug::ColorJitter jitter(aug::ColorJitterOptions().brightness(0.4));
  std::mt19937_64 rng(2);
  for (int i = 0; i < 50; ++i) {
    const cv::Mat out = jitter.apply_image(img, rng);
    const cv::Vec3f p = out.at<cv::Vec3f>(3, 3);
    const float factor = p[0] / 0.2f;
    EXPECT_GE(factor, 0.6f - 1e-5f);
    EXPECT_LE(factor, 1.4f + 1e-5f);
    EXPECT_NEAR(p[1], 0.3f * factor, 1e-5);
    EXPECT_NEAR(p[2], std::min(1.f, 0.4f * factor), 1e-5);
  }
}

TEST(ColorJitter, GrayPixelsStayGrayUnderSaturationAndHue) {
  cv::Mat img(4, 4, CV_8UC3, cv::Scalar(90, 90, 90));
  std::mt19937_64 rng(2);
  const cv::Mat out = aug::ColorJitter(aug::ColorJitterOptions().saturation(0.9).hue(0.5)).apply_image(img, rng);
  EXPECT_TRUE(same_mat(out, img));
}

TEST(Grayscale, LumaAndChannelCount) {
  cv::Mat img(3, 3, CV_8UC3, cv::Scalar(10, 20, 30));  // B, G, R
  std::mt19937_64 rng(1);
  const int luma = cvRound(0.299 * 30 + 0.587 * 20 + 0.114 * 10);
  const cv::Mat g3 = aug::Grayscale().apply_image(img, rng);
  ASSERT_EQ(g3.channels(), 3);
  EXPECT_EQ(g3.at<cv::Vec3b>(1, 1), cv::Vec3b(luma, luma, luma));
  const cv::Mat g1 = aug::Grayscale(aug::GrayscaleOptions().channels(1)).apply_image(img, rng);
  ASSERT_EQ(g1.channels(), 1);
  EXPECT_EQ(g1.at<uchar>(2, 2), luma);
  const cv::Mat back = aug::Grayscale(aug::GrayscaleOptions().channels(3)).apply_image(g1, rng);
  EXPECT_EQ(back.channels(), 3);
}

TEST(GaussianBlur, FixedSigmaEqualsCvGaussianBlur) {
  const cv::Mat img = random_image(30, 20, CV_8UC3);
  std::mt19937_64 rng(1);
  cv::Mat expect;
  cv::GaussianBlur(img, expect, {7, 7}, 1.5, 1.5, cv::BORDER_REFLECT_101);
  EXPECT_TRUE(same_mat(
      aug::GaussianBlur(aug::GaussianBlurOptions().kernel_size(7).sigma({1.5, 1.5})).apply_image(img, rng),
      expect));
  EXPECT_THROW(aug::GaussianBlur(aug::GaussianBlurOptions().kernel_size(4)), alx::InvalidArgument);
}

TEST(GaussianNoise, HasTheRequestedMeanAndSigma) {
  cv::Mat img(200, 200, CV_8UC3, cv::Scalar::all(128));
  std::mt19937_64 rng(4);
  const cv::Mat out = aug::GaussianNoise(aug::GaussianNoiseOptions().sigma(0.1)).apply_image(img, rng);
  cv::Scalar mean, sd;
  cv::meanStdDev(out.reshape(1), mean, sd);
  EXPECT_NEAR(mean[0], 128, 0.5);
  EXPECT_NEAR(sd[0], 25.5, 0.5);
  EXPECT_TRUE(same_mat(img, cv::Mat(200, 200, CV_8UC3, cv::Scalar::all(128))));
}

TEST(RandomErasing, ErasesOneRectangleWithinScale) {
  cv::Mat img(100, 100, CV_8UC1, cv::Scalar(200));
  std::mt19937_64 rng(9);
  aug::RandomErasing erase(aug::RandomErasingOptions().p(1.0).value(0));
  for (int i = 0; i < 30; ++i) {
    auto s = sample_with_box(img, {0, 0, 10, 10});
    erase.apply(s, rng);
    cv::Mat zero = s.image == 0;
    const int n = cv::countNonZero(zero);
    EXPECT_EQ(cv::boundingRect(zero).area(), n) << "one filled rectangle";
    EXPECT_GE(n, 0.02 * 10000 * 0.9);
    EXPECT_LE(n, 0.33 * 10000 * 1.1);
    EXPECT_EQ(s.objects.size(), 1u);
  }
  EXPECT_EQ(cv::countNonZero(img == 200), 10000) << "the input must not be modified";
}

TEST(Normalize, GivesZeroMeanUnitStdPerChannelInRgbOrder) {
  const cv::Mat img = random_image(64, 48, CV_8UC3, 7);
  cv::Scalar m, sd;  // BGR, 0..255
  cv::meanStdDev(img, m, sd);
  std::mt19937_64 rng(1);
  // mean/std are given in RGB order.
  aug::Normalize norm(aug::NormalizeOptions()
                          .mean({m[2] / 255, m[1] / 255, m[0] / 255})
                          .std({sd[2] / 255, sd[1] / 255, sd[0] / 255}));
  const cv::Mat out = norm.apply_image(img, rng);
  ASSERT_EQ(out.type(), CV_32FC3);
  cv::Scalar om, osd;
  cv::meanStdDev(out, om, osd);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(om[c], 0, 1e-4);
    EXPECT_NEAR(osd[c], 1, 1e-4);
  }
  // A known pixel with ImageNet numbers: R = 255 → (1 − 0.485) / 0.229.
  cv::Mat px(1, 1, CV_8UC3, cv::Scalar(0, 0, 255));
  const cv::Vec3f v = aug::Normalize().apply_image(px, rng).at<cv::Vec3f>(0, 0);
  EXPECT_NEAR(v[2], (1 - 0.485) / 0.229, 1e-5);
  EXPECT_NEAR(v[0], (0 - 0.406) / 0.225, 1e-5);
  try {
    aug::Normalize().apply_image(random_image(4, 4, CV_8UC1), rng);
    FAIL();
  } catch (const alx::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("1 channel"), std::string::npos) << e.what();
  }
  const cv::Mat g = aug::Normalize(aug::NormalizeOptions().mean({0.5}).std({0.5}))
                        .apply_image(cv::Mat(1, 1, CV_8UC1, cv::Scalar(255)), rng);
  EXPECT_FLOAT_EQ(g.at<float>(0, 0), 1.f);
}

TEST(ToTensor, ScalesAndSwapsBgrToRgb) {
  cv::Mat img(3, 4, CV_8UC3, cv::Scalar(0, 0, 0));
  img.at<cv::Vec3b>(1, 2) = {10, 20, 30};  // B, G, R at x = 2, y = 1
  const auto t = aug::to_tensor(img);
  ASSERT_EQ(t.sizes().vec(), (std::vector<int64_t>{3, 3, 4}));
  EXPECT_FLOAT_EQ(t[0][1][2].item<float>(), 30 / 255.f);
  EXPECT_FLOAT_EQ(t[1][1][2].item<float>(), 20 / 255.f);
  EXPECT_FLOAT_EQ(t[2][1][2].item<float>(), 10 / 255.f);
  const auto g = aug::to_tensor(cv::Mat(5, 6, CV_8UC1, cv::Scalar(255)));
  EXPECT_EQ(g.sizes().vec(), (std::vector<int64_t>{1, 5, 6}));
  EXPECT_FLOAT_EQ(g.max().item<float>(), 1.f);
  const auto f = aug::to_tensor(cv::Mat(2, 2, CV_32FC1, cv::Scalar(-3.5)));
  EXPECT_FLOAT_EQ(f[0][1][1].item<float>(), -3.5f);  // float: copied as is
  EXPECT_FLOAT_EQ(aug::to_tensor(cv::Mat(1, 1, CV_16UC1, cv::Scalar(65535)))[0][0][0].item<float>(), 1.f);
  const auto b = aug::stack({img, img});
  EXPECT_EQ(b.sizes().vec(), (std::vector<int64_t>{2, 3, 3, 4}));
  EXPECT_TRUE(b[1].equal(t));
  try {
    aug::stack({img, img, cv::Mat(3, 5, CV_8UC3)});
    FAIL();
  } catch (const alx::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("image 2"), std::string::npos) << e.what();
  }
}

TEST(ToFloat, DividesBy255) {
  std::mt19937_64 rng(1);
  const cv::Mat f = aug::ToFloat().apply_image(cv::Mat(1, 1, CV_8UC3, cv::Scalar(255, 0, 51)), rng);
  EXPECT_EQ(f.type(), CV_32FC3);
  EXPECT_FLOAT_EQ(f.at<cv::Vec3f>(0, 0)[2], 0.2f);
}
