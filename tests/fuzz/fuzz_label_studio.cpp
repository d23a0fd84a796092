// Label Studio JSON exports (and labeling configs: inputs that start with '<').
#include <alx/core/io/detection.h>
#include <alx/core/io/label_studio.h>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = alx::fuzz::write_input(data, size, "export.json");
  alx::fuzz::expect_refusal_or_success(path, [&] {
    if (size > 0 && data[0] == '<') {
      alx::io::read_label_studio_config(path);
      return;
    }
    const auto options = alx::io::LabelStudioOptions().check_images(false).images_root(
        (alx::fuzz::scratch() / "root").string());
    auto ls = alx::io::read_label_studio(path, options);
    const auto n = static_cast<std::size_t>(ls.dataset.pool.size());
    if (ls.task_ids.size() != n || ls.image_refs.size() != n || ls.predictions.size() != n)
      std::abort();  // per-item vectors must match the pool
    auto objects = alx::io::prediction_objects(ls);
    if (objects.size() != n) std::abort();
  });
  return 0;
}
