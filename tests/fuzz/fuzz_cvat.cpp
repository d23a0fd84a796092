// CVAT for images 1.1 XML exports.
#include <alx/core/io/cvat.h>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = alx::fuzz::write_input(data, size, "annotations.xml");
  alx::fuzz::expect_refusal_or_success(path, [&] {
    const auto options = alx::io::CvatOptions().check_images(false).images_root(
        (alx::fuzz::scratch() / "root").string());
    auto cvat = alx::io::read_cvat(path, options);
    const auto n = static_cast<std::size_t>(cvat.dataset.pool.size());
    if (cvat.names.size() != n || cvat.sizes.size() != n) std::abort();
  });
  return 0;
}
