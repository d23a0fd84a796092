// alx/core/dataset.h — what every reader returns: a pool and where its images are.
#pragma once

#include <alx/core/image_source.h>
#include <alx/core/pool.h>

#include <memory>
#include <string>
#include <vector>

namespace alx {

/// A pool (ids, labels, objects) together with the source of its images.
/// Item i of `pool` is image i of `images`.
struct Dataset {
  Pool pool;
  std::shared_ptr<ImageSource> images;
  /// Where it was read from (file or folder), for messages.
  std::string source;
  /// Things the reader skipped or resolved by a rule, one line each, naming the item
  /// (e.g. "task 12: annotation 3 was cancelled, ignored"). Never silent.
  std::vector<std::string> notes;
};

}  // namespace alx
