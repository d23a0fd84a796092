// alx/core/io/cvat.h — CVAT for images 1.1 XML in, pre-annotations out.
//
//   auto cvat = alx::io::read_cvat("annotations.xml");
//   ...
//   alx::io::write_cvat("next_batch.xml", batch);
//
// Reading (https://docs.cvat.ai/docs/manual/advanced/xml_format/):
// - Task exports (`<meta><task>`) and project exports (`<meta><project>`, images with a
//   `subset` attribute). In a project export the item id and image path are
//   "<subset>/<name>" (CVAT's images/<subset>/<name> layout), since one name may appear
//   in several subsets.
// - Images root: CvatOptions::images_root, else "<export folder>/images" when it exists
//   (CVAT's dataset zip), else the export folder. Paths escaping the root are refused.
// - Classes: the labels declared in `<meta>…<labels>`, in order, then labels used but not
//   declared (noted: CVAT's own documentation example tags an undeclared "good_frame").
//   With CvatOptions::classes, a fixed list: an unknown label is an error.
// - `<tag label=…>` → the image's class label. Several different tags: an error, or the
//   first kept with allow_multiple_labels (noted).
// - `<box>` → Object with its box; `<polygon>` → Object with one polygon and its box.
//   `<polyline>`, `<points>`, `<ellipse>`, `<mask>`, `<cuboid>`, `<skeleton>` and shapes
//   with an empty label are skipped and counted in the notes. A "score" attribute
//   (`<attribute name="score">`) becomes the object's score.
//
// Writing: one `<image>` per batch item in rank order (id = rank), a `<tag>` with the
// predicted class and the predicted objects as `<box>` / `<polygon>`, all with
// `source="auto"` and a score attribute. The score attribute is declared for every label
// in `<meta><task><labels>` (a number in [0, 1]), as CVAT requires before it imports an
// attribute.
#pragma once

#include <alx/core/dataset.h>
#include <alx/core/io/next_batch.h>
#include <alx/core/options.h>

#include <cstdint>
#include <string>
#include <vector>

namespace alx::io {

struct CvatOptions {
  /// Folder image names resolve against; empty = "<export folder>/images" or the folder.
  ALX_ARG(std::string, images_root);
  /// Refuse the export when an image is not found under the root.
  ALX_ARG(bool, check_images) = true;
  /// Fixed class list; empty = the declared labels (then undeclared ones, noted).
  ALX_ARG(std::vector<std::string>, classes);
  /// Several different tags on one image: false = error, true = keep the first (noted).
  ALX_ARG(bool, allow_multiple_labels) = false;
  /// Images whose header claims more pixels than this are refused before decoding (naming
  /// the file and the item); see FileImageOptions::max_pixels.
  ALX_ARG(int64_t, max_pixels) = kDefaultMaxPixels;

 public:
  template <class V>
  void visit(V&& v) {
    v("images_root", images_root_, "folder the image names resolve against");
    v("check_images", check_images_, "refuse an export whose images are missing");
    v("classes", classes_, "fixed class list (empty: the export's labels)");
    v("allow_multiple_labels", allow_multiple_labels_,
      "keep the first of several tags instead of refusing");
    v("max_pixels", max_pixels_, "refuse images whose header claims more pixels (before decoding)",
      Range::positive());
  }
};

struct CvatExport {
  Dataset dataset;                   ///< one item per <image>, in file order
  std::vector<std::string> names;    ///< per item: the `name` attribute
  std::vector<std::string> subsets;  ///< per item: the `subset` attribute, or empty
  std::vector<int64_t> frames;       ///< per item: the `id` attribute
  std::vector<ImageSize> sizes;      ///< per item: width / height attributes
};

/// Reads CVAT for images 1.1 XML (see the file comment). Throws alx::IoError (unreadable
/// file) or alx::FormatError (malformed or truncated XML, not CVAT for images, bad
/// coordinates, unknown label, path escaping the root), naming the file and the image.
CvatExport read_cvat(const std::string& path, const CvatOptions& options = {});

struct CvatWriteOptions {
  ALX_ARG(std::string, task_name) = "alx next batch";
  /// Name of the declared number attribute that carries the confidence.
  ALX_ARG(std::string, score_attribute) = "score";
};

/// Writes the batch as CVAT for images 1.1 pre-annotations (see the file comment).
/// Validates first, writes a temporary file and renames it over `path`.
void write_cvat(const std::string& path, const NextBatch& batch,
                const CvatWriteOptions& options = {});

}  // namespace alx::io
