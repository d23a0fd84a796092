// alx/core/io/label_studio.h — Label Studio JSON export in, tasks with predictions out.
//
//   auto ls = alx::io::read_label_studio("export.json",
//                                        LabelStudioOptions().images_root("/data/media"));
//   ... train, score, select ...
//   alx::io::write_label_studio_tasks("next_batch.json", batch, ls.names);
//
// Reading (https://labelstud.io/guide/export.html, "JSON"):
// - The file is a list of tasks, or one task object. A task without a "data" key is
//   itself the data (the "flat" form Label Studio imports).
// - The image is `data[data_key]`. data_key is LabelStudioOptions::data_key, else "image",
//   else the data key named by the first result's `to_name`, else the only string value
//   that looks like an image reference. A task with no image reference (a text task) is
//   refused, naming the task and its data keys.
// - Image references, resolved to a path relative to the images root:
//     /data/local-files/?d=<p>     → <p> (percent-decoded; Label Studio's local storage)
//     /data/upload/<project>/<f>   → <f>; when <f> is absent under the root but
//                                    upload/<project>/<f> (Label Studio's media folder)
//                                    or <f> without Label Studio's 8-hex "abcd1234-" prefix
//                                    exists, that one is used (recorded in the notes)
//     http(s)://, s3://, gs://, azure-blob:// → the URL's path without its host; then its
//                                    file name if only that exists. Nothing is downloaded.
//     /<p> (a path on the Label Studio server, e.g. "/image1") → <p>
//     anything else                → a path relative to the root
//   Absolute paths, ".." that leaves the root and symlinks pointing outside are refused
//   (alx::FormatError naming the file, the task and the reference), never opened.
// - Annotations: those with `was_cancelled: true` are ignored (noted). Of the rest, a
//   `ground_truth: true` one wins, else the most recent (`updated_at`, then
//   `created_at`, then the later in the list); choosing among several is noted.
// - Results: `choices` → the item's class label; `rectanglelabels` → an Object with the
//   box converted from percent to pixels with original_width/height (a rotated
//   rectangle keeps its bounding box, noted); `polygonlabels` → an Object with one
//   polygon and its bounding box. Other types (keypoints, brushes, text areas …) are
//   skipped and counted in the notes.
// - `predictions`: the one with LabelStudioOptions::model_version, else the last, is kept
//   per item in LabelStudioExport::predictions (objects carry the result's `score`,
//   else the prediction's `score`) for detection uncertainty (alx/core/io/detection.h).
// - Classes: discovered in order of appearance, or, with LabelStudioOptions::classes, a
//   fixed list where an unknown label is an error naming the task and the label.
//
// Writing (https://labelstud.io/guide/predictions.html): a list of tasks
//   {"data": {<data_key>: <original reference>, "alx_id", "alx_rank", "alx_uncertainty",
//             "alx_predicted", "alx_confidence", "alx_probabilities": {class: p, …}},
//    "predictions": [{"model_version", "score": <confidence>, "result": [...]}]}
// Label Studio's uncertainty ordering shows the LOWEST prediction score first, so the
// score is the model's confidence; rank and uncertainty also sit in `data` so people can
// sort on them in any edition. Results use the control and image tag names found in the
// export (LabelStudioNames) so Label Studio matches them to its labeling config.
#pragma once

#include <alx/core/dataset.h>
#include <alx/core/io/next_batch.h>
#include <alx/core/options.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace alx::io {

struct LabelStudioOptions {
  /// Folder the image references resolve against; empty = the export's folder.
  ALX_ARG(std::string, images_root);
  /// Refuse the export when an image is not found under the root (names task and file).
  ALX_ARG(bool, check_images) = true;
  /// Fixed class list; empty = discover classes from the export.
  ALX_ARG(std::vector<std::string>, classes);
  /// The task data key that holds the image; empty = detect (see the file comment).
  ALX_ARG(std::string, data_key);
  /// Several different choices for one image: false = error, true = keep the first (noted).
  ALX_ARG(bool, allow_multiple_labels) = false;
  /// Which prediction of a task to keep; empty = the last one.
  ALX_ARG(std::string, model_version);
  /// The project's labeling config XML (Settings → Labeling Interface → Code); when set,
  /// its classes are the fixed class list (unless `classes` is given) and its control
  /// and image tag names are used for writing, whatever the export holds.
  ALX_ARG(std::string, label_config);
  /// Images whose header claims more pixels than this are refused before decoding (naming
  /// the file and the item); see FileImageOptions::max_pixels.
  ALX_ARG(int64_t, max_pixels) = kDefaultMaxPixels;

 public:
  template <class V>
  void visit(V&& v) {
    v("images_root", images_root_, "folder the image references resolve against");
    v("check_images", check_images_, "refuse an export whose images are missing");
    v("classes", classes_, "fixed class list (empty: discover from the export)");
    v("data_key", data_key_, "task data key holding the image (empty: detect)");
    v("allow_multiple_labels", allow_multiple_labels_,
      "keep the first of several choices instead of refusing");
    v("model_version", model_version_, "prediction to read (empty: the last)");
    v("label_config", label_config_, "labeling config XML giving classes and tag names");
    v("max_pixels", max_pixels_, "refuse images whose header claims more pixels (before decoding)",
      Range::positive());
  }
};

/// The names Label Studio matches results against its labeling config with.
/// Defaults are those of Label Studio's image classification and object detection
/// templates; read_label_studio replaces them with the names found in the export.
struct LabelStudioNames {
  std::string choices_from_name = "choice";   ///< <Choices name=...>
  std::string rectangle_from_name = "label";  ///< <RectangleLabels name=...>
  std::string polygon_from_name = "label";    ///< <PolygonLabels name=...>
  std::string to_name = "image";              ///< <Image name=...>
  std::string data_key = "image";             ///< <Image value="$image">
};

/// What alx needs from a Label Studio labeling config.
struct LabelStudioConfig {
  /// The <Image> tag's name and `$value`, and the names of the Choices, RectangleLabels
  /// and PolygonLabels controls whose toName is that image ("" for a control the
  /// config lacks, so that no result is written for it).
  LabelStudioNames names;
  /// <Choice> / <Label> values of those controls in document order, each once.
  std::vector<std::string> classes;
};

/// Reads a labeling config such as
///   <View><Image name="image" value="$image"/>
///     <Choices name="choice" toName="image"><Choice value="cat"/>…</Choices></View>
/// Throws alx::FormatError when it is not XML, has no <Image>, or no supported control
/// is attached to the image (a text or audio project); alx::IoError when unreadable.
LabelStudioConfig read_label_studio_config(const std::string& path);

/// One task's prediction, as read.
struct LabelStudioPrediction {
  std::string model_version;
  std::optional<double> score;  ///< the prediction's score, if any
  int label = -1;               ///< class from a `choices` result, or -1
  std::vector<Object> objects;  ///< rectangles / polygons in pixels, score per object
};

struct LabelStudioExport {
  Dataset dataset;  ///< one item per task, in file order; ids = image paths under the root
  LabelStudioNames names;
  std::vector<int64_t> task_ids;        ///< per item: the task "id", or -1 when absent
  std::vector<std::string> image_refs;  ///< per item: data[data_key] as Label Studio wrote it
  std::vector<ImageSize> sizes;         ///< per item: original_width/height, when seen
  std::vector<bool> annotated;          ///< per item: a non-cancelled annotation was used
  std::vector<std::optional<LabelStudioPrediction>> predictions;  ///< per item
};

/// Reads a Label Studio JSON export (see the file comment). Streams the file: one task
/// is held in memory at a time. Throws alx::IoError (unreadable file), alx::FormatError
/// (not JSON, truncated, empty, no image reference, path escaping the root, unknown
/// label with a fixed class list, bad coordinates), each naming the file and the task.
LabelStudioExport read_label_studio(const std::string& path,
                                    const LabelStudioOptions& options = {});

/// Per item, the objects of its kept prediction (empty without one): the input of
/// image_uncertainties() (alx/core/io/detection.h) for a review queue of pre-labels.
std::vector<std::vector<Object>> prediction_objects(const LabelStudioExport& export_);

/// Path relative to an images root that a Label Studio image reference names, before
/// any root check: "/data/upload/3/ab12cd34-x.png" → "ab12cd34-x.png",
/// "/data/local-files/?d=imgs%2Fa.png" → "imgs/a.png", "https://h/p/a.png" → "p/a.png".
std::string label_studio_relative_path(const std::string& reference);

/// Writes the batch as Label Studio tasks with predictions (see the file comment).
/// A class prediction is written only when names.choices_from_name is set; boxes and
/// polygons need rectangle_from_name / polygon_from_name (InvalidArgument otherwise).
/// Validates everything first (validate(batch), image sizes for objects), then writes
/// to a temporary file renamed over `path`: a failure leaves no partial file.
void write_label_studio_tasks(const std::string& path, const NextBatch& batch,
                              const LabelStudioNames& names = {});

}  // namespace alx::io
