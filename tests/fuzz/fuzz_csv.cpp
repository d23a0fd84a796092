// "image,label" tables and whitespace-separated ".txt" lists (first byte picks the kind).
#include <alx/core/io/csv.h>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bool txt = size > 0 && (data[0] & 1);
  const std::string path = alx::fuzz::write_input(data, size, txt ? "labels.txt" : "labels.csv");
  alx::fuzz::expect_refusal_or_success(path, [&] {
    alx::io::CsvOptions options;
    options.images_root = (alx::fuzz::scratch() / "root").string();
    auto ds = alx::io::read_csv(path, options);
    if (ds.images == nullptr || ds.images->size() != ds.pool.size()) std::abort();
  });
  return 0;
}
