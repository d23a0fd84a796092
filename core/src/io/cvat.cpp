#include <alx/core/error.h>
#include <alx/core/image_source.h>
#include <alx/core/io/cvat.h>

#include "io/formats_detail.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>

namespace alx::io {

namespace fs = std::filesystem;

namespace {

constexpr double kPi = 3.14159265358979323846;

/// Strict number: the whole text must be a finite number.
bool parse_number(const char* text, double& value) {
  if (text == nullptr || *text == '\0') return false;
  char* end = nullptr;
  errno = 0;
  value = std::strtod(text, &end);
  while (end && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) ++end;
  return errno == 0 && end != text && *end == '\0' && std::isfinite(value);
}

double attr_number(const pugi::xml_node& node, const char* name, const std::string& file,
                   const std::string& who) {
  const pugi::xml_attribute a = node.attribute(name);
  double v = 0;
  ALX_CHECK_FORMAT(a && parse_number(a.value(), v),
                   "{}: {}: <{}> attribute '{}' must be a number{}", file, who, node.name(), name,
                   a ? fmt::format(", got '{}'", a.value()) : std::string(" (missing)"));
  return v;
}

Polygon parse_points(const char* text, const std::string& file, const std::string& who) {
  Polygon poly;
  std::string s(text ? text : "");
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(';', start);
    if (end == std::string::npos) end = s.size();
    const std::string pair = s.substr(start, end - start);
    const auto comma = pair.find(',');
    double x = 0, y = 0;
    ALX_CHECK_FORMAT(comma != std::string::npos && parse_number(pair.substr(0, comma).c_str(), x) &&
                         parse_number(pair.substr(comma + 1).c_str(), y),
                     "{}: {}: polygon point '{}' is not 'x,y'", file, who, pair);
    poly.push_back({detail::checked_coordinate(x, file, who, "x"),
                    detail::checked_coordinate(y, file, who, "y")});
    start = end + 1;
  }
  return poly;
}

Box bounds(const Polygon& poly) {
  Box b{poly[0].x, poly[0].y, poly[0].x, poly[0].y};
  for (const Point& p : poly) {
    b.x1 = std::min(b.x1, p.x);
    b.y1 = std::min(b.y1, p.y);
    b.x2 = std::max(b.x2, p.x);
    b.y2 = std::max(b.y2, p.y);
  }
  return b;
}

/// The `<attribute name="score">` child of a shape, if any.
std::optional<float> score_attribute(const pugi::xml_node& shape, const std::string& file,
                                     const std::string& who) {
  for (const pugi::xml_node& a : shape.children("attribute")) {
    if (std::string(a.attribute("name").value()) != "score") continue;
    double v = 0;
    ALX_CHECK_FORMAT(parse_number(a.child_value(), v) && v >= 0 && v <= 1,
                     "{}: {}: score attribute '{}' is not a number in [0, 1]", file, who,
                     a.child_value());
    return static_cast<float>(v);
  }
  return std::nullopt;
}

}  // namespace

CvatExport read_cvat(const std::string& path, const CvatOptions& options) {
  const std::string& file = path;
  {
    std::error_code ec;
    ALX_CHECK_IO(fs::is_regular_file(path, ec), "cannot open CVAT export '{}'", path);
  }
  pugi::xml_document doc;
  // pugixml reads the file into one buffer and parses it in place: no second copy.
  const pugi::xml_parse_result parsed = doc.load_file(path.c_str(), pugi::parse_default);
  if (parsed.status == pugi::status_file_not_found || parsed.status == pugi::status_io_error ||
      parsed.status == pugi::status_out_of_memory)
    ALX_THROW(IoError, "cannot read CVAT export '{}': {}", path, parsed.description());
  ALX_CHECK_FORMAT(parsed, "{}: not valid XML (truncated or corrupt?): {} at byte {}", file,
                   parsed.description(), parsed.offset);
  const pugi::xml_node root_node = doc.child("annotations");
  ALX_CHECK_FORMAT(root_node, "{}: no <annotations> element; not a CVAT for images 1.1 file", file);
  if (const pugi::xml_node version = root_node.child("version")) {
    const std::string v = version.child_value();
    ALX_CHECK_FORMAT(v.empty() || v == "1.1", "{}: CVAT XML version '{}'; alx reads version 1.1",
                     file, v);
  }
  ALX_CHECK_FORMAT(!root_node.child("track"),
                   "{}: holds <track> elements: CVAT for video; export as CVAT for images 1.1",
                   file);

  CvatExport out;
  detail::LabelMap labels(options.classes());
  // Declared labels in order (task, project or job meta).
  std::set<std::string> declared;
  for (const pugi::xpath_node& n : root_node.select_nodes("meta/*/labels/label/name")) {
    labels.declare(n.node().child_value());
    declared.insert(n.node().child_value());
  }

  fs::path root;
  if (!options.images_root().empty()) {
    root = options.images_root();
  } else {
    std::error_code ec;
    const fs::path images = detail::folder_of(path) / "images";
    root = fs::is_directory(images, ec) ? images : detail::folder_of(path);
  }

  std::vector<std::string> ids;
  std::vector<int> item_labels;
  std::vector<std::vector<Object>> item_objects;
  std::unordered_map<std::string, std::string> seen;  // id → who
  std::map<std::string, int> undeclared;

  for (const pugi::xml_node& image : root_node.children("image")) {
    const std::string name = image.attribute("name").value();
    const std::string frame = image.attribute("id").value();
    const std::string subset = image.attribute("subset").value();
    const std::string who = fmt::format("image {} '{}'{}", frame.empty() ? "?" : frame, name,
                                        subset.empty() ? "" : " (subset " + subset + ")");
    ALX_CHECK_FORMAT(!name.empty(), "{}: {}: <image> has no name", file, who);
    const std::string id = subset.empty() ? name : subset + "/" + name;
    const bool exists = detail::check_under_root(root, id, file, who);
    if (auto [it, inserted] = seen.emplace(id, who); !inserted)
      ALX_THROW(FormatError, "{}: {} and {} name the same image '{}'", file, it->second, who, id);
    if (options.check_images() && !exists)
      ALX_THROW(IoError, "{}: {}: image '{}' not found under '{}'", file, who, id, root.string());

    ImageSize size;
    double w = 0, h = 0;
    if (parse_number(image.attribute("width").value(), w) &&
        parse_number(image.attribute("height").value(), h) && w >= 1 && h >= 1 && w < 1e7 &&
        h < 1e7)
      size = {static_cast<int>(w), static_cast<int>(h)};
    int64_t frame_id = -1;
    double f = 0;
    if (parse_number(frame.c_str(), f) && f >= 0 && f < 9e15) frame_id = static_cast<int64_t>(f);

    int label = -1;
    std::string label_name;
    std::vector<Object> objects;
    std::map<std::string, int> skipped;
    auto label_of = [&](const std::string& l, const std::string& what) {
      if (!labels.fixed() && !declared.count(l)) ++undeclared[l];
      return labels.get(l, file, who + " " + what);
    };
    for (const pugi::xml_node& child : image.children()) {
      if (child.type() != pugi::node_element) continue;
      const std::string kind = child.name();
      const std::string l = child.attribute("label").value();
      if (kind == "tag") {
        if (l.empty()) {
          ++skipped["tag without label"];
          continue;
        }
        const int idx = label_of(l, "tag");
        if (label < 0) {
          label = idx;
          label_name = l;
        } else if (idx != label) {
          ALX_CHECK_FORMAT(options.allow_multiple_labels(),
                           "{}: {}: several tags ('{}', '{}'); alx keeps one class per image "
                           "(allow_multiple_labels keeps the first)",
                           file, who, label_name, l);
          out.dataset.notes.push_back(
              fmt::format("{}: several tags, kept '{}' and dropped '{}'", who, label_name, l));
        }
      } else if (kind == "box" || kind == "polygon") {
        if (l.empty()) {
          ++skipped[kind + " without label"];
          continue;
        }
        const std::string swho = who + " <" + kind + ">";
        Object obj;
        obj.label = label_of(l, "<" + kind + ">");
        if (auto s = score_attribute(child, file, swho)) obj.score = *s;
        if (kind == "box") {
          const double x1 = attr_number(child, "xtl", file, who),
                       y1 = attr_number(child, "ytl", file, who);
          const double x2 = attr_number(child, "xbr", file, who),
                       y2 = attr_number(child, "ybr", file, who);
          ALX_CHECK_FORMAT(x2 >= x1 && y2 >= y1,
                           "{}: {}: box corners ({}, {}) – ({}, {}) are not "
                           "top-left, bottom-right",
                           file, swho, x1, y1, x2, y2);
          double rot = 0;
          if (child.attribute("rotation")) rot = attr_number(child, "rotation", file, who);
          if (rot == 0) {
            obj.box = {detail::checked_coordinate(x1, file, swho, "xtl"),
                       detail::checked_coordinate(y1, file, swho, "ytl"),
                       detail::checked_coordinate(x2, file, swho, "xbr"),
                       detail::checked_coordinate(y2, file, swho, "ybr")};
          } else {
            // CVAT rotates about the box centre (clockwise, degrees); keep the bounding box.
            const double cx = (x1 + x2) / 2, cy = (y1 + y2) / 2, hw = (x2 - x1) / 2,
                         hh = (y2 - y1) / 2, t = rot * kPi / 180.0;
            const double ex = std::fabs(hw * std::cos(t)) + std::fabs(hh * std::sin(t));
            const double ey = std::fabs(hw * std::sin(t)) + std::fabs(hh * std::cos(t));
            obj.box = {detail::checked_coordinate(cx - ex, file, swho, "x"),
                       detail::checked_coordinate(cy - ey, file, swho, "y"),
                       detail::checked_coordinate(cx + ex, file, swho, "x"),
                       detail::checked_coordinate(cy + ey, file, swho, "y")};
            out.dataset.notes.push_back(fmt::format(
                "{}: box rotated by {} degrees, kept its axis-aligned bounding box", swho, rot));
          }
        } else {
          Polygon poly = parse_points(child.attribute("points").value(), file, swho);
          ALX_CHECK_FORMAT(poly.size() >= 3, "{}: {}: a polygon needs 3 points, got {}", file, swho,
                           poly.size());
          obj.box = bounds(poly);
          obj.polygons.push_back(std::move(poly));
        }
        objects.push_back(std::move(obj));
      } else {
        ++skipped[kind];
      }
    }
    for (const auto& [kind, count] : skipped)
      out.dataset.notes.push_back(fmt::format(
          "{}: skipped {} <{}> element(s); alx reads tag, box and polygon", who, count, kind));

    ids.push_back(id);
    item_labels.push_back(label);
    item_objects.push_back(std::move(objects));
    out.names.push_back(name);
    out.subsets.push_back(subset);
    out.frames.push_back(frame_id);
    out.sizes.push_back(size);
  }
  ALX_CHECK_FORMAT(!ids.empty(), "{}: the export holds no <image> elements", file);
  for (const auto& [l, count] : undeclared)
    out.dataset.notes.push_back(fmt::format(
        "label '{}' is used {} time(s) but not declared in <labels>; added as a class", l, count));

  auto notes = std::move(out.dataset.notes);
  out.dataset = detail::make_dataset(labels.schema(), ids, item_labels, std::move(item_objects),
                                     root, path, options.max_pixels());
  out.dataset.notes = std::move(notes);
  return out;
}

namespace {

std::string format_float(double v) { return fmt::format("{:.2f}", v); }

void add_score(pugi::xml_node shape, const std::string& attribute, double score) {
  pugi::xml_node a = shape.append_child("attribute");
  a.append_attribute("name") = attribute.c_str();
  a.text().set(fmt::format("{:.6g}", score).c_str());
}

}  // namespace

void write_cvat(const std::string& path, const NextBatch& batch, const CvatWriteOptions& options) {
  validate(batch);
  ALX_CHECK(!options.score_attribute().empty(), "CVAT score attribute name is empty");
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "utf-8";
  pugi::xml_node ann = doc.append_child("annotations");
  ann.append_child("version").text().set("1.1");
  pugi::xml_node task = ann.append_child("meta").append_child("task");
  task.append_child("name").text().set(options.task_name().c_str());
  task.append_child("size").text().set(static_cast<unsigned long long>(batch.items.size()));
  task.append_child("mode").text().set("annotation");
  pugi::xml_node labels = task.append_child("labels");
  for (const std::string& name : batch.schema.names()) {
    pugi::xml_node label = labels.append_child("label");
    label.append_child("name").text().set(name.c_str());
    pugi::xml_node attr = label.append_child("attributes").append_child("attribute");
    attr.append_child("name").text().set(options.score_attribute().c_str());
    attr.append_child("mutable").text().set("False");
    attr.append_child("input_type").text().set("number");
    attr.append_child("default_value").text().set("0");
    attr.append_child("values").text().set("0\n1\n0.0001");  // min, max, step
  }
  for (const BatchItem& it : batch.items) {
    pugi::xml_node image = ann.append_child("image");
    image.append_attribute("id") = it.rank;
    const std::string name = it.image.empty() ? it.id : it.image;
    image.append_attribute("name") = name.c_str();
    if (it.size.known()) {
      image.append_attribute("width") = it.size.width;
      image.append_attribute("height") = it.size.height;
    }
    if (it.predicted_label >= 0) {
      pugi::xml_node tag = image.append_child("tag");
      tag.append_attribute("label") = batch.schema.name(it.predicted_label).c_str();
      tag.append_attribute("source") = "auto";
      add_score(tag, options.score_attribute(), it.confidence);
    }
    for (const Object& obj : it.objects) {
      const char* label = batch.schema.name(obj.label).c_str();
      if (obj.polygons.empty()) {
        pugi::xml_node box = image.append_child("box");
        box.append_attribute("label") = label;
        box.append_attribute("source") = "auto";
        box.append_attribute("occluded") = 0;
        box.append_attribute("xtl") = format_float(obj.box.x1).c_str();
        box.append_attribute("ytl") = format_float(obj.box.y1).c_str();
        box.append_attribute("xbr") = format_float(obj.box.x2).c_str();
        box.append_attribute("ybr") = format_float(obj.box.y2).c_str();
        box.append_attribute("z_order") = 0;
        add_score(box, options.score_attribute(), obj.score);
      } else {
        for (const Polygon& poly : obj.polygons) {
          std::string points;
          for (const Point& p : poly)
            points += (points.empty() ? "" : ";") + format_float(p.x) + "," + format_float(p.y);
          pugi::xml_node pg = image.append_child("polygon");
          pg.append_attribute("label") = label;
          pg.append_attribute("source") = "auto";
          pg.append_attribute("occluded") = 0;
          pg.append_attribute("points") = points.c_str();
          pg.append_attribute("z_order") = 0;
          add_score(pg, options.score_attribute(), obj.score);
        }
      }
    }
  }
  std::ostringstream text;
  doc.save(text, "  ", pugi::format_default, pugi::encoding_utf8);
  detail::write_atomic(path, text.str());
}

}  // namespace alx::io
