#include <alx/augment/transform.h>

namespace alx::augment {

Transform::~Transform() = default;

YAML::Node Transform::params() const { return YAML::Node(YAML::NodeType::Map); }

cv::Mat Transform::apply_image(const cv::Mat& image, std::mt19937_64& rng) const {
  Sample s{image, {}};
  apply(s, rng);
  return s.image;
}

}  // namespace alx::augment
