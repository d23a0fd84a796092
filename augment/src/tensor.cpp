#include <alx/augment/tensor.h>
#include <alx/core/error.h>

namespace alx::augment {

namespace {

template <class T>
void write_rows(const cv::Mat& image, float scale, float* out) {
  const int ch = image.channels(), h = image.rows, w = image.cols;
  const std::size_t plane = static_cast<std::size_t>(h) * w;
  // Destination plane of each source channel: BGR(A) → RGB(A).
  int dst[4] = {0, 1, 2, 3};
  if (ch >= 3) dst[0] = 2, dst[2] = 0;
  for (int r = 0; r < h; ++r) {
    const T* src = image.ptr<T>(r);
    float* row = out + static_cast<std::size_t>(r) * w;
    if (ch == 1) {
      for (int c = 0; c < w; ++c) row[c] = scale * static_cast<float>(src[c]);
      continue;
    }
    for (int k = 0; k < ch; ++k) {
      float* o = row + plane * static_cast<std::size_t>(dst[k]);
      for (int c = 0; c < w; ++c) o[c] = scale * static_cast<float>(src[c * ch + k]);
    }
  }
}

}  // namespace

void write_chw(const cv::Mat& image, float* out) {
  ALX_CHECK(!image.empty(), "to_tensor: the image is empty");
  const int ch = image.channels();
  ALX_CHECK(ch == 1 || ch == 3 || ch == 4, "to_tensor: images must have 1, 3 or 4 channels, got {}", ch);
  switch (image.depth()) {
    case CV_8U:
      write_rows<uint8_t>(image, 1.f / 255.f, out);
      break;
    case CV_32F:
      write_rows<float>(image, 1.f, out);
      break;
    default: {
      cv::Mat f;  // 16-bit images scale to [0, 1] like 8-bit ones; the rest as they are
      image.convertTo(f, CV_MAKETYPE(CV_32F, ch), image.depth() == CV_16U ? 1.0 / 65535.0 : 1.0);
      write_rows<float>(f, 1.f, out);
    }
  }
}

torch::Tensor to_tensor(const cv::Mat& image) {
  ALX_CHECK(!image.empty(), "to_tensor: the image is empty");
  auto t = torch::empty({image.channels(), image.rows, image.cols}, torch::kFloat32);
  write_chw(image, t.data_ptr<float>());
  return t;
}

torch::Tensor stack(const std::vector<cv::Mat>& images) {
  ALX_CHECK(!images.empty(), "stack: no images");
  const cv::Mat& first = images.front();
  ALX_CHECK(!first.empty(), "stack: image 0 is empty");
  const int c = first.channels(), h = first.rows, w = first.cols;
  for (std::size_t i = 1; i < images.size(); ++i) {
    const cv::Mat& m = images[i];
    ALX_CHECK(m.rows == h && m.cols == w && m.channels() == c,
              "stack: image {} is {}×{}×{} (W×H×C) but image 0 is {}×{}×{}; a batch needs one size "
              "(add a resize or crop to the pipeline)",
              i, m.cols, m.rows, m.channels(), w, h, c);
  }
  auto t = torch::empty({static_cast<int64_t>(images.size()), c, h, w}, torch::kFloat32);
  float* data = t.data_ptr<float>();
  const std::size_t per = static_cast<std::size_t>(c) * h * w;
  for (std::size_t i = 0; i < images.size(); ++i) write_chw(images[i], data + i * per);
  return t;
}

}  // namespace alx::augment
