// alx/augment/tensor.h — cv::Mat ↔ torch::Tensor at the end of a pipeline.
//
// Channel order: OpenCV holds color images as BGR; tensors are RGB, as every
// torchvision-trained model expects. to_tensor and stack swap the order (BGRA → RGBA
// for 4 channels); 1-channel images give C = 1.
// Scaling: CV_8U pixels are divided by 255 and CV_16U by 65535 (→ [0, 1]); CV_32F pixels
// (e.g. after normalize) are copied as they are; other depths are converted as float.
#pragma once

#include <opencv2/core.hpp>
#include <torch/types.h>

#include <vector>

namespace alx::augment {

/// image: H×W with C = 1, 3 or 4 channels → [C, H, W] float32 (RGB order).
torch::Tensor to_tensor(const cv::Mat& image);

/// images: B images of equal size and channel count → [B, C, H, W] float32 (RGB order).
/// Throws alx::InvalidArgument naming the first image whose size differs from image 0.
torch::Tensor stack(const std::vector<cv::Mat>& images);

/// Writes image as [C, H, W] float32 into `out` (contiguous, C·H·W floats), RGB order.
void write_chw(const cv::Mat& image, float* out);

}  // namespace alx::augment
