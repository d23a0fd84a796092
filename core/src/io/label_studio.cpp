#include <alx/core/error.h>
#include <alx/core/image_source.h>
#include <alx/core/io/label_studio.h>

#include "io/formats_detail.h"

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <unordered_map>

namespace alx::io {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr double kPi = 3.14159265358979323846;

/// %XX escapes; '+' is a space only in a query string (as Django decodes `?d=`).
std::string percent_decode(const std::string& s, bool plus_is_space = false) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

/// Label Studio prefixes uploaded files with 8 hex digits and a dash.
bool has_upload_prefix(const std::string& name) {
  if (name.size() < 10 || name[8] != '-') return false;
  return std::all_of(name.begin(), name.begin() + 8,
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::string url_path(const std::string& ref) {
  const auto scheme_end = ref.find("://");
  std::string rest = ref.substr(scheme_end + 3);
  const auto slash = rest.find('/');
  std::string path = slash == std::string::npos ? std::string() : rest.substr(slash + 1);
  const auto query = path.find_first_of("?#");
  if (query != std::string::npos) path.resize(query);
  return percent_decode(path);
}

bool is_url(const std::string& ref) {
  const auto p = ref.find("://");
  if (p == std::string::npos || p == 0) return false;
  return std::all_of(ref.begin(), ref.begin() + static_cast<std::ptrdiff_t>(p), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.';
  });
}

/// Paths under the root a reference may name, the primary one first.
std::vector<std::string> candidates(const std::string& ref) {
  std::vector<std::string> out{label_studio_relative_path(ref)};
  if (starts_with(ref, "/data/upload/")) {
    const std::string rest = ref.substr(std::string("/data/upload/").size());
    out.push_back("upload/" + rest);
    const std::string& file = out.front();
    const auto slash = file.rfind('/');
    const std::string base = slash == std::string::npos ? file : file.substr(slash + 1);
    if (has_upload_prefix(base)) {
      out.push_back((slash == std::string::npos ? "" : file.substr(0, slash + 1)) + base.substr(9));
    }
  } else if (is_url(ref)) {
    const std::string& p = out.front();
    const auto slash = p.rfind('/');
    if (slash != std::string::npos) out.push_back(p.substr(slash + 1));
  }
  return out;
}

bool looks_like_image_ref(const std::string& s) {
  if (starts_with(s, "/data/upload/") || starts_with(s, "/data/local-files/")) return true;
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto q = lower.find_first_of("?#");
  if (q != std::string::npos && !starts_with(lower, "/data/")) lower.resize(q);
  for (const char* ext :
       {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}) {
    const std::string e(ext);
    if (lower.size() > e.size() && lower.compare(lower.size() - e.size(), e.size(), e) == 0)
      return true;
  }
  return false;
}

std::string type_of(const json& j) { return j.type_name(); }

double number(const json& obj, const char* key, const std::string& file, const std::string& who) {
  auto it = obj.find(key);
  ALX_CHECK_FORMAT(it != obj.end() && it->is_number(), "{}: {}: '{}' must be a number{}", file, who,
                   key, it == obj.end() ? " (missing)" : ", got " + type_of(*it));
  const double v = it->get<double>();
  ALX_CHECK_FORMAT(std::isfinite(v), "{}: {}: '{}' is not finite", file, who, key);
  return v;
}

std::string string_or(const json& obj, const char* key, const std::string& fallback = {}) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

bool truthy(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_number()) return it->get<double>() != 0.0;
  if (it->is_string()) return it->get<std::string>() == "true" || it->get<std::string>() == "True";
  return false;
}

/// State of one read, across tasks.
struct Reader {
  std::string file;
  const LabelStudioOptions& options;
  fs::path root;
  detail::LabelMap labels;
  LabelStudioExport out;
  bool names_seen_choices = false, names_seen_rect = false, names_seen_poly = false,
       names_seen_to = false;
  std::string data_key;  // detected once, then required of every task
  std::vector<std::string> relative_paths;
  std::vector<int> item_labels;
  std::vector<std::vector<Object>> item_objects;
  std::unordered_map<std::string, std::string> seen_ids;  // pool id → task description
  int64_t position = 0;

  Reader(std::string f, const LabelStudioOptions& o, const std::optional<LabelStudioConfig>& config)
      : file(std::move(f)),
        options(o),
        labels(!o.classes().empty() || !config ? o.classes() : config->classes) {
    root =
        options.images_root().empty() ? detail::folder_of(file) : fs::path(options.images_root());
    if (config) {  // the config's names win over what the export shows
      out.names = config->names;
      names_seen_choices = names_seen_rect = names_seen_poly = names_seen_to = true;
      if (options.data_key().empty()) data_key = config->names.data_key;
    }
  }

  struct Parsed {
    int label = -1;
    std::vector<Object> objects;
    ImageSize size;
    std::map<std::string, int> skipped;  // result type → count
  };

  /// One label name from a list (choices, rectanglelabels …), applying the multi-label rule.
  int pick_label(const json& names, const std::string& who, const char* what) {
    ALX_CHECK_FORMAT(names.is_array() && !names.empty(), "{}: {}: '{}' must be a non-empty list",
                     file, who, what);
    int first = -1;
    std::string first_name;
    for (const json& n : names) {
      ALX_CHECK_FORMAT(n.is_string(), "{}: {}: '{}' holds a {}, expected label names", file, who,
                       what, type_of(n));
      const std::string name = n.get<std::string>();
      const int idx = labels.get(name, file, who);
      if (first < 0) {
        first = idx;
        first_name = name;
      } else if (idx != first) {
        ALX_CHECK_FORMAT(options.allow_multiple_labels(),
                         "{}: {}: several labels ('{}', '{}'); alx keeps one class per image or "
                         "region (allow_multiple_labels keeps the first)",
                         file, who, first_name, name);
        out.dataset.notes.push_back(
            fmt::format("{}: several labels, kept '{}' and dropped '{}'", who, first_name, name));
      }
    }
    return first;
  }

  ImageSize original_size(const json& r, const std::string& who, Parsed& p) {
    const double w = number(r, "original_width", file, who);
    const double h = number(r, "original_height", file, who);
    ALX_CHECK_FORMAT(w >= 1 && h >= 1 && w < 1e7 && h < 1e7,
                     "{}: {}: original size {} x {} is not a usable image size", file, who, w, h);
    ImageSize s{static_cast<int>(w), static_cast<int>(h)};
    if (!p.size.known()) p.size = s;
    return s;
  }

  Parsed parse_results(const json& results, const std::string& who, bool prediction,
                       std::optional<double> prediction_score) {
    Parsed p;
    ALX_CHECK_FORMAT(results.is_array(), "{}: {}: 'result' must be a list, got {}", file, who,
                     type_of(results));
    for (std::size_t k = 0; k < results.size(); ++k) {
      const json& r = results[k];
      const std::string rwho = fmt::format("{} result {}", who,
                                           r.is_object() && r.contains("id") && r["id"].is_string()
                                               ? "'" + r["id"].get<std::string>() + "'"
                                               : std::to_string(k));
      ALX_CHECK_FORMAT(r.is_object(), "{}: {}: expected an object, got {}", file, rwho, type_of(r));
      const std::string type = string_or(r, "type");
      const std::string from = string_or(r, "from_name");
      const std::string to = string_or(r, "to_name");
      auto vit = r.find("value");
      if (type != "choices" && type != "rectanglelabels" && type != "polygonlabels") {
        ++p.skipped[type.empty() ? "untyped" : type];
        continue;
      }
      ALX_CHECK_FORMAT(vit != r.end() && vit->is_object(), "{}: {}: 'value' must be an object",
                       file, rwho);
      const json& v = *vit;
      if (!to.empty() && !names_seen_to) {
        out.names.to_name = to;
        names_seen_to = true;
      }
      float score = 1.f;
      if (auto s = r.find("score"); s != r.end() && s->is_number()) {
        score = static_cast<float>(s->get<double>());
      } else if (prediction_score) {
        score = static_cast<float>(*prediction_score);
      }
      if (prediction)
        ALX_CHECK_FORMAT(std::isfinite(score) && score >= 0.f && score <= 1.f,
                         "{}: {}: score {} is outside [0, 1]", file, rwho, score);
      if (type == "choices") {
        if (!from.empty() && !names_seen_choices) {
          out.names.choices_from_name = from;
          names_seen_choices = true;
        }
        const auto cit = v.find("choices");
        ALX_CHECK_FORMAT(cit != v.end(), "{}: {}: 'value' has no 'choices'", file, rwho);
        const int label = pick_label(*cit, rwho, "choices");
        if (p.label < 0) {
          p.label = label;
        } else if (label != p.label) {
          ALX_CHECK_FORMAT(options.allow_multiple_labels(),
                           "{}: {}: a second choice ('{}' after '{}'); alx keeps one class per "
                           "image (allow_multiple_labels keeps the first)",
                           file, rwho, labels.schema().name(label), labels.schema().name(p.label));
          out.dataset.notes.push_back(
              fmt::format("{}: several choices, kept '{}'", rwho, labels.schema().name(p.label)));
        }
      } else if (type == "rectanglelabels") {
        if (!from.empty() && !names_seen_rect) {
          out.names.rectangle_from_name = from;
          names_seen_rect = true;
        }
        const ImageSize s = original_size(r, rwho, p);
        const auto lit = v.find("rectanglelabels");
        ALX_CHECK_FORMAT(lit != v.end(), "{}: {}: 'value' has no 'rectanglelabels'", file, rwho);
        Object obj;
        obj.label = pick_label(*lit, rwho, "rectanglelabels");
        obj.score = score;
        const double x = number(v, "x", file, rwho) * s.width / 100.0;
        const double y = number(v, "y", file, rwho) * s.height / 100.0;
        const double w = number(v, "width", file, rwho) * s.width / 100.0;
        const double h = number(v, "height", file, rwho) * s.height / 100.0;
        ALX_CHECK_FORMAT(w >= 0 && h >= 0, "{}: {}: negative width or height", file, rwho);
        double rot = 0.0;
        if (auto rit = v.find("rotation"); rit != v.end() && rit->is_number())
          rot = rit->get<double>();
        ALX_CHECK_FORMAT(std::isfinite(rot), "{}: {}: rotation is not finite", file, rwho);
        if (rot == 0.0) {
          obj.box = {detail::checked_coordinate(x, file, rwho, "x"),
                     detail::checked_coordinate(y, file, rwho, "y"),
                     detail::checked_coordinate(x + w, file, rwho, "x + width"),
                     detail::checked_coordinate(y + h, file, rwho, "y + height")};
        } else {
          // Label Studio rotates clockwise about the top-left corner; keep the bounding box.
          const double t = rot * kPi / 180.0, c = std::cos(t), sn = std::sin(t);
          const double xs[4] = {x, x + w * c, x + w * c - h * sn, x - h * sn};
          const double ys[4] = {y, y + w * sn, y + w * sn + h * c, y + h * c};
          obj.box = {detail::checked_coordinate(*std::min_element(xs, xs + 4), file, rwho, "x"),
                     detail::checked_coordinate(*std::min_element(ys, ys + 4), file, rwho, "y"),
                     detail::checked_coordinate(*std::max_element(xs, xs + 4), file, rwho, "x"),
                     detail::checked_coordinate(*std::max_element(ys, ys + 4), file, rwho, "y")};
          out.dataset.notes.push_back(
              fmt::format("{}: rectangle rotated by {} degrees, kept its axis-aligned bounding box",
                          rwho, rot));
        }
        p.objects.push_back(std::move(obj));
      } else {  // polygonlabels
        if (!from.empty() && !names_seen_poly) {
          out.names.polygon_from_name = from;
          names_seen_poly = true;
        }
        const ImageSize s = original_size(r, rwho, p);
        const auto lit = v.find("polygonlabels");
        ALX_CHECK_FORMAT(lit != v.end(), "{}: {}: 'value' has no 'polygonlabels'", file, rwho);
        const auto pit = v.find("points");
        ALX_CHECK_FORMAT(pit != v.end() && pit->is_array() && pit->size() >= 3,
                         "{}: {}: 'points' must be a list of at least 3 [x, y] pairs", file, rwho);
        Object obj;
        obj.label = pick_label(*lit, rwho, "polygonlabels");
        obj.score = score;
        Polygon poly;
        poly.reserve(pit->size());
        for (const json& pt : *pit) {
          ALX_CHECK_FORMAT(
              pt.is_array() && pt.size() == 2 && pt[0].is_number() && pt[1].is_number(),
              "{}: {}: a polygon point must be [x, y] in percent", file, rwho);
          poly.push_back(
              {detail::checked_coordinate(pt[0].get<double>() * s.width / 100.0, file, rwho, "x"),
               detail::checked_coordinate(pt[1].get<double>() * s.height / 100.0, file, rwho,
                                          "y")});
        }
        Box b{poly[0].x, poly[0].y, poly[0].x, poly[0].y};
        for (const Point& q : poly) {
          b.x1 = std::min(b.x1, q.x);
          b.y1 = std::min(b.y1, q.y);
          b.x2 = std::max(b.x2, q.x);
          b.y2 = std::max(b.y2, q.y);
        }
        obj.box = b;
        obj.polygons.push_back(std::move(poly));
        p.objects.push_back(std::move(obj));
      }
    }
    return p;
  }

  void note_skipped(const Parsed& p, const std::string& who) {
    for (const auto& [type, count] : p.skipped)
      out.dataset.notes.push_back(fmt::format(
          "{}: skipped {} '{}' result(s); alx reads choices, rectanglelabels and polygonlabels",
          who, count, type));
  }

  std::string detect_data_key(const json& data, const json& task, const std::string& who) {
    if (!options.data_key().empty()) return options.data_key();
    if (!data_key.empty()) return data_key;
    if (auto it = data.find("image"); it != data.end() && it->is_string()) return "image";
    // The image tag's name (to_name) is often the data key as well.
    for (const char* list : {"annotations", "predictions"}) {
      auto l = task.find(list);
      if (l == task.end() || !l->is_array()) continue;
      for (const json& a : *l) {
        if (!a.is_object() || !a.contains("result") || !a["result"].is_array()) continue;
        for (const json& r : a["result"]) {
          if (!r.is_object()) continue;
          const std::string to = string_or(r, "to_name");
          auto it = data.find(to.size() > 1 && to[0] == '$' ? to.substr(1) : to);
          if (it != data.end() && it->is_string() && looks_like_image_ref(it->get<std::string>()))
            return it.key();
        }
      }
    }
    std::string found;
    for (auto it = data.begin(); it != data.end(); ++it) {
      if (it->is_string() && looks_like_image_ref(it->get<std::string>())) {
        found = it.key();
        break;
      }
    }
    if (!found.empty()) return found;
    std::string keys;
    for (auto it = data.begin(); it != data.end(); ++it)
      keys += (keys.empty() ? "" : ", ") + it.key();
    ALX_THROW(FormatError,
              "{}: {}: no image reference in the task data (keys: {}); alx labels images, this "
              "looks like a {} task — pass data_key if the image sits under another key",
              file, who, keys.empty() ? "none" : keys,
              data.contains("text") ? "text" : "non-image");
  }

  std::string resolve_image(const std::string& ref, const std::string& who) {
    ALX_CHECK_FORMAT(!ref.empty(), "{}: {}: empty image reference", file, who);
    ALX_CHECK_FORMAT(!starts_with(ref, "data:"),
                     "{}: {}: the image is embedded as a data: URI; alx reads image files", file,
                     who);
    std::vector<std::string> cands;
    try {
      cands = candidates(ref);
    } catch (const FormatError& e) {  // a malformed reference: say where it is
      ALX_THROW(FormatError, "{}: {}: {}", file, who, e.what());
    }
    // The primary path is checked even when another candidate exists: a hostile
    // reference is refused, not quietly replaced.
    if (detail::check_under_root(root, cands.front(), file, who)) return cands.front();
    for (std::size_t c = 1; c < cands.size(); ++c) {
      if (detail::exists_under_root(root, cands[c])) {
        out.dataset.notes.push_back(fmt::format("{}: image '{}' found as '{}' under '{}'", who, ref,
                                                cands[c], root.string()));
        return cands[c];
      }
    }
    if (options.check_images()) {
      std::string tried;
      for (const auto& c : cands) tried += (tried.empty() ? "'" : ", '") + c + "'";
      ALX_THROW(IoError, "{}: {}: image '{}' not found under '{}' (tried {})", file, who, ref,
                root.string(), tried);
    }
    return cands.front();
  }

  static std::string timestamp(const json& a) {
    std::string t = string_or(a, "updated_at");
    return t.empty() ? string_or(a, "created_at") : t;
  }

  void task(json& t) {
    const int64_t pos = position++;
    ALX_CHECK_FORMAT(t.is_object(), "{}: task {} (position in file): expected an object, got {}",
                     file, pos, type_of(t));
    int64_t task_id = -1;
    if (auto it = t.find("id"); it != t.end() && it->is_number_integer())
      task_id = it->get<int64_t>();
    const std::string who =
        task_id >= 0 ? fmt::format("task {}", task_id) : fmt::format("task #{} (no id)", pos);
    const bool flat = !t.contains("data");
    const json& data = flat ? t : t["data"];
    ALX_CHECK_FORMAT(data.is_object(), "{}: {}: 'data' must be an object, got {}", file, who,
                     type_of(data));
    const std::string key = detect_data_key(data, t, who);
    auto rit = data.find(key);
    ALX_CHECK_FORMAT(rit != data.end() && rit->is_string(),
                     "{}: {}: data has no string '{}' holding the image (every task must use the "
                     "same key)",
                     file, who, key);
    if (data_key.empty()) {
      data_key = key;
      out.names.data_key = key;
    }
    const std::string ref = rit->get<std::string>();
    const std::string rel = resolve_image(ref, who);
    if (auto [it, inserted] = seen_ids.emplace(rel, who); !inserted) {
      ALX_THROW(FormatError, "{}: {} and {} both name the image '{}'; one task per image", file,
                it->second, who, rel);
    }

    // Annotations: drop cancelled ones, then ground truth, else the most recent.
    int label = -1;
    std::vector<Object> objects;
    ImageSize size;
    bool annotated = false;
    if (auto ait = t.find("annotations"); ait != t.end() && !ait->is_null()) {
      ALX_CHECK_FORMAT(ait->is_array(), "{}: {}: 'annotations' must be a list", file, who);
      std::vector<std::size_t> kept;
      for (std::size_t a = 0; a < ait->size(); ++a) {
        const json& ann = (*ait)[a];
        ALX_CHECK_FORMAT(ann.is_object(), "{}: {}: annotation {} is not an object", file, who, a);
        if (truthy(ann, "was_cancelled")) {
          out.dataset.notes.push_back(
              fmt::format("{}: annotation {} was cancelled (skipped), ignored", who,
                          ann.value("id", json(a)).dump()));
          continue;
        }
        kept.push_back(a);
      }
      if (!kept.empty()) {
        std::size_t best = kept.front();
        for (std::size_t a : kept) {
          const json& cand = (*ait)[a];
          const json& cur = (*ait)[best];
          const bool gt_c = truthy(cand, "ground_truth"), gt_b = truthy(cur, "ground_truth");
          if (gt_c != gt_b) {
            if (gt_c) best = a;
            continue;
          }
          if (timestamp(cand) >= timestamp(cur)) best = a;  // ties: the later in the list
        }
        const json& ann = (*ait)[best];
        const std::string awho =
            fmt::format("{} annotation {}", who, ann.value("id", json(best)).dump());
        if (kept.size() > 1)
          out.dataset.notes.push_back(
              fmt::format("{}: {} annotations, used annotation {} ({})", who, kept.size(),
                          ann.value("id", json(best)).dump(),
                          truthy(ann, "ground_truth") ? "ground truth" : "the most recent"));
        auto res = ann.find("result");
        Parsed p =
            parse_results(res == ann.end() ? json::array() : *res, awho, false, std::nullopt);
        note_skipped(p, awho);
        label = p.label;
        objects = std::move(p.objects);
        size = p.size;
        annotated = true;
      }
    }

    std::optional<LabelStudioPrediction> prediction;
    if (auto pit = t.find("predictions"); pit != t.end() && pit->is_array() && !pit->empty()) {
      std::optional<std::size_t> chosen;
      for (std::size_t k = 0; k < pit->size(); ++k) {
        const json& pr = (*pit)[k];
        ALX_CHECK_FORMAT(pr.is_object(), "{}: prediction {} is not an object", file, who, k);
        if (options.model_version().empty() ||
            string_or(pr, "model_version") == options.model_version())
          chosen = k;
      }
      if (chosen) {
        const json& pr = (*pit)[*chosen];
        const std::string pwho = fmt::format("{} prediction {}", who, *chosen);
        LabelStudioPrediction lp;
        lp.model_version = string_or(pr, "model_version");
        if (auto s = pr.find("score"); s != pr.end() && s->is_number()) {
          lp.score = s->get<double>();
          ALX_CHECK_FORMAT(std::isfinite(*lp.score), "{}: {}: score is not finite", file, pwho);
        }
        auto res = pr.find("result");
        Parsed p = parse_results(res == pr.end() ? json::array() : *res, pwho, true, lp.score);
        note_skipped(p, pwho);
        lp.label = p.label;
        lp.objects = std::move(p.objects);
        if (!size.known()) size = p.size;
        prediction = std::move(lp);
      }
    }

    relative_paths.push_back(rel);
    item_labels.push_back(label);
    item_objects.push_back(std::move(objects));
    out.task_ids.push_back(task_id);
    out.image_refs.push_back(ref);
    out.sizes.push_back(size);
    out.annotated.push_back(annotated);
    out.predictions.push_back(std::move(prediction));
  }

  LabelStudioExport finish() {
    ALX_CHECK_FORMAT(!relative_paths.empty(), "{}: the export holds no tasks", file);
    auto notes = std::move(out.dataset.notes);
    out.dataset = detail::make_dataset(labels.schema(), relative_paths, item_labels,
                                       std::move(item_objects), root, file, options.max_pixels());
    out.dataset.notes = std::move(notes);
    return std::move(out);
  }
};

}  // namespace

std::vector<std::vector<Object>> prediction_objects(const LabelStudioExport& export_) {
  std::vector<std::vector<Object>> out(export_.predictions.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    if (export_.predictions[i]) out[i] = export_.predictions[i]->objects;
  return out;
}

std::string label_studio_relative_path(const std::string& reference) {
  const std::string& ref = reference;
  if (starts_with(ref, "/data/local-files/")) {
    const auto d = ref.find("d=");
    ALX_CHECK_FORMAT(d != std::string::npos, "'{}': a local-files reference without '?d=<path>'",
                     ref);
    std::string p = ref.substr(d + 2);
    const auto amp = p.find('&');
    if (amp != std::string::npos) p.resize(amp);
    return percent_decode(p, /*plus_is_space=*/true);
  }
  if (starts_with(ref, "/data/upload/")) {
    std::string rest = ref.substr(std::string("/data/upload/").size());
    const auto slash = rest.find('/');
    // "/data/upload/<project>/<file>"; older versions wrote "/data/upload/<file>".
    return percent_decode(slash == std::string::npos ? rest : rest.substr(slash + 1));
  }
  if (is_url(ref)) return url_path(ref);
  // "/image1": a path on the Label Studio server (the browser loads it from there, as it
  // loads /data/upload/...), so it names <root>/image1 — never a file system path.
  if (ref.size() > 1 && ref[0] == '/' && ref[1] != '/') return percent_decode(ref.substr(1));
  return ref;
}

LabelStudioConfig read_label_studio_config(const std::string& path) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_file(path.c_str());
  if (parsed.status == pugi::status_file_not_found || parsed.status == pugi::status_io_error)
    ALX_THROW(IoError, "cannot read Label Studio labeling config '{}': {}", path,
              parsed.description());
  ALX_CHECK_FORMAT(parsed, "{}: not valid XML: {} at byte {}", path, parsed.description(),
                   parsed.offset);
  const pugi::xml_node image = doc.find_node([](const pugi::xml_node& n) {
    return n.type() == pugi::node_element && std::string(n.name()) == "Image";
  });
  ALX_CHECK_FORMAT(image, "{}: no <Image> tag; alx labels images", path);
  LabelStudioConfig config;
  config.names.to_name = image.attribute("name").value();
  std::string value = image.attribute("value").value();
  ALX_CHECK_FORMAT(!config.names.to_name.empty() && value.size() > 1 && value[0] == '$',
                   "{}: <Image> needs name=\"...\" and value=\"$key\"", path);
  config.names.data_key = value.substr(1);
  config.names.choices_from_name.clear();
  config.names.rectangle_from_name.clear();
  config.names.polygon_from_name.clear();
  detail::LabelMap classes({});
  for (const pugi::xpath_node& xn : doc.select_nodes("//*[@toName]")) {
    const pugi::xml_node control = xn.node();
    const std::string kind = control.name();
    std::string* slot = kind == "Choices"           ? &config.names.choices_from_name
                        : kind == "RectangleLabels" ? &config.names.rectangle_from_name
                        : kind == "PolygonLabels"   ? &config.names.polygon_from_name
                                                    : nullptr;
    if (slot == nullptr || std::string(control.attribute("toName").value()) != config.names.to_name)
      continue;
    if (slot->empty()) *slot = control.attribute("name").value();
    const char* item = kind == "Choices" ? "Choice" : "Label";
    for (const pugi::xml_node& c : control.children(item)) {
      const std::string v = c.attribute("value").value();
      if (!v.empty()) classes.declare(v);
    }
  }
  ALX_CHECK_FORMAT(!config.names.choices_from_name.empty() ||
                       !config.names.rectangle_from_name.empty() ||
                       !config.names.polygon_from_name.empty(),
                   "{}: no Choices, RectangleLabels or PolygonLabels control with toName=\"{}\"; "
                   "alx reads image classification, boxes and polygons",
                   path, config.names.to_name);
  config.classes = classes.schema().names();
  return config;
}

LabelStudioExport read_label_studio(const std::string& path, const LabelStudioOptions& options) {
  std::ifstream in(path, std::ios::binary);
  ALX_CHECK_IO(in.is_open(), "cannot open Label Studio export '{}'", path);
  std::optional<LabelStudioConfig> config;
  if (!options.label_config().empty()) config = read_label_studio_config(options.label_config());
  Reader reader(path, options, config);
  // Stream: each task is handed over when its closing brace is parsed and then
  // discarded, so a export of hundreds of MB never sits in memory as one tree.
  detail::StreamProgress progress(in, path);
  enum class Top { kUnknown, kList, kTask } top = Top::kUnknown;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 0 && top == Top::kUnknown) {
      if (event == json::parse_event_t::array_start)
        top = Top::kList;
      else if (event == json::parse_event_t::object_start)
        top = Top::kTask;
      else
        ALX_THROW(FormatError, "{}: expected a list of tasks or one task object", path);
      return true;
    }
    if (top == Top::kList && depth == 1 &&
        (event == json::parse_event_t::object_end || event == json::parse_event_t::value ||
         event == json::parse_event_t::array_end)) {
      reader.task(parsed);
      progress.update();
      return false;  // discard: the task is read
    }
    return true;
  };
  json rest;
  try {
    rest = json::parse(in, cb, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::parse_error& e) {
    ALX_THROW(FormatError, "{}: not valid JSON (truncated or corrupt?) after task {}: {}", path,
              reader.position, e.what());
  } catch (const json::out_of_range& e) {  // a number beyond double, e.g. 1E99999
    ALX_THROW(FormatError, "{}: after task {}: a number JSON cannot hold: {}", path,
              reader.position, e.what());
  } catch (const json::exception& e) {  // any other: still name the file and the place
    ALX_THROW(FormatError, "{}: after task {}: {}", path, reader.position, e.what());
  }
  if (top == Top::kTask) reader.task(rest);
  return reader.finish();
}

void write_label_studio_tasks(const std::string& path, const NextBatch& batch,
                              const LabelStudioNames& names) {
  validate(batch);
  ALX_CHECK(!names.data_key.empty() && !names.to_name.empty(),
            "Label Studio names need a data key and an image tag name");
  json tasks = json::array();
  for (const BatchItem& it : batch.items) {
    const std::string who = fmt::format("next batch rank {} ('{}')", it.rank, it.id);
    json data = json::object();
    data[names.data_key] = it.image.empty() ? it.id : it.image;
    data["alx_id"] = it.id;
    data["alx_rank"] = it.rank;
    data["alx_uncertainty"] = it.uncertainty;
    if (!it.probabilities.empty()) {
      json probs = json::object();
      for (int c = 0; c < batch.schema.size(); ++c)
        probs[batch.schema.name(c)] = it.probabilities[static_cast<std::size_t>(c)];
      data["alx_probabilities"] = std::move(probs);
    }
    json result = json::array();
    if (it.predicted_label >= 0) {
      const std::string& name = batch.schema.name(it.predicted_label);
      data["alx_predicted"] = name;
      data["alx_confidence"] = it.confidence;
      if (!names.choices_from_name.empty()) {
        result.push_back({{"id", "alx-choice"},
                          {"from_name", names.choices_from_name},
                          {"to_name", names.to_name},
                          {"type", "choices"},
                          {"value", {{"choices", json::array({name})}}},
                          {"score", it.confidence}});
      }
    }
    for (std::size_t o = 0; o < it.objects.size(); ++o) {
      const Object& obj = it.objects[o];
      ALX_CHECK(it.size.known(),
                "{}: predicted objects need the image size to be written as Label Studio "
                "percentages",
                who);
      const double W = it.size.width, H = it.size.height;
      const std::string& name = batch.schema.name(obj.label);
      auto region = [&](const std::string& type, const std::string& from, json value,
                        std::size_t k) {
        return json{{"id", fmt::format("alx-{}-{}", o, k)},
                    {"from_name", from},
                    {"to_name", names.to_name},
                    {"type", type},
                    {"original_width", it.size.width},
                    {"original_height", it.size.height},
                    {"image_rotation", 0},
                    {"value", std::move(value)},
                    {"score", obj.score}};
      };
      ALX_CHECK(
          !(obj.polygons.empty() ? names.rectangle_from_name : names.polygon_from_name).empty(),
          "{}: a predicted {} but the labeling config has no {} control", who,
          obj.polygons.empty() ? "box" : "polygon",
          obj.polygons.empty() ? "RectangleLabels" : "PolygonLabels");
      if (obj.polygons.empty()) {
        result.push_back(region("rectanglelabels", names.rectangle_from_name,
                                {{"x", obj.box.x1 / W * 100.0},
                                 {"y", obj.box.y1 / H * 100.0},
                                 {"width", obj.box.width() / W * 100.0},
                                 {"height", obj.box.height() / H * 100.0},
                                 {"rotation", 0},
                                 {"rectanglelabels", json::array({name})}},
                                0));
      } else {
        for (std::size_t k = 0; k < obj.polygons.size(); ++k) {
          json points = json::array();
          for (const Point& p : obj.polygons[k])
            points.push_back({p.x / W * 100.0, p.y / H * 100.0});
          result.push_back(region("polygonlabels", names.polygon_from_name,
                                  {{"points", std::move(points)},
                                   {"closed", true},
                                   {"polygonlabels", json::array({name})}},
                                  k));
        }
      }
    }
    json task{{"data", std::move(data)}};
    if (!result.empty()) {
      task["predictions"] = json::array(
          {json{{"model_version", batch.model_version.empty() ? "alx" : batch.model_version},
                {"score", it.confidence},
                {"result", std::move(result)}}});
    }
    tasks.push_back(std::move(task));
  }
  std::string text;
  try {
    text = tasks.dump(2);
  } catch (const json::exception& e) {
    ALX_THROW(InvalidArgument, "cannot write '{}': {} (a class name or id is not UTF-8?)", path,
              e.what());
  }
  detail::write_atomic(path, text + "\n");
}

}  // namespace alx::io
