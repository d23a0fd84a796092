// alx/core/io/csv.h — "image,label" tables (Kaggle style), and writing CSV safely.
#pragma once

#include <alx/core/dataset.h>

#include <string>
#include <vector>

namespace alx::io {

struct CsvOptions {
  /// Folder the image column is relative to; default: the CSV's folder, or its "images/"
  /// subfolder when that exists.
  std::string images_root;
  FileImageOptions images;
};

/// Reads a table with a header row. Understood layouts:
///  - classification: an image column (image, image_name, file, filename, path) and a label
///    column (label, label_name, class, category); an empty label = an unlabeled item;
///  - detection: the same plus box columns x1,y1,x2,y2 or x1,y1,w,h, or one "bbox" column
///    ("[x1,y1,x2,y2]", "x1 y1 x2 y2"); several rows per image give several objects.
/// ".txt" files are whitespace-separated "image label" lines without header.
/// Image names without an extension are matched to the file with a known image extension.
/// A multi-label one-hot table is refused with a message saying so. Errors name the file
/// and the line.
Dataset read_csv(const std::string& path, const CsvOptions& options = {});

/// Splits one CSV line (RFC 4180 quotes, "" inside quotes) with `delimiter`.
std::vector<std::string> split_csv_line(const std::string& line, char delimiter = ',');
/// Quotes a field when it holds a delimiter, quote or newline.
std::string csv_escape(const std::string& field);

}  // namespace alx::io
