// Photometric transforms: pixel values change, geometry (and objects) do not.
#include "detail.h"

#include <alx/augment/random.h>
#include <alx/augment/transforms.h>
#include <alx/core/config.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>

namespace alx::augment {

namespace {

// Clamps a float image to [0, 1] (torchvision clamps float images after blending).
void clamp01(cv::Mat& m) {
  cv::min(m, 1.0, m);
  cv::max(m, 0.0, m);
}

// Mean of the luma of an image (torchvision's contrast reference).
double gray_mean(const cv::Mat& image) {
  const cv::Scalar m = cv::mean(image);
  if (image.channels() == 1) return m[0];
  return 0.299 * m[2] + 0.587 * m[1] + 0.114 * m[0];  // BGR
}

cv::Mat lut_u8(const cv::Mat& image, double a, double b) {  // saturate(a·x + b)
  cv::Mat lut(1, 256, CV_8U);
  for (int i = 0; i < 256; ++i) lut.at<uchar>(i) = cv::saturate_cast<uchar>(a * i + b);
  cv::Mat out;
  cv::LUT(image, lut, out);
  return out;
}

cv::Mat affine_values(const cv::Mat& image, double a, double b) {
  if (image.depth() == CV_8U) return lut_u8(image, a, b);
  cv::Mat out;
  image.convertTo(out, CV_32F, a, b);
  clamp01(out);
  return out;
}

}  // namespace

cv::Mat adjust_brightness(const cv::Mat& image, double factor) {
  detail::check_image(image, "adjust_brightness");
  return affine_values(image, factor, 0.0);
}

cv::Mat adjust_contrast(const cv::Mat& image, double factor) {
  detail::check_image(image, "adjust_contrast");
  return affine_values(image, factor, (1 - factor) * gray_mean(image));
}

cv::Mat adjust_saturation(const cv::Mat& image, double f) {
  detail::check_image(image, "adjust_saturation");
  if (image.channels() < 3) return image;
  cv::Mat color = image, alpha;
  if (image.channels() == 4) {  // blend the color channels only
    cv::Mat parts[4];
    cv::split(image, parts);
    cv::merge(parts, 3, color);
    alpha = parts[3];
  }
  cv::Mat gray, gray3, out;
  cv::cvtColor(color, gray, cv::COLOR_BGR2GRAY);
  cv::cvtColor(gray, gray3, cv::COLOR_GRAY2BGR);
  cv::addWeighted(color, f, gray3, 1.0 - f, 0.0, out);
  if (out.depth() == CV_32F) clamp01(out);
  if (!alpha.empty()) {
    std::vector<cv::Mat> parts;
    cv::split(out, parts);
    parts.push_back(alpha);
    cv::merge(parts, out);
  }
  return out;
}

cv::Mat adjust_hue(const cv::Mat& image, double shift) {
  detail::check_image(image, "adjust_hue");
  if (image.channels() != 3 || shift == 0) return image;  // 4 channels: left alone (rare)
  cv::Mat hsv, out;
  if (image.depth() == CV_8U) {
    cv::cvtColor(image, hsv, cv::COLOR_BGR2HSV_FULL);  // H in 0..255 for the full circle
    const int d = static_cast<int>(std::lround(shift * 256.0));
    for (int r = 0; r < hsv.rows; ++r) {
      uchar* p = hsv.ptr<uchar>(r);
      for (int c = 0; c < hsv.cols; ++c) p[3 * c] = static_cast<uchar>((p[3 * c] + d) & 255);
    }
    cv::cvtColor(hsv, out, cv::COLOR_HSV2BGR_FULL);
  } else {
    cv::cvtColor(image, hsv, cv::COLOR_BGR2HSV);  // float: H in degrees [0, 360)
    const float d = static_cast<float>(shift * 360.0);
    for (int r = 0; r < hsv.rows; ++r) {
      float* p = hsv.ptr<float>(r);
      for (int c = 0; c < hsv.cols; ++c) {
        float h = p[3 * c] + d;
        h -= 360.f * std::floor(h / 360.f);
        p[3 * c] = h;
      }
    }
    cv::cvtColor(hsv, out, cv::COLOR_HSV2BGR);
    clamp01(out);
  }
  return out;
}

namespace {

// Maps normalize's RGB-ordered values onto the Mat's BGR(A) channels.
std::vector<double> per_channel(const std::vector<double>& rgb, int channels, const char* key) {
  if (rgb.size() == 1) return std::vector<double>(static_cast<std::size_t>(channels), rgb[0]);
  ALX_CHECK(static_cast<int>(rgb.size()) == channels,
            "normalize: {} has {} values but the image has {} channel(s); give 1 value or {}",
            key, rgb.size(), channels, channels);
  std::vector<double> out(rgb);
  if (channels >= 3) std::swap(out[0], out[2]);
  return out;
}

}  // namespace

// ---------------------------------------------------------------- ColorJitter

ColorJitter::ColorJitter(ColorJitterOptions o) : o_(std::move(o)) {
  ALX_CHECK(o_.brightness() >= 0 && o_.contrast() >= 0 && o_.saturation() >= 0,
            "color_jitter: brightness, contrast and saturation must be >= 0");
  ALX_CHECK(o_.hue() >= 0 && o_.hue() <= 0.5, "color_jitter: hue must be in [0, 0.5], got {}",
            o_.hue());
}

void ColorJitter::apply(Sample& s, std::mt19937_64& rng) const {
  detail::check_image(s.image, "color_jitter");
  // As torchvision: first the order of the four operations, then their factors.
  std::array<int, 4> order{0, 1, 2, 3};
  for (int i = 3; i > 0; --i) std::swap(order[i], order[uniform_int(rng, 0, i)]);
  auto factor = [&](double v) { return v > 0 ? uniform(rng, std::max(0.0, 1 - v), 1 + v) : 1.0; };
  const double b = factor(o_.brightness()), c = factor(o_.contrast()), sat = factor(o_.saturation());
  const double h = o_.hue() > 0 ? uniform(rng, -o_.hue(), o_.hue()) : 0.0;
  cv::Mat img = s.image;
  for (int op : order) {
    switch (op) {
      case 0:
        if (o_.brightness() > 0) img = adjust_brightness(img, b);
        break;
      case 1:
        if (o_.contrast() > 0) img = adjust_contrast(img, c);
        break;
      case 2:
        if (o_.saturation() > 0) img = adjust_saturation(img, sat);
        break;
      case 3:
        if (o_.hue() > 0) img = adjust_hue(img, h);
        break;
    }
  }
  s.image = img;
}

YAML::Node ColorJitter::params() const { return alx::config::write(o_); }

// ---------------------------------------------------------------- Grayscale

Grayscale::Grayscale(GrayscaleOptions o) : o_(std::move(o)) {
  ALX_CHECK(o_.channels() == 0 || o_.channels() == 1 || o_.channels() == 3,
            "grayscale: channels must be 0 (as input), 1 or 3, got {}", o_.channels());
}

void Grayscale::apply(Sample& s, std::mt19937_64& rng) const {
  detail::check_image(s.image, "grayscale");
  if (!bernoulli(rng, o_.p())) return;
  const int in = s.image.channels();
  const int want = o_.channels() == 0 ? std::min(in, 3) : o_.channels();
  cv::Mat gray;
  if (in == 1) gray = s.image;
  else cv::cvtColor(s.image, gray, in == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  if (want == 3) {
    cv::Mat out;
    cv::cvtColor(gray, out, cv::COLOR_GRAY2BGR);
    s.image = out;
  } else {
    s.image = gray;
  }
}

YAML::Node Grayscale::params() const { return alx::config::write(o_); }

// ---------------------------------------------------------------- GaussianBlur

GaussianBlur::GaussianBlur(GaussianBlurOptions o) : o_(std::move(o)) {
  ALX_CHECK(o_.kernel_size() > 0 && o_.kernel_size() % 2 == 1,
            "gaussian_blur: kernel_size must be odd and positive, got {}", o_.kernel_size());
  detail::check_range2(o_.sigma(), "gaussian_blur", "sigma");
  ALX_CHECK(o_.sigma()[0] > 0, "gaussian_blur: sigma must be positive, got {}", o_.sigma()[0]);
}

void GaussianBlur::apply(Sample& s, std::mt19937_64& rng) const {
  detail::check_image(s.image, "gaussian_blur");
  const double sigma = uniform(rng, o_.sigma()[0], o_.sigma()[1]);
  cv::Mat out;
  cv::GaussianBlur(s.image, out, {o_.kernel_size(), o_.kernel_size()}, sigma, sigma,
                   cv::BORDER_REFLECT_101);
  s.image = out;
}

YAML::Node GaussianBlur::params() const { return alx::config::write(o_); }

// ---------------------------------------------------------------- GaussianNoise

GaussianNoise::GaussianNoise(GaussianNoiseOptions o) : o_(std::move(o)) {
  ALX_CHECK(o_.sigma() >= 0, "gaussian_noise: sigma must be >= 0, got {}", o_.sigma());
}

void GaussianNoise::apply(Sample& s, std::mt19937_64& rng) const {
  detail::check_image(s.image, "gaussian_noise");
  // cv::RNG fills a whole image ~20× faster than std::normal_distribution; it is seeded
  // from our generator, so the noise is as reproducible as everything else.
  cv::RNG noise_rng(rng() | 1);
  const bool u8 = s.image.depth() == CV_8U;
  const double unit = u8 ? 255.0 : 1.0;
  cv::Mat img, noise(s.image.size(), CV_MAKETYPE(CV_32F, s.image.channels()));
  noise_rng.fill(noise, cv::RNG::NORMAL, cv::Scalar::all(o_.mean() * unit),
                 cv::Scalar::all(o_.sigma() * unit));
  s.image.convertTo(img, CV_32F);
  img += noise;
  if (u8) {
    cv::Mat out;  // never convertTo(s.image, …): that would write into a shared input
    img.convertTo(out, CV_8U);  // rounds and saturates to [0, 255]
    s.image = out;
  } else {
    clamp01(img);
    s.image = img;
  }
}

YAML::Node GaussianNoise::params() const { return alx::config::write(o_); }

// ---------------------------------------------------------------- RandomErasing

RandomErasing::RandomErasing(RandomErasingOptions o) : o_(std::move(o)) {
  detail::check_range2(o_.scale(), "random_erasing", "scale");
  detail::check_range2(o_.ratio(), "random_erasing", "ratio");
  ALX_CHECK(o_.scale()[1] <= 1, "random_erasing: scale must lie in (0, 1], got max {}", o_.scale()[1]);
}

void RandomErasing::apply(Sample& s, std::mt19937_64& rng) const {
  detail::check_image(s.image, "random_erasing");
  if (!bernoulli(rng, o_.p())) return;
  const int img_h = s.image.rows, img_w = s.image.cols;
  const double area = static_cast<double>(img_h) * img_w;
  const double log_r0 = std::log(o_.ratio()[0]), log_r1 = std::log(o_.ratio()[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {  // torchvision's get_params
    const double erase_area = area * uniform(rng, o_.scale()[0], o_.scale()[1]);
    const double aspect = std::exp(uniform(rng, log_r0, log_r1));
    const int h = static_cast<int>(std::nearbyint(std::sqrt(erase_area * aspect)));
    const int w = static_cast<int>(std::nearbyint(std::sqrt(erase_area / aspect)));
    if (!(h < img_h && w < img_w) || h <= 0 || w <= 0) continue;
    const int i = static_cast<int>(uniform_int(rng, 0, img_h - h));
    const int j = static_cast<int>(uniform_int(rng, 0, img_w - w));
    cv::Mat out = s.image.clone();
    cv::Mat roi = out(cv::Rect(j, i, w, h));
    if (o_.random()) {
      cv::RNG fill_rng(rng() | 1);
      if (out.depth() == CV_8U)
        fill_rng.fill(roi, cv::RNG::UNIFORM, cv::Scalar::all(0), cv::Scalar::all(256));
      else
        fill_rng.fill(roi, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(1));
    } else {
      roi.setTo(cv::Scalar::all(o_.value()));
    }
    s.image = out;
    return;
  }
}

YAML::Node RandomErasing::params() const { return alx::config::write(o_); }

// ---------------------------------------------------------------- Normalize

Normalize::Normalize(NormalizeOptions o) : o_(std::move(o)) {
  ALX_CHECK(!o_.mean().empty() && !o_.std().empty(), "normalize: mean and std must not be empty");
  ALX_CHECK(o_.mean().size() == o_.std().size() || o_.mean().size() == 1 || o_.std().size() == 1,
            "normalize: mean ({} values) and std ({} values) must have the same length",
            o_.mean().size(), o_.std().size());
  for (double v : o_.std()) ALX_CHECK(v > 0, "normalize: std must be positive, got {}", v);
}

void Normalize::apply(Sample& s, std::mt19937_64&) const {
  detail::check_image(s.image, "normalize");
  const int ch = s.image.channels();
  const auto mean = per_channel(o_.mean(), ch, "mean");
  const auto sd = per_channel(o_.std(), ch, "std");
  const double unit = s.image.depth() == CV_8U ? 1.0 / 255.0 : 1.0;
  float a[4], b[4];  // out = a·x + b per channel
  for (int c = 0; c < ch; ++c) {
    a[c] = static_cast<float>(unit / sd[static_cast<std::size_t>(c)]);
    b[c] = static_cast<float>(-mean[static_cast<std::size_t>(c)] / sd[static_cast<std::size_t>(c)]);
  }
  cv::Mat out(s.image.size(), CV_MAKETYPE(CV_32F, ch));
  const int n = s.image.cols;
  for (int r = 0; r < s.image.rows; ++r) {
    float* dst = out.ptr<float>(r);
    if (s.image.depth() == CV_8U) {
      const uchar* src = s.image.ptr<uchar>(r);
      for (int i = 0; i < n; ++i)
        for (int c = 0; c < ch; ++c) dst[i * ch + c] = a[c] * src[i * ch + c] + b[c];
    } else {
      const float* src = s.image.ptr<float>(r);
      for (int i = 0; i < n; ++i)
        for (int c = 0; c < ch; ++c) dst[i * ch + c] = a[c] * src[i * ch + c] + b[c];
    }
  }
  s.image = out;
}

YAML::Node Normalize::params() const { return alx::config::write(o_); }

// ---------------------------------------------------------------- ToFloat

void ToFloat::apply(Sample& s, std::mt19937_64&) const {
  detail::check_image(s.image, "to_float");
  if (s.image.depth() == CV_32F) return;
  cv::Mat out;
  s.image.convertTo(out, CV_32F, 1.0 / 255.0);
  s.image = out;
}

}  // namespace alx::augment
