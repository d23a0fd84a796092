// Image files under an image root: the header check (max_pixels) before OpenCV decodes.
// The first byte picks the file extension; the limit is 1 M pixels so that a header
// claiming more is refused before any decoding.
#include <alx/core/image_source.h>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* kNames[] = {"a.png", "a.jpg", "a.bmp", "a.gif"};
  const std::string name = kNames[size > 0 ? data[0] % 4 : 0];
  const std::string path = alx::fuzz::write_input(data, size, "root/" + name);
  alx::FileImageOptions options;
  options.max_pixels = int64_t{1} << 20;
  alx::FileImageSource source(alx::fuzz::scratch() / "root", {name}, options);
  alx::fuzz::expect_refusal_or_success(name, [&] {
    const cv::Mat m = source.load(0);
    if (m.empty() || static_cast<int64_t>(m.total()) > options.max_pixels) std::abort();
  });
  return 0;
}
