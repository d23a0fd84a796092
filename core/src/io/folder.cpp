#include <alx/core/error.h>
#include <alx/core/io/folder.h>

#include <algorithm>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace alx::io {

bool is_image_file(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* kExts[] = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"};
  return std::any_of(std::begin(kExts), std::end(kExts), [&](const char* e) { return ext == e; });
}

Dataset read_folder_tree(const std::string& root, const FolderOptions& options) {
  ALX_CHECK_IO(fs::is_directory(root), "image folder '{}' does not exist or is not a folder", root);
  std::vector<std::string> classes;
  std::map<std::string, std::string> label_of;  // relative path → class ("" = unlabeled)
  Dataset ds;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory()) {
      if (name.empty() || name[0] == '.') continue;
      bool any = false;
      for (const auto& f : fs::recursive_directory_iterator(entry.path())) {
        if (!f.is_regular_file() || !is_image_file(f.path().string())) continue;
        const std::string rel = fs::relative(f.path(), root).generic_string();
        label_of[rel] = name;
        any = true;
        if (f.path().parent_path() != entry.path())
          ds.notes.push_back(fmt::format("'{}' is in a nested folder: labeled '{}' (its top folder)",
                                         rel, name));
      }
      if (any) classes.push_back(name);
    } else if (entry.is_regular_file() && is_image_file(name)) {
      ALX_CHECK_FORMAT(options.root_images_unlabeled,
                       "'{}/{}' is directly in the root folder, where only class folders are "
                       "expected",
                       root, name);
      label_of[name] = "";
      ds.notes.push_back(fmt::format("'{}' is directly in the root folder: kept as unlabeled", name));
    }
  }
  ALX_CHECK_FORMAT(!label_of.empty(), "image folder '{}' holds no images ({}/<class>/<image> expected)",
                   root, root);
  std::sort(classes.begin(), classes.end());
  std::vector<std::string> ids;
  ids.reserve(label_of.size());
  for (const auto& kv : label_of) ids.push_back(kv.first);
  ds.pool = Pool(Schema(classes), ids);
  std::vector<int64_t> idx;
  std::vector<int> lab;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::string& cls = label_of[ids[i]];
    if (cls.empty()) continue;
    idx.push_back(static_cast<int64_t>(i));
    lab.push_back(ds.pool.schema().index(cls));
  }
  ds.pool.add_labels(idx, lab, 0);
  ds.images = std::make_shared<FileImageSource>(root, std::move(ids), options.images);
  ds.source = root;
  return ds;
}

}  // namespace alx::io
