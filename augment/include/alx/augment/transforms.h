// alx/augment/transforms.h — the built-in transforms and their options.
//
// Each transform has an options struct (chained setters, one `visit` field list) that
// is also its YAML parameter list; the registry name is given above each class.
// Parameter names and ranges follow torchvision's transforms v2 where it has the same
// transform (RandomResizedCrop's scale/ratio, ColorJitter's factors, RandomErasing …).
//
//   auto t = RandomResizedCrop(RandomResizedCropOptions().height(224).width(224));
//   // YAML: {name: random_resized_crop, height: 224, width: 224, scale: [0.08, 1.0]}
#pragma once

#include <alx/augment/transform.h>
#include <alx/core/options.h>

#include <string>
#include <vector>

namespace alx::augment {

/// Interpolation names accepted by every option called `interpolation`:
/// nearest, linear, cubic, area, lanczos.
const std::vector<std::string>& interpolation_names();

// ---------------------------------------------------------------- geometry

struct ResizeOptions {
  ALX_ARG(int, height) = 0;
  ALX_ARG(int, width) = 0;
  ALX_ARG(int, size) = 0;
  ALX_ARG(int, max_size) = 0;
  ALX_ARG(std::string, interpolation) = "linear";

 public:
  template <class V>
  void visit(V&& v) {
    v("height", height_, "exact output height (with width)", Range::at_least(0));
    v("width", width_, "exact output width (with height)", Range::at_least(0));
    v("size", size_, "shorter side after resizing, aspect kept (instead of height/width)",
      Range::at_least(0));
    v("max_size", max_size_, "with size: cap on the longer side (0: none)", Range::at_least(0));
    v("interpolation", interpolation_, "nearest, linear, cubic, area or lanczos");
  }
};
/// "resize": exact (height, width), or shorter side = size keeping the aspect ratio.
class Resize : public Transform {
 public:
  explicit Resize(ResizeOptions o = ResizeOptions().size(256));
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "resize"; }
  YAML::Node params() const override;

 private:
  ResizeOptions o_;
};

struct CropOptions {
  ALX_ARG(int, height) = 224;
  ALX_ARG(int, width) = 224;
  ALX_ARG(double, fill) = 0;

 public:
  template <class V>
  void visit(V&& v) {
    v("height", height_, "output height", Range::at_least(1));
    v("width", width_, "output width", Range::at_least(1));
    v("fill", fill_, "value of padded pixels when the image is smaller than the crop");
  }
};
/// "center_crop": the central height×width window; pads with `fill` where the image is
/// smaller (torchvision CenterCrop).
class CenterCrop : public Transform {
 public:
  explicit CenterCrop(CropOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "center_crop"; }
  YAML::Node params() const override;

 private:
  CropOptions o_;
};

struct RandomCropOptions {
  ALX_ARG(int, height) = 224;
  ALX_ARG(int, width) = 224;
  ALX_ARG(bool, pad_if_needed) = false;
  ALX_ARG(double, fill) = 0;

 public:
  template <class V>
  void visit(V&& v) {
    v("height", height_, "output height", Range::at_least(1));
    v("width", width_, "output width", Range::at_least(1));
    v("pad_if_needed", pad_if_needed_, "pad (centered) images smaller than the crop instead of failing");
    v("fill", fill_, "value of padded pixels");
  }
};
/// "random_crop": a uniformly placed height×width window.
class RandomCrop : public Transform {
 public:
  explicit RandomCrop(RandomCropOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "random_crop"; }
  YAML::Node params() const override;

 private:
  RandomCropOptions o_;
};

struct RandomResizedCropOptions {
  ALX_ARG(int, height) = 224;
  ALX_ARG(int, width) = 224;
  ALX_ARG(std::vector<double>, scale) = std::vector<double>{0.08, 1.0};
  ALX_ARG(std::vector<double>, ratio) = std::vector<double>{3.0 / 4.0, 4.0 / 3.0};
  ALX_ARG(std::string, interpolation) = "linear";

 public:
  template <class V>
  void visit(V&& v) {
    v("height", height_, "output height", Range::at_least(1));
    v("width", width_, "output width", Range::at_least(1));
    v("scale", scale_, "[min, max] fraction of the image area to crop", Range::positive());
    v("ratio", ratio_, "[min, max] aspect ratio (width / height) of the crop, log-uniform",
      Range::positive());
    v("interpolation", interpolation_, "nearest, linear, cubic, area or lanczos");
  }
};
/// "random_resized_crop": torchvision's RandomResizedCrop (10 tries, then a center crop
/// with the ratio clamped to the allowed range), resized to height×width.
class RandomResizedCrop : public Transform {
 public:
  explicit RandomResizedCrop(RandomResizedCropOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "random_resized_crop"; }
  YAML::Node params() const override;
  /// The crop window chosen for a width×height image (exposed for tests).
  cv::Rect window(cv::Size image, std::mt19937_64& rng) const;

 private:
  RandomResizedCropOptions o_;
};

struct PadOptions {
  ALX_ARG(std::vector<int>, padding) = std::vector<int>{4};
  ALX_ARG(double, fill) = 0;
  ALX_ARG(std::string, mode) = "constant";

 public:
  template <class V>
  void visit(V&& v) {
    v("padding", padding_,
      "[all], [left/right, top/bottom] or [left, top, right, bottom] pixels (torchvision Pad)",
      Range::at_least(0));
    v("fill", fill_, "value of padded pixels (mode constant)");
    v("mode", mode_, "constant, edge, reflect or symmetric");
  }
};
/// "pad": adds borders; objects move by (left, top).
class Pad : public Transform {
 public:
  explicit Pad(PadOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "pad"; }
  YAML::Node params() const override;

 private:
  PadOptions o_;
  int left_ = 0, top_ = 0, right_ = 0, bottom_ = 0, border_ = 0;
};

struct FlipOptions {
  ALX_ARG(double, p) = 0.5;

 public:
  template <class V>
  void visit(V&& v) {
    v("p", p_, "probability of flipping", Range::probability());
  }
};
/// "hflip": mirrors left–right with probability p.
class HorizontalFlip : public Transform {
 public:
  explicit HorizontalFlip(FlipOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "hflip"; }
  YAML::Node params() const override;

 private:
  FlipOptions o_;
};
/// "vflip": mirrors top–bottom with probability p.
class VerticalFlip : public Transform {
 public:
  explicit VerticalFlip(FlipOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "vflip"; }
  YAML::Node params() const override;

 private:
  FlipOptions o_;
};

struct RotateOptions {
  ALX_ARG(std::vector<double>, degrees) = std::vector<double>{-10.0, 10.0};
  ALX_ARG(bool, expand) = false;
  ALX_ARG(std::string, interpolation) = "linear";
  ALX_ARG(double, fill) = 0;

 public:
  template <class V>
  void visit(V&& v) {
    v("degrees", degrees_, "[min, max] angle, counter-clockwise, uniform");
    v("expand", expand_, "grow the output to hold the whole rotated image");
    v("interpolation", interpolation_, "nearest, linear, cubic, area or lanczos");
    v("fill", fill_, "value of pixels from outside the image");
  }
};
/// "rotate": rotation about the image center by an angle drawn from `degrees`
/// (counter-clockwise as displayed, like torchvision and cv::getRotationMatrix2D).
/// degrees [90, 90] with expand reproduces cv::rotate(…, ROTATE_90_COUNTERCLOCKWISE).
class Rotate : public Transform {
 public:
  explicit Rotate(RotateOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "rotate"; }
  YAML::Node params() const override;

 private:
  RotateOptions o_;
};

struct AffineOptions {
  ALX_ARG(std::vector<double>, degrees) = std::vector<double>{0.0, 0.0};
  ALX_ARG(std::vector<double>, translate) = std::vector<double>{0.0, 0.0};
  ALX_ARG(std::vector<double>, scale) = std::vector<double>{1.0, 1.0};
  ALX_ARG(std::vector<double>, shear) = std::vector<double>{0.0, 0.0};
  ALX_ARG(std::string, interpolation) = "linear";
  ALX_ARG(double, fill) = 0;

 public:
  template <class V>
  void visit(V&& v) {
    v("degrees", degrees_, "[min, max] rotation angle, counter-clockwise");
    v("translate", translate_,
      "[fx, fy]: shift drawn from [-fx·W, fx·W] and [-fy·H, fy·H]", Range::between(0, 1));
    v("scale", scale_, "[min, max] zoom factor", Range::positive());
    v("shear", shear_, "[min, max] shear angle along x, degrees", Range::between(-89, 89));
    v("interpolation", interpolation_, "nearest, linear, cubic, area or lanczos");
    v("fill", fill_, "value of pixels from outside the image");
  }
};
/// "affine": torchvision's RandomAffine about the image center: x' = C + T + R·Sh·S·(x − C).
class Affine : public Transform {
 public:
  explicit Affine(AffineOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "affine"; }
  YAML::Node params() const override;

 private:
  AffineOptions o_;
};

// ---------------------------------------------------------------- photometric

/// The deterministic adjustments behind color_jitter (torchvision.transforms.functional).
/// 8-bit images saturate to [0, 255]; float images are clamped to [0, 1].
/// brightness: x·f.
cv::Mat adjust_brightness(const cv::Mat& image, double factor);
/// contrast: f·x + (1 − f)·mean(luma).
cv::Mat adjust_contrast(const cv::Mat& image, double factor);
/// saturation: f·x + (1 − f)·luma(x); 1-channel images are returned as they are.
cv::Mat adjust_saturation(const cv::Mat& image, double factor);
/// hue: rotates the hue by `shift` turns (−0.5 … 0.5) in HSV; 1-channel images unchanged.
cv::Mat adjust_hue(const cv::Mat& image, double shift);

struct ColorJitterOptions {
  ALX_ARG(double, brightness) = 0;
  ALX_ARG(double, contrast) = 0;
  ALX_ARG(double, saturation) = 0;
  ALX_ARG(double, hue) = 0;

 public:
  template <class V>
  void visit(V&& v) {
    v("brightness", brightness_, "factor drawn from [max(0, 1-b), 1+b]", Range::at_least(0));
    v("contrast", contrast_, "factor drawn from [max(0, 1-c), 1+c]", Range::at_least(0));
    v("saturation", saturation_, "factor drawn from [max(0, 1-s), 1+s]", Range::at_least(0));
    v("hue", hue_, "hue shift drawn from [-h, h], as a fraction of the color circle",
      Range::between(0, 0.5));
  }
};
/// "color_jitter": torchvision's ColorJitter — the four adjustments in a random order.
/// Saturation and hue leave 1-channel images unchanged.
class ColorJitter : public Transform {
 public:
  explicit ColorJitter(ColorJitterOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "color_jitter"; }
  YAML::Node params() const override;

 private:
  ColorJitterOptions o_;
};

struct GrayscaleOptions {
  ALX_ARG(double, p) = 1.0;
  ALX_ARG(int, channels) = 0;

 public:
  template <class V>
  void visit(V&& v) {
    v("p", p_, "probability of converting", Range::probability());
    v("channels", channels_, "output channels: 0 (as input), 1 or 3", Range::between(0, 3));
  }
};
/// "grayscale": luma (0.299 R + 0.587 G + 0.114 B), repeated to `channels`.
class Grayscale : public Transform {
 public:
  explicit Grayscale(GrayscaleOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "grayscale"; }
  YAML::Node params() const override;

 private:
  GrayscaleOptions o_;
};

struct GaussianBlurOptions {
  ALX_ARG(int, kernel_size) = 5;
  ALX_ARG(std::vector<double>, sigma) = std::vector<double>{0.1, 2.0};

 public:
  template <class V>
  void visit(V&& v) {
    v("kernel_size", kernel_size_, "odd kernel side", Range::at_least(1));
    v("sigma", sigma_, "[min, max] standard deviation, uniform", Range::positive());
  }
};
/// "gaussian_blur": torchvision's GaussianBlur (reflect-101 borders).
class GaussianBlur : public Transform {
 public:
  explicit GaussianBlur(GaussianBlurOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "gaussian_blur"; }
  YAML::Node params() const override;

 private:
  GaussianBlurOptions o_;
};

struct GaussianNoiseOptions {
  ALX_ARG(double, mean) = 0;
  ALX_ARG(double, sigma) = 0.1;

 public:
  template <class V>
  void visit(V&& v) {
    v("mean", mean_, "noise mean, in [0, 1] intensity units (×255 for 8-bit images)");
    v("sigma", sigma_, "noise standard deviation, same units", Range::at_least(0));
  }
};
/// "gaussian_noise": adds independent normal noise to every pixel and channel, clipped
/// to [0, 255] for 8-bit images and [0, 1] for float ones (torchvision v2 GaussianNoise).
class GaussianNoise : public Transform {
 public:
  explicit GaussianNoise(GaussianNoiseOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "gaussian_noise"; }
  YAML::Node params() const override;

 private:
  GaussianNoiseOptions o_;
};

struct RandomErasingOptions {
  ALX_ARG(double, p) = 0.5;
  ALX_ARG(std::vector<double>, scale) = std::vector<double>{0.02, 0.33};
  ALX_ARG(std::vector<double>, ratio) = std::vector<double>{0.3, 3.3};
  ALX_ARG(double, value) = 0;
  ALX_ARG(bool, random) = false;

 public:
  template <class V>
  void visit(V&& v) {
    v("p", p_, "probability of erasing", Range::probability());
    v("scale", scale_, "[min, max] fraction of the image area erased", Range::positive());
    v("ratio", ratio_, "[min, max] aspect ratio of the erased rectangle, log-uniform",
      Range::positive());
    v("value", value_, "fill value, in the image's own units (0–255 for 8-bit)");
    v("random", random_, "fill with noise instead (uniform 0–255 for 8-bit, N(0,1) for float)");
  }
};
/// "random_erasing": torchvision's RandomErasing (cutout); objects are kept.
class RandomErasing : public Transform {
 public:
  explicit RandomErasing(RandomErasingOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "random_erasing"; }
  YAML::Node params() const override;

 private:
  RandomErasingOptions o_;
};

struct NormalizeOptions {
  ALX_ARG(std::vector<double>, mean) = std::vector<double>{0.485, 0.456, 0.406};
  ALX_ARG(std::vector<double>, std) = std::vector<double>{0.229, 0.224, 0.225};

 public:
  template <class V>
  void visit(V&& v) {
    v("mean", mean_, "per-channel mean in [0, 1] units, RGB order (1 value: all channels)");
    v("std", std_, "per-channel standard deviation, RGB order (1 value: all channels)",
      Range::positive());
  }
};
/// "normalize": CV_32F output (x / 255 − mean) / std for 8-bit input, (x − mean) / std for
/// float input. mean/std are in RGB order (torchvision's ImageNet numbers work as
/// written) and are applied to the matching channels of the BGR image.
class Normalize : public Transform {
 public:
  explicit Normalize(NormalizeOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "normalize"; }
  YAML::Node params() const override;

 private:
  NormalizeOptions o_;
};

struct NoOptions {
 public:
  template <class V>
  void visit(V&&) {}
};
/// "to_float": CV_32F in [0, 1] (8-bit divided by 255; float kept). The loader's final
/// to_tensor step does the same to 8-bit images, so this is needed only before
/// float-only steps of your own.
class ToFloat : public Transform {
 public:
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "to_float"; }
};

struct FilterObjectsOptions {
  ALX_ARG(double, min_size) = 1.0;
  ALX_ARG(double, min_area) = 0.0;

 public:
  template <class V>
  void visit(V&& v) {
    v("min_size", min_size_, "drop objects whose box is narrower or lower than this (pixels)",
      Range::at_least(0));
    v("min_area", min_area_, "drop objects whose box area is below this (pixels²)",
      Range::at_least(0));
  }
};
/// "filter_objects": drops small objects left over by crops (torchvision v2
/// SanitizeBoundingBoxes, min_size 1 by default). The image is unchanged.
class FilterObjects : public Transform {
 public:
  explicit FilterObjects(FilterObjectsOptions o = {});
  void apply(Sample& s, std::mt19937_64& rng) const override;
  std::string name() const override { return "filter_objects"; }
  YAML::Node params() const override;

 private:
  FilterObjectsOptions o_;
};

}  // namespace alx::augment
