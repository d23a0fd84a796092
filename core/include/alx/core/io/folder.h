// alx/core/io/folder.h — a folder-per-class tree (torchvision ImageFolder layout).
#pragma once

#include <alx/core/dataset.h>

#include <string>

namespace alx::io {

/// File extensions read as images (lower case, with the dot).
bool is_image_file(const std::string& path);

struct FolderOptions {
  FileImageOptions images;
  /// true: images directly in the root are kept as unlabeled items; false: they are an error.
  bool root_images_unlabeled = true;
};

/// Reads root/<class>/**/<image>: the class is the first-level folder (as torchvision's
/// ImageFolder does), images in nested folders belong to that class, and images directly
/// in the root are unlabeled items (each such decision is listed in Dataset::notes).
/// Classes are sorted by name; items by path. Ids are paths relative to the root.
/// Throws alx::IoError if root is not a folder, alx::FormatError if it holds no image.
Dataset read_folder_tree(const std::string& root, const FolderOptions& options = {});

}  // namespace alx::io
