// alx/core/io/coco.h — COCO instances in, COCO results in and out.
//
//   auto coco = alx::io::read_coco("annotations/instances_train.json",
//                                  CocoOptions().images_root("images/train"));
//   auto predicted = alx::io::read_coco_results("detections.json", coco);  // [N] objects
//   auto u = alx::io::image_uncertainties(predicted);                      // detection.h
//
// Reading instances (https://cocodataset.org/#format-data):
// - `images` → items in file order; id and path = `file_name` under the images root
//   (CocoOptions::images_root, else the file's folder). Paths escaping it are refused.
// - `categories` → classes in file order; ids need not be contiguous (1, 2, 4 …):
//   CocoExport::ids maps them. With CocoOptions::classes every category must be listed.
// - `annotations`: `bbox` [x, y, w, h] → Object box; polygon `segmentation` → polygons;
//   RLE `segmentation` (`counts` as a list, or as COCO's compressed string) → the box of
//   the mask when `bbox` is absent (the RLE is decoded run by run, never into a mask).
//   An annotation with neither (Datumaro's "labels" variant) is an image-level class
//   label; several different ones on one image: an error, or the first kept with
//   allow_multiple_labels (noted). `iscrowd` may be 0/1, true/false or "true"/"false"
//   (COCO-Annotator writes strings); extra keys are ignored.
// - A `score` on an annotation becomes the object's score.
//
// Results files are a list of {image_id, category_id, bbox, score[, segmentation]}.
#pragma once

#include <alx/core/annotation.h>
#include <alx/core/dataset.h>
#include <alx/core/io/next_batch.h>
#include <alx/core/options.h>

#include <cstdint>
#include <string>
#include <vector>

namespace alx::io {

struct CocoOptions {
  /// Folder `file_name`s resolve against; empty = the file's folder.
  ALX_ARG(std::string, images_root);
  /// Refuse the file when an image is not found under the root.
  ALX_ARG(bool, check_images) = true;
  /// Fixed class list; empty = the file's categories.
  ALX_ARG(std::vector<std::string>, classes);
  /// Several image-level labels on one image: false = error, true = first kept (noted).
  ALX_ARG(bool, allow_multiple_labels) = false;
  /// Images whose header claims more pixels than this are refused before decoding (naming
  /// the file and the item); see FileImageOptions::max_pixels.
  ALX_ARG(int64_t, max_pixels) = kDefaultMaxPixels;

 public:
  template <class V>
  void visit(V&& v) {
    v("images_root", images_root_, "folder the file names resolve against");
    v("check_images", check_images_, "refuse a file whose images are missing");
    v("classes", classes_, "fixed class list (empty: the file's categories)");
    v("allow_multiple_labels", allow_multiple_labels_,
      "keep the first of several image labels instead of refusing");
    v("max_pixels", max_pixels_, "refuse images whose header claims more pixels (before decoding)",
      Range::positive());
  }
};

/// COCO ids of pool items and classes.
struct CocoIds {
  std::vector<int64_t> image_ids;     ///< per item
  std::vector<int64_t> category_ids;  ///< per class index
  /// Ids 1..n for items and classes that did not come from a COCO file.
  static CocoIds dense(int64_t num_items, int num_classes);
};

struct CocoExport {
  Dataset dataset;
  CocoIds ids;
  std::vector<ImageSize> sizes;  ///< per item: width / height
};

/// Reads a COCO instances file (see the file comment). Streams the file: annotations are
/// kept as compact structs, never as a JSON tree of the whole file. Throws alx::IoError
/// or alx::FormatError naming the file and the image / annotation.
CocoExport read_coco(const std::string& path, const CocoOptions& options = {});

/// Reads a COCO results file: per item of `ids`, the predicted objects (score from
/// `score`). Throws alx::FormatError for an unknown image_id / category_id, a missing
/// or out-of-range score, or a bad bbox, naming the file and the result index.
std::vector<std::vector<Object>> read_coco_results(const std::string& path, const CocoIds& ids);

/// Writes the batch's predicted objects as a COCO results list, in rank order (items
/// without objects add nothing). `ids` maps item.index and class indices to COCO ids.
/// Validates first, writes a temporary file and renames it over `path`.
void write_coco_results(const std::string& path, const NextBatch& batch, const CocoIds& ids);

/// Box and pixel count of an uncompressed COCO RLE mask (`counts` alternate 0-runs and
/// 1-runs, column-major, over height × width). Throws alx::FormatError when the runs
/// overflow the mask. `area` is the number of 1 pixels.
struct RleExtent {
  Box box;
  int64_t area = 0;
};
RleExtent rle_extent(const std::vector<int64_t>& counts, int64_t height, int64_t width);
/// Decodes COCO's compressed RLE string (pycocotools rleFrString) into counts.
std::vector<int64_t> rle_from_string(const std::string& compressed);

}  // namespace alx::io
