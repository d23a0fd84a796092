// COCO instances files, then the same bytes as a COCO results file against their ids.
#include <alx/core/io/coco.h>
#include <alx/core/io/detection.h>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = alx::fuzz::write_input(data, size, "instances.json");
  alx::io::CocoIds ids = alx::io::CocoIds::dense(8, 4);
  alx::fuzz::expect_refusal_or_success(path, [&] {
    const auto options = alx::io::CocoOptions().check_images(false).images_root(
        (alx::fuzz::scratch() / "root").string());
    auto coco = alx::io::read_coco(path, options);
    if (coco.sizes.size() != static_cast<std::size_t>(coco.dataset.pool.size())) std::abort();
    ids = coco.ids;
  });
  alx::fuzz::expect_refusal_or_success(path, [&] {
    auto objects = alx::io::read_coco_results(path, ids);
    if (objects.size() != ids.image_ids.size()) std::abort();
    alx::io::image_uncertainties(objects);  // scores were validated by the reader
  });
  return 0;
}
