#include <alx/core/error.h>
#include <alx/core/io/csv.h>
#include <alx/core/io/folder.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace alx::io {

std::vector<std::string> split_csv_line(const std::string& line, char delimiter) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"' && cur.empty()) {
      quoted = true;
    } else if (c == delimiter) {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string csv_escape(const std::string& field) {
  if (field.find_first_of(",\"\n\r") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

int find_column(const std::vector<std::string>& header, std::initializer_list<const char*> names) {
  for (const char* n : names)
    for (std::size_t i = 0; i < header.size(); ++i)
      if (lower(trim(header[i])) == n) return static_cast<int>(i);
  return -1;
}

/// Numbers of a bbox cell: "[0,1,1,2]", "0 0 1 1", "[1, 1, 2, 2]".
std::vector<float> parse_numbers(std::string cell) {
  for (char& c : cell)
    if (c == '[' || c == ']' || c == ',' || c == '(' || c == ')') c = ' ';
  std::istringstream in(cell);
  std::vector<float> v;
  float x;
  while (in >> x) v.push_back(x);
  if (!in.eof()) v.clear();
  return v;
}

/// Resolves an image name (maybe without extension) under root.
std::string resolve_image(const fs::path& root, const std::string& name) {
  if (fs::path(name).has_extension() && is_image_file(name)) return name;
  for (const char* ext : {".jpg", ".png", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
    if (fs::exists(root / (name + ext))) return name + ext;
  return name;
}

}  // namespace

Dataset read_csv(const std::string& path, const CsvOptions& options) {
  std::ifstream in(path);
  ALX_CHECK_IO(in.good(), "cannot open table '{}': {}", path,
               fs::exists(path) ? "not readable" : "no such file");
  const bool txt = lower(fs::path(path).extension().string()) == ".txt";
  fs::path root = options.images_root;
  if (root.empty()) {
    root = fs::path(path).parent_path();
    if (fs::is_directory(root / "images")) root /= "images";
  }

  std::vector<std::vector<std::string>> rows;
  std::vector<int> line_of;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    if (txt) {
      std::istringstream ls(line);
      std::vector<std::string> f;
      std::string tok;
      while (ls >> tok) f.push_back(tok);
      rows.push_back(f);
    } else {
      rows.push_back(split_csv_line(line));
    }
    line_of.push_back(line_no);
  }
  ALX_CHECK_FORMAT(!rows.empty(), "table '{}' is empty", path);

  int image_col = 0, label_col = 1;
  int x1 = -1, y1 = -1, x2 = -1, y2 = -1, w = -1, h = -1, bbox = -1;
  std::size_t first = 0;
  if (!txt) {
    const auto& header = rows[0];
    first = 1;
    image_col = find_column(header, {"image", "image_name", "file", "filename", "file_name", "path"});
    label_col = find_column(header, {"label", "label_name", "class", "category", "class_name"});
    x1 = find_column(header, {"x1", "xmin", "x"});
    y1 = find_column(header, {"y1", "ymin", "y"});
    x2 = find_column(header, {"x2", "xmax"});
    y2 = find_column(header, {"y2", "ymax"});
    w = find_column(header, {"w", "width"});
    h = find_column(header, {"h", "height"});
    bbox = find_column(header, {"bbox", "box"});
    ALX_CHECK_FORMAT(image_col >= 0,
                     "table '{}': no image column in the header (expected one of image, "
                     "image_name, file, filename, path); header is '{}'",
                     path, fmt::join(header, ","));
    if (label_col < 0) {
      const bool one_hot = header.size() > 2 && std::all_of(rows.begin() + 1, rows.end(), [&](const auto& r) {
        for (std::size_t c = 0; c < r.size(); ++c)
          if (static_cast<int>(c) != image_col && trim(r[c]) != "0" && trim(r[c]) != "1") return false;
        return true;
      });
      ALX_CHECK_FORMAT(!one_hot,
                       "table '{}' is a multi-label one-hot table (columns {}); alx labels one "
                       "class per image: convert it to an image,label table",
                       path, fmt::join(header, ","));
      ALX_THROW(FormatError,
                "table '{}': no label column in the header (expected one of label, label_name, "
                "class, category); header is '{}'",
                path, fmt::join(header, ","));
    }
  }
  const bool detection = bbox >= 0 || (x1 >= 0 && y1 >= 0 && ((x2 >= 0 && y2 >= 0) || (w >= 0 && h >= 0)));

  Dataset ds;
  std::vector<std::string> ids;
  std::map<std::string, int64_t> index;
  std::map<std::string, std::string> label_of;
  std::map<std::string, std::vector<std::pair<std::string, Box>>> objects;
  Schema schema;
  std::vector<std::string> class_order;
  for (std::size_t r = first; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const int ln = line_of[r];
    const int need = std::max(image_col, label_col) + 1;
    ALX_CHECK_FORMAT(static_cast<int>(row.size()) >= need, "{}:{}: expected at least {} columns, got {}",
                     path, ln, need, row.size());
    const std::string image = resolve_image(root, trim(row[static_cast<std::size_t>(image_col)]));
    const std::string label = trim(row[static_cast<std::size_t>(label_col)]);
    ALX_CHECK_FORMAT(!image.empty(), "{}:{}: empty image name", path, ln);
    if (!index.count(image)) {
      index[image] = static_cast<int64_t>(ids.size());
      ids.push_back(image);
    }
    if (!label.empty() && !schema.contains(label)) schema.add(label);
    if (detection) {
      Box b;
      auto num = [&](int col) {
        ALX_CHECK_FORMAT(col < static_cast<int>(row.size()), "{}:{}: missing box column", path, ln);
        auto v = parse_numbers(row[static_cast<std::size_t>(col)]);
        ALX_CHECK_FORMAT(v.size() == 1, "{}:{}: '{}' is not a number", path, ln, row[static_cast<std::size_t>(col)]);
        return v[0];
      };
      if (bbox >= 0) {
        ALX_CHECK_FORMAT(bbox < static_cast<int>(row.size()), "{}:{}: missing bbox column", path, ln);
        auto v = parse_numbers(row[static_cast<std::size_t>(bbox)]);
        ALX_CHECK_FORMAT(v.size() == 4, "{}:{}: bbox '{}' must hold 4 numbers x1,y1,x2,y2", path, ln,
                         row[static_cast<std::size_t>(bbox)]);
        b = {v[0], v[1], v[2], v[3]};
      } else if (x2 >= 0 && y2 >= 0) {
        b = {num(x1), num(y1), num(x2), num(y2)};
      } else {
        const float bx = num(x1), by = num(y1);
        b = {bx, by, bx + num(w), by + num(h)};
      }
      ALX_CHECK_FORMAT(b.x2 >= b.x1 && b.y2 >= b.y1, "{}:{}: box [{}, {}, {}, {}] has x2 < x1 or y2 < y1",
                       path, ln, b.x1, b.y1, b.x2, b.y2);
      ALX_CHECK_FORMAT(!label.empty(), "{}:{}: an object without a label", path, ln);
      objects[image].push_back({label, b});
    } else {
      auto it = label_of.find(image);
      ALX_CHECK_FORMAT(it == label_of.end() || it->second == label,
                       "{}:{}: image '{}' is labeled '{}' here but '{}' on an earlier line", path, ln,
                       image, label, it == label_of.end() ? "" : it->second);
      label_of[image] = label;
    }
  }
  ds.pool = Pool(schema, ids);
  std::vector<int64_t> idx;
  std::vector<int> lab;
  for (const auto& [image, label] : label_of) {
    if (label.empty()) continue;
    idx.push_back(index[image]);
    lab.push_back(schema.index(label));
  }
  ds.pool.add_labels(idx, lab, 0);
  for (auto& [image, objs] : objects) {
    std::vector<Object> out;
    for (auto& [label, box] : objs) {
      Object o;
      o.label = schema.index(label);
      o.box = box;
      out.push_back(o);
    }
    ds.pool.set_objects(index[image], std::move(out));
  }
  try {
    ds.images = std::make_shared<FileImageSource>(root, std::move(ids), options.images);
  } catch (const InvalidArgument& e) {  // a path escaping the root: name the table too
    ALX_THROW(InvalidArgument, "table '{}': {}", path, e.what());
  }
  ds.source = path;
  return ds;
}

}  // namespace alx::io
