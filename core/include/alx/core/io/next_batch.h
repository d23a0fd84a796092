// alx/core/io/next_batch.h — the batch a round hands back to people, in rank order.
//
// Every writer (Label Studio tasks, CVAT XML, COCO results) takes the same NextBatch,
// so the loop fills it once:
//
//   alx::io::NextBatch batch;
//   batch.schema = pool.schema();
//   batch.model_version = "round-3";
//   batch.items.push_back({/*index=*/17, "imgs/a.png", "/data/upload/2/a.png", /*rank=*/0,
//                          /*uncertainty=*/1.61, /*predicted_label=*/2, /*confidence=*/0.21});
//   alx::io::write_label_studio_tasks("next_batch.json", batch, names);
#pragma once

#include <alx/core/annotation.h>
#include <alx/core/schema.h>

#include <cstdint>
#include <string>
#include <vector>

namespace alx::io {

/// Image size in pixels as the labeling tool recorded it; 0 × 0 when unknown.
struct ImageSize {
  int width = 0;
  int height = 0;
  bool known() const noexcept { return width > 0 && height > 0; }
  bool operator==(const ImageSize& o) const noexcept {
    return width == o.width && height == o.height;
  }
};

/// One item of the next batch.
struct BatchItem {
  int64_t index = -1;  ///< pool index
  std::string id;      ///< pool id
  /// Image reference to write back, as the labeling tool wrote it (e.g. the Label Studio
  /// `data.image`, the CVAT image name); the pool id when empty.
  std::string image;
  int rank = 0;              ///< 0 = label this one first
  double uncertainty = 0.0;  ///< the scorer's value (higher = more uncertain)
  int predicted_label = -1;  ///< class index in the batch schema, or -1 (no class prediction)
  double confidence = 0.0;   ///< probability of predicted_label, in [0, 1]
  std::vector<float> probabilities;  ///< [C] per-class probabilities, or empty
  std::vector<Object> objects;       ///< predicted objects in pixels (score = confidence)
  /// Needed to write objects as Label Studio percentages and CVAT image sizes.
  ImageSize size;
};

/// The items to label next, in rank order, with the class names their labels index.
struct NextBatch {
  Schema schema;
  std::string model_version;
  std::vector<BatchItem> items;
};

/// Checks what every writer relies on, before anything is written: ranks are
/// 0..K-1 in order, labels index the schema, numbers are finite, confidences and
/// object scores lie in [0, 1], probabilities have C entries, object boxes are
/// ordered. Throws alx::InvalidArgument naming the item (rank and id).
void validate(const NextBatch& batch);

}  // namespace alx::io
