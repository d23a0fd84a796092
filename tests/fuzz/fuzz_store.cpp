// The store file: arbitrary bytes as "<scratch>/store.h5", opened with Store::open.
//
// A store's first 512 bytes seal the rest (size and CRC-32, checked before HDF5 reads
// anything), so by default this target fuzzes what alx itself parses — the seal and the
// refusal of every damaged file — and skips unsealed inputs, which go straight to HDF5.
// HDF5 1.10.8 itself hangs or reads out of bounds on some damaged files (timeouts in
// H5HG_read, a memcpy overlap in H5T__conv_vlen; not fixable in alx), which is why stores
// are sealed. With ALX_FUZZ_STORE_HDF5=1 the target also hands HDF5 unsealed inputs and
// reseals sealed ones, to fuzz alx's reading of whatever HDF5 returns (long runs only).
#include <alx/core/store.h>
#include <zlib.h>

#include <cstring>

#include "fuzz_util.h"

namespace {

constexpr std::size_t kSeal = 512;
const char kMagic[] = "alx-store sealed 1\n";

/// The bytes with a seal that matches them (so that HDF5 parses the rest).
std::string resealed(const uint8_t* data, size_t size) {
  const auto crc = crc32(crc32(0L, Z_NULL, 0), data + kSeal, static_cast<uInt>(size - kSeal));
  char header[kSeal] = {};
  std::snprintf(header, sizeof header, "%ssize %zu\ncrc32 %08lx\n", kMagic, size - kSeal, crc);
  return std::string(header, kSeal) +
         std::string(reinterpret_cast<const char*>(data) + kSeal, size - kSeal);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool hdf5 = std::getenv("ALX_FUZZ_STORE_HDF5") != nullptr;
  const bool unsealed = size >= 4 && std::memcmp(data, "\x89HDF", 4) == 0;
  if (unsealed && !hdf5) return 0;
  std::string path;
  if (hdf5 && size > kSeal && std::memcmp(data, kMagic, sizeof kMagic - 1) == 0) {
    const std::string bytes = resealed(data, size);
    path = alx::fuzz::write_input(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                  "store.h5");
  } else {
    path = alx::fuzz::write_input(data, size, "store.h5");
  }
  alx::fuzz::expect_refusal_or_success(path, [&] {
    alx::Store store = alx::Store::open(path);
    const alx::Pool& pool = store.pool();
    int64_t labeled = 0;
    for (int64_t i = 0; i < pool.size(); ++i) labeled += pool.label(i) >= 0;
    if (labeled != pool.num_labeled()) std::abort();
    for (const auto& r : store.rounds())
      if (!r.scores.empty() && r.scores.size() != r.selected.size()) std::abort();
  });
  return 0;
}
