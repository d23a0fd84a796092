#include <alx/core/error.h>
#include <alx/core/image_source.h>
#include <alx/core/io/coco.h>

#include "io/formats_detail.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <unordered_map>

namespace alx::io {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

int64_t integer(const json& obj, const char* key, const std::string& file, const std::string& who) {
  auto it = obj.find(key);
  ALX_CHECK_FORMAT(it != obj.end() && (it->is_number_integer() ||
                                       (it->is_number_float() &&
                                        std::floor(it->get<double>()) == it->get<double>() &&
                                        std::fabs(it->get<double>()) < 9e15)),
                   "{}: {}: '{}' must be an integer{}", file, who, key,
                   it == obj.end() ? std::string(" (missing)") : ", got " + it->dump());
  return it->is_number_integer() ? it->get<int64_t>() : static_cast<int64_t>(it->get<double>());
}

struct CocoImage {
  int64_t id;
  std::string file_name;
  ImageSize size;
};

struct CocoAnnotation {
  std::string who;
  int64_t image_id = 0;
  int64_t category_id = 0;
  std::optional<Box> box;
  std::vector<Polygon> polygons;
  std::optional<float> score;
};

Box bounds(const std::vector<Polygon>& polys) {
  Box b{polys[0][0].x, polys[0][0].y, polys[0][0].x, polys[0][0].y};
  for (const Polygon& poly : polys)
    for (const Point& p : poly) {
      b.x1 = std::min(b.x1, p.x);
      b.y1 = std::min(b.y1, p.y);
      b.x2 = std::max(b.x2, p.x);
      b.y2 = std::max(b.y2, p.y);
    }
  return b;
}

/// Parses one annotation or result object into geometry (self-contained: no image needed).
CocoAnnotation parse_annotation(const json& a, const std::string& file, const std::string& who) {
  ALX_CHECK_FORMAT(a.is_object(), "{}: {}: expected an object, got {}", file, who, a.type_name());
  CocoAnnotation out;
  out.who = who;
  out.image_id = integer(a, "image_id", file, who);
  out.category_id = integer(a, "category_id", file, who);
  if (auto b = a.find("bbox"); b != a.end() && !b->is_null()) {
    ALX_CHECK_FORMAT(
        b->is_array() && b->size() == 4 &&
            std::all_of(b->begin(), b->end(), [](const json& v) { return v.is_number(); }),
        "{}: {}: 'bbox' must be [x, y, width, height]", file, who);
    const double x = (*b)[0].get<double>(), y = (*b)[1].get<double>();
    const double w = (*b)[2].get<double>(), h = (*b)[3].get<double>();
    ALX_CHECK_FORMAT(std::isfinite(w) && std::isfinite(h) && w >= 0 && h >= 0,
                     "{}: {}: bbox width and height must be >= 0, got {} x {}", file, who, w, h);
    out.box = Box{detail::checked_coordinate(x, file, who, "bbox x"),
                  detail::checked_coordinate(y, file, who, "bbox y"),
                  detail::checked_coordinate(x + w, file, who, "bbox x + width"),
                  detail::checked_coordinate(y + h, file, who, "bbox y + height")};
  }
  if (auto s = a.find("segmentation"); s != a.end() && !s->is_null()) {
    if (s->is_array()) {
      for (const json& ring : *s) {
        ALX_CHECK_FORMAT(ring.is_array() && ring.size() % 2 == 0 && ring.size() >= 6,
                         "{}: {}: a polygon must be a flat list of at least 3 x, y pairs", file,
                         who);
        Polygon poly;
        poly.reserve(ring.size() / 2);
        for (std::size_t k = 0; k < ring.size(); k += 2) {
          ALX_CHECK_FORMAT(ring[k].is_number() && ring[k + 1].is_number(),
                           "{}: {}: polygon coordinates must be numbers", file, who);
          poly.push_back({detail::checked_coordinate(ring[k].get<double>(), file, who, "x"),
                          detail::checked_coordinate(ring[k + 1].get<double>(), file, who, "y")});
        }
        out.polygons.push_back(std::move(poly));
      }
    } else if (s->is_object()) {
      auto size = s->find("size");
      auto counts = s->find("counts");
      ALX_CHECK_FORMAT(size != s->end() && size->is_array() && size->size() == 2 &&
                           (*size)[0].is_number_integer() && (*size)[1].is_number_integer() &&
                           counts != s->end(),
                       "{}: {}: an RLE segmentation needs 'size' [height, width] and 'counts'",
                       file, who);
      std::vector<int64_t> runs;
      if (counts->is_string()) {
        try {
          runs = rle_from_string(counts->get<std::string>());
        } catch (const FormatError& e) {
          ALX_THROW(FormatError, "{}: {}: {}", file, who, e.what());
        }
      } else {
        ALX_CHECK_FORMAT(counts->is_array(), "{}: {}: RLE 'counts' must be a list or a string",
                         file, who);
        runs.reserve(counts->size());
        for (const json& c : *counts) {
          ALX_CHECK_FORMAT(c.is_number_integer(), "{}: {}: RLE counts must be integers", file, who);
          runs.push_back(c.get<int64_t>());
        }
      }
      try {
        const RleExtent ext =
            rle_extent(runs, (*size)[0].get<int64_t>(), (*size)[1].get<int64_t>());
        if (!out.box && ext.area > 0) out.box = ext.box;
      } catch (const FormatError& e) {
        ALX_THROW(FormatError, "{}: {}: {}", file, who, e.what());
      }
    } else {
      ALX_THROW(FormatError, "{}: {}: 'segmentation' must be a list of polygons or an RLE object",
                file, who);
    }
  }
  if (!out.box && !out.polygons.empty()) out.box = bounds(out.polygons);
  if (auto s = a.find("score"); s != a.end() && !s->is_null()) {
    ALX_CHECK_FORMAT(s->is_number() && std::isfinite(s->get<double>()) && s->get<double>() >= 0 &&
                         s->get<double>() <= 1,
                     "{}: {}: 'score' must be a number in [0, 1], got {}", file, who, s->dump());
    out.score = static_cast<float>(s->get<double>());
  }
  return out;
}

std::string annotation_who(const json& a, std::size_t position) {
  if (a.is_object())
    if (auto id = a.find("id"); id != a.end() && id->is_number_integer())
      return fmt::format("annotation {}", id->get<int64_t>());
  return fmt::format("annotation #{} (position)", position);
}

template <class Callback>
void parse_stream(const std::string& path, const char* what, Callback&& callback, json* rest) {
  std::ifstream in(path, std::ios::binary);
  ALX_CHECK_IO(in.is_open(), "cannot open {} '{}'", what, path);
  detail::StreamProgress progress(in, path);
  auto with_progress = [&](int depth, json::parse_event_t event, json& parsed) {
    const bool keep = callback(depth, event, parsed);
    if (!keep) progress.update();
    return keep;
  };
  try {
    json j = json::parse(in, json::parser_callback_t(with_progress), true, false);
    if (rest) *rest = std::move(j);
  } catch (const json::parse_error& e) {
    ALX_THROW(FormatError, "{}: not valid JSON (truncated or corrupt?): {}", path, e.what());
  } catch (const json::out_of_range& e) {  // a number beyond double, e.g. 1E99999
    ALX_THROW(FormatError, "{}: a number JSON cannot hold: {}", path, e.what());
  } catch (const json::exception& e) {  // any other: still name the file
    ALX_THROW(FormatError, "{}: {}", path, e.what());
  }
}

}  // namespace

CocoIds CocoIds::dense(int64_t num_items, int num_classes) {
  CocoIds ids;
  for (int64_t i = 0; i < num_items; ++i) ids.image_ids.push_back(i + 1);
  for (int c = 0; c < num_classes; ++c) ids.category_ids.push_back(c + 1);
  return ids;
}

RleExtent rle_extent(const std::vector<int64_t>& counts, int64_t height, int64_t width) {
  ALX_CHECK_FORMAT(
      height >= 0 && width >= 0 && height < (int64_t{1} << 31) && width < (int64_t{1} << 31),
      "RLE size {} x {} is not a usable mask size", height, width);
  const int64_t total = height * width;
  RleExtent ext;
  int64_t pos = 0, xmin = std::numeric_limits<int64_t>::max(), ymin = xmin, xmax = -1, ymax = -1;
  for (std::size_t k = 0; k < counts.size(); ++k) {
    const int64_t run = counts[k];
    ALX_CHECK_FORMAT(run >= 0 && run <= total - pos, "RLE run {} ({}) overflows the {} x {} mask",
                     k, run, height, width);
    if (k % 2 == 1 && run > 0) {  // a run of 1 pixels, column-major
      const int64_t first = pos, last = pos + run - 1;
      const int64_t c0 = first / height, c1 = last / height;
      xmin = std::min(xmin, c0);
      xmax = std::max(xmax, c1);
      if (c0 == c1) {
        ymin = std::min(ymin, first % height);
        ymax = std::max(ymax, last % height);
      } else {
        ymin = 0;
        ymax = height - 1;
      }
      ext.area += run;
    }
    pos += run;
  }
  if (ext.area > 0)
    ext.box = {static_cast<float>(xmin), static_cast<float>(ymin), static_cast<float>(xmax + 1),
               static_cast<float>(ymax + 1)};
  return ext;
}

std::vector<int64_t> rle_from_string(const std::string& s) {
  std::vector<int64_t> counts;
  std::size_t p = 0;
  while (p < s.size()) {
    int64_t x = 0;
    int k = 0;
    bool more = true;
    while (more) {
      ALX_CHECK_FORMAT(p < s.size(), "compressed RLE string ends inside a number");
      const int c = static_cast<unsigned char>(s[p]) - 48;
      ALX_CHECK_FORMAT(c >= 0 && c < 64, "compressed RLE string holds an invalid character at {}",
                       p);
      ALX_CHECK_FORMAT(k < 12, "compressed RLE string holds a number too large at {}", p);
      x |= static_cast<int64_t>(c & 0x1f) << (5 * k);
      more = (c & 0x20) != 0;
      ++p;
      ++k;
      if (!more && (c & 0x10)) x |= static_cast<int64_t>(~uint64_t{0} << (5 * k));
    }
    if (counts.size() > 2) {
      const int64_t prev = counts[counts.size() - 2];
      ALX_CHECK_FORMAT((x >= 0 || prev >= -x) && x < (int64_t{1} << 62) - prev,
                       "compressed RLE string: run out of range");
      x += prev;
    }
    counts.push_back(x);
  }
  return counts;
}

CocoExport read_coco(const std::string& path, const CocoOptions& options) {
  const std::string& file = path;
  std::vector<CocoImage> images;
  std::vector<std::pair<int64_t, std::string>> categories;
  std::vector<CocoAnnotation> annotations;
  bool is_object = false, has_images = false;
  std::string key;
  std::size_t n_ann = 0;
  // Stream: images, categories and annotations are turned into compact structs as
  // they are parsed and dropped from the JSON tree.
  auto cb = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
    if (depth == 0) {
      if (event == json::parse_event_t::object_start)
        is_object = true;
      else if (event == json::parse_event_t::array_start)
        ALX_THROW(FormatError,
                  "{}: a JSON list, not a COCO instances object (a results file? read it "
                  "with read_coco_results)",
                  file);
      return true;
    }
    if (!is_object) return true;
    if (depth == 1 && event == json::parse_event_t::key) {
      key = parsed.get<std::string>();
      if (key == "images") has_images = true;
      return true;
    }
    if (depth != 2 ||
        (event != json::parse_event_t::object_end && event != json::parse_event_t::value &&
         event != json::parse_event_t::array_end))
      return true;
    if (key == "images") {
      const std::string who = fmt::format("image #{} (position)", images.size());
      ALX_CHECK_FORMAT(parsed.is_object(), "{}: {}: expected an object", file, who);
      CocoImage im;
      im.id = integer(parsed, "id", file, who);
      const std::string iwho = fmt::format("image {}", im.id);
      auto fn = parsed.find("file_name");
      ALX_CHECK_FORMAT(fn != parsed.end() && fn->is_string() && !fn->get<std::string>().empty(),
                       "{}: {}: 'file_name' must be a non-empty string", file, iwho);
      im.file_name = fn->get<std::string>();
      auto w = parsed.find("width"), h = parsed.find("height");
      if (w != parsed.end() && h != parsed.end() && w->is_number() && h->is_number() &&
          w->get<double>() >= 1 && h->get<double>() >= 1 && w->get<double>() < 1e7 &&
          h->get<double>() < 1e7)
        im.size = {static_cast<int>(w->get<double>()), static_cast<int>(h->get<double>())};
      images.push_back(std::move(im));
      return false;
    }
    if (key == "categories") {
      const std::string who = fmt::format("category #{} (position)", categories.size());
      ALX_CHECK_FORMAT(parsed.is_object(), "{}: {}: expected an object", file, who);
      const int64_t id = integer(parsed, "id", file, who);
      auto name = parsed.find("name");
      ALX_CHECK_FORMAT(
          name != parsed.end() && name->is_string() && !name->get<std::string>().empty(),
          "{}: category {}: 'name' must be a non-empty string", file, id);
      categories.emplace_back(id, name->get<std::string>());
      return false;
    }
    if (key == "annotations") {
      annotations.push_back(parse_annotation(parsed, file, annotation_who(parsed, n_ann++)));
      return false;
    }
    return true;
  };
  parse_stream(path, "COCO file", cb, nullptr);
  ALX_CHECK_FORMAT(is_object && has_images, "{}: no 'images' list; not a COCO instances file",
                   file);
  ALX_CHECK_FORMAT(!images.empty(), "{}: the file holds no images", file);

  CocoExport out;
  detail::LabelMap labels(options.classes());
  std::unordered_map<int64_t, int> class_of;
  for (const auto& [id, name] : categories) {
    const int c = labels.get(name, file, fmt::format("category {}", id));
    ALX_CHECK_FORMAT(class_of.emplace(id, c).second, "{}: category id {} appears twice", file, id);
  }
  out.ids.category_ids.assign(static_cast<std::size_t>(labels.schema().size()), -1);
  for (const auto& [id, name] : categories) {
    auto& slot = out.ids.category_ids[static_cast<std::size_t>(class_of[id])];
    if (slot < 0)
      slot = id;
    else
      out.dataset.notes.push_back(fmt::format(
          "categories {} and {} share the name '{}'; both map to one class", slot, id, name));
  }

  fs::path root =
      options.images_root().empty() ? detail::folder_of(path) : fs::path(options.images_root());
  std::unordered_map<int64_t, int64_t> index_of;
  std::unordered_map<std::string, int64_t> by_name;
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const CocoImage& im = images[i];
    const std::string who = fmt::format("image {} '{}'", im.id, im.file_name);
    ALX_CHECK_FORMAT(index_of.emplace(im.id, static_cast<int64_t>(i)).second,
                     "{}: image id {} appears twice", file, im.id);
    const bool exists = detail::check_under_root(root, im.file_name, file, who);
    if (auto [it, inserted] = by_name.emplace(im.file_name, im.id); !inserted)
      ALX_THROW(FormatError, "{}: images {} and {} have the same file_name '{}'", file, it->second,
                im.id, im.file_name);
    if (options.check_images() && !exists)
      ALX_THROW(IoError, "{}: {}: image not found under '{}'", file, who, root.string());
    ids.push_back(im.file_name);
    out.ids.image_ids.push_back(im.id);
    out.sizes.push_back(im.size);
  }

  std::vector<int> item_labels(images.size(), -1);
  std::vector<std::vector<Object>> item_objects(images.size());
  for (CocoAnnotation& a : annotations) {
    auto im = index_of.find(a.image_id);
    ALX_CHECK_FORMAT(im != index_of.end(), "{}: {}: image_id {} is not in 'images'", file, a.who,
                     a.image_id);
    auto cat = class_of.find(a.category_id);
    ALX_CHECK_FORMAT(cat != class_of.end(), "{}: {}: category_id {} is not in 'categories'", file,
                     a.who, a.category_id);
    const auto i = static_cast<std::size_t>(im->second);
    if (!a.box) {  // Datumaro's "labels" variant: an image-level class
      int& label = item_labels[i];
      if (label < 0) {
        label = cat->second;
      } else if (label != cat->second) {
        ALX_CHECK_FORMAT(
            options.allow_multiple_labels(),
            "{}: image {} '{}': several image labels ('{}', '{}'); alx keeps one class "
            "per image (allow_multiple_labels keeps the first)",
            file, a.image_id, images[i].file_name, labels.schema().name(label),
            labels.schema().name(cat->second));
        out.dataset.notes.push_back(
            fmt::format("image {} '{}': several image labels, kept '{}', "
                        "dropped '{}' ({})",
                        a.image_id, images[i].file_name, labels.schema().name(label),
                        labels.schema().name(cat->second), a.who));
      }
      continue;
    }
    Object obj;
    obj.label = cat->second;
    obj.box = *a.box;
    obj.polygons = std::move(a.polygons);
    if (a.score) obj.score = *a.score;
    item_objects[i].push_back(std::move(obj));
  }

  auto notes = std::move(out.dataset.notes);
  out.dataset = detail::make_dataset(labels.schema(), ids, item_labels, std::move(item_objects),
                                     root, path, options.max_pixels());
  out.dataset.notes = std::move(notes);
  return out;
}

std::vector<std::vector<Object>> read_coco_results(const std::string& path, const CocoIds& ids) {
  const std::string& file = path;
  std::unordered_map<int64_t, std::size_t> index_of, class_of;
  for (std::size_t i = 0; i < ids.image_ids.size(); ++i) index_of.emplace(ids.image_ids[i], i);
  for (std::size_t c = 0; c < ids.category_ids.size(); ++c)
    class_of.emplace(ids.category_ids[c], c);
  std::vector<std::vector<Object>> out(ids.image_ids.size());
  bool is_list = false;
  std::size_t n = 0;
  auto cb = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
    if (depth == 0) {
      if (event == json::parse_event_t::array_start)
        is_list = true;
      else if (event == json::parse_event_t::object_start || event == json::parse_event_t::value)
        ALX_THROW(FormatError,
                  "{}: not a COCO results file: expected a list of "
                  "{{image_id, category_id, bbox, score}}",
                  file);
      return true;
    }
    if (depth != 1 ||
        (event != json::parse_event_t::object_end && event != json::parse_event_t::value &&
         event != json::parse_event_t::array_end))
      return true;
    const std::string who = fmt::format("result {}", n++);
    CocoAnnotation a = parse_annotation(parsed, file, who);
    ALX_CHECK_FORMAT(a.box.has_value(), "{}: {}: no 'bbox' and no segmentation", file, who);
    ALX_CHECK_FORMAT(a.score.has_value(), "{}: {}: no 'score'", file, who);
    auto im = index_of.find(a.image_id);
    ALX_CHECK_FORMAT(im != index_of.end(), "{}: {}: image_id {} is not in the dataset", file, who,
                     a.image_id);
    auto cat = class_of.find(a.category_id);
    ALX_CHECK_FORMAT(cat != class_of.end(), "{}: {}: category_id {} is not in the dataset", file,
                     who, a.category_id);
    Object obj;
    obj.label = static_cast<int>(cat->second);
    obj.box = *a.box;
    obj.polygons = std::move(a.polygons);
    obj.score = *a.score;
    out[im->second].push_back(std::move(obj));
    return false;
  };
  parse_stream(path, "COCO results file", cb, nullptr);
  ALX_CHECK_FORMAT(is_list, "{}: empty file; expected a COCO results list", file);
  return out;
}

void write_coco_results(const std::string& path, const NextBatch& batch, const CocoIds& ids) {
  validate(batch);
  ALX_CHECK(ids.category_ids.size() >= static_cast<std::size_t>(batch.schema.size()),
            "COCO ids: {} category ids for {} classes", ids.category_ids.size(),
            batch.schema.size());
  json results = json::array();
  for (const BatchItem& it : batch.items) {
    ALX_CHECK(it.index >= 0 && static_cast<std::size_t>(it.index) < ids.image_ids.size(),
              "next batch rank {} ('{}'): index {} has no COCO image id ({} images)", it.rank,
              it.id, it.index, ids.image_ids.size());
    for (const Object& obj : it.objects) {
      json r{{"image_id", ids.image_ids[static_cast<std::size_t>(it.index)]},
             {"category_id", ids.category_ids[static_cast<std::size_t>(obj.label)]},
             {"bbox", {obj.box.x1, obj.box.y1, obj.box.width(), obj.box.height()}},
             {"score", obj.score}};
      if (!obj.polygons.empty()) {
        json segm = json::array();
        for (const Polygon& poly : obj.polygons) {
          json ring = json::array();
          for (const Point& p : poly) {
            ring.push_back(p.x);
            ring.push_back(p.y);
          }
          segm.push_back(std::move(ring));
        }
        r["segmentation"] = std::move(segm);
      }
      results.push_back(std::move(r));
    }
  }
  detail::write_atomic(path, results.dump(2) + "\n");
}

}  // namespace alx::io
