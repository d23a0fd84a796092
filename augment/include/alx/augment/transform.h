// alx/augment/transform.h — one augmentation step: an image (and the objects drawn on
// it) in, the transformed image and objects out, with an explicit random generator.
//
//   alx::augment::Sample s{image, objects};
//   std::mt19937_64 rng(7);
//   HorizontalFlip(FlipOptions().p(1.0)).apply(s, rng);  // s.image and s.objects flipped
//
// Conventions shared by every transform:
// - Images are cv::Mat with 1 or 3 channels (BGR, as OpenCV decodes), CV_8U or CV_32F.
//   CV_32F images are taken to hold intensities in [0, 1] (after to_float) or, after
//   normalize, standardized values; photometric transforms expect [0, 1].
// - The input Mat may be shared (a view into a MemoryImageSource): a transform never
//   writes into s.image's pixels, it assigns a new Mat.
// - Coordinates are continuous pixels: pixel (c, r) covers [c, c+1) × [r, r+1), so a box
//   around the whole W×H image is (0, 0, W, H). Boxes are xyxy (alx::Box).
// - Geometric transforms move boxes and polygons with the image, clip them to the new
//   image and drop objects that end up empty (zero width or height, or no polygon left).
//   Objects with polygons get the bounding box of their clipped polygons; box-only
//   objects get the bounding box of their transformed corners (Albumentations'
//   and torchvision v2's rule). filter_objects drops small remnants (min_size).
#pragma once

#include <alx/core/annotation.h>

#include <opencv2/core.hpp>
#include <yaml-cpp/yaml.h>

#include <random>
#include <string>
#include <vector>

namespace alx::augment {

/// What flows through a pipeline: an image and the objects labeled on it (may be empty).
struct Sample {
  cv::Mat image;
  std::vector<alx::Object> objects;
};

/// One step of augmentation. Implementations are immutable after construction, so one
/// instance is shared by all worker threads; all randomness comes from `rng`.
class Transform {
 public:
  virtual ~Transform();
  /// Transforms s.image and s.objects in place (assigning new Mats).
  virtual void apply(Sample& s, std::mt19937_64& rng) const = 0;
  /// The registry name ("hflip", "random_resized_crop", …).
  virtual std::string name() const = 0;
  /// The parameters, as a YAML mapping that make_transform(name(), params()) accepts.
  virtual YAML::Node params() const;

  /// Convenience: transforms an image alone.
  cv::Mat apply_image(const cv::Mat& image, std::mt19937_64& rng) const;
};

}  // namespace alx::augment
