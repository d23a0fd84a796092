// Store files damaged on disk: a flipped byte anywhere is detected (HDF5's own checks, the
// pool CRC, the content CRC) with recovery advice, or changes nothing the store holds; files
// written before the content checksum existed still open.
#include <alx/core/error.h>
#include <alx/core/store.h>

#include <H5Cpp.h>
#include <gtest/gtest.h>

#include <zlib.h>
#include <fstream>
#include <functional>
#include <random>

#include "alx_test_util.h"

namespace fs = std::filesystem;
using alx::Store;

namespace {

Store make_store(const std::string& path) {
  std::vector<std::string> ids;
  for (int i = 0; i < 400; ++i) ids.push_back("images/" + std::to_string(i) + ".png");
  alx::Pool pool(alx::Schema({"cat", "dog", "bird"}), ids);
  pool.add_labels({0, 1, 2, 3}, {0, 1, 2, 0}, 0);
  alx::Object o;
  o.label = 1;
  o.box = {1, 2, 30, 40};
  o.score = 0.75f;
  o.polygons = {{{1, 2}, {30, 2}, {30, 40}}};
  pool.set_objects(5, {o});
  Store s = Store::create(path, std::move(pool));
  for (int r = 1; r <= 3; ++r) {
    alx::RoundRecord rec;
    rec.round = r;
    rec.selected = {10 * r, 10 * r + 1};
    rec.selected_ids = {"images/" + std::to_string(10 * r) + ".png",
                        "images/" + std::to_string(10 * r + 1) + ".png"};
    rec.scores = {0.5f, 0.25f};
    rec.model_version = "gal_cnn-r" + std::to_string(r);
    rec.metrics = {{"accuracy", 0.5 + 0.1 * r}};
    rec.seconds = {{"train", 1.0}};
    s.pool().add_labels(rec.selected, {1, 2}, r);
    s.add_round(rec);
  }
  s.set_array("embeddings", {{4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}, "gal_cnn-r3"});
  s.set_meta("config", "loop: {rounds: 3}");
  s.save();
  return s;
}

bool same_content(const Store& a, const Store& b) {
  if (!(a.pool() == b.pool()) || a.rounds() != b.rounds() || a.meta() != b.meta()) return false;
  const auto* x = a.array("embeddings");
  const auto* y = b.array("embeddings");
  return x && y && x->shape == y->shape && x->data == y->data && x->tag == y->tag;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

/// Rewrites the seal (the 512-byte header) of a store edited behind alx's back, so that what
/// is tested next is the checksums inside the file.
void reseal(const std::string& path) {
  std::string bytes = read_bytes(path);
  const std::string body = bytes.substr(512);
  const auto crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(body.data()),
                         static_cast<uInt>(body.size()));
  char header[512] = {};
  std::snprintf(header, sizeof header, "alx-store sealed 1\nsize %zu\ncrc32 %08lx\n", body.size(),
                crc);
  write_bytes(path, std::string(header, sizeof header) + body);
}

}  // namespace

// Flip one byte at 300 positions spread over the whole file (header, B-trees, heaps, raw
// data). Each time the store either refuses to open with an IoError naming the file and
// saying how to recover, or opens with exactly the content that was saved (the byte was
// unused space). It never opens with different labels, rounds, arrays or meta.
TEST(StoreFaults, EveryFlippedByteIsDetectedOrHarmless) {
  alx::test::TempDir dir;
  const std::string ref_path = dir.str("ref.h5");
  { make_store(ref_path); }
  const Store ref = Store::open(ref_path);
  const std::string original = read_bytes(ref_path);
  ASSERT_GT(original.size(), 4096u);

  const std::string path = dir.str("s.h5");
  write_bytes(path + ".bak", original);  // what the advice points to
  std::mt19937 rng(11);
  int detected = 0, harmless = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string bytes = original;
    const std::size_t at = trial * (bytes.size() / 300) + rng() % (bytes.size() / 300);
    bytes[at] = static_cast<char>(bytes[at] ^ (1 + rng() % 255));
    write_bytes(path, bytes);
    SCOPED_TRACE("byte " + std::to_string(at) + " of " + std::to_string(bytes.size()));
    try {
      const Store s = Store::open(path);
      ASSERT_TRUE(same_content(s, ref)) << "a damaged store opened with different content";
      ++harmless;
    } catch (const alx::IoError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find("copy it over"), std::string::npos) << msg;
      ++detected;
    }
  }
  EXPECT_GT(detected, 0);
  std::printf("[ bit flips ] %d detected, %d in unused bytes (content unchanged)\n", detected,
              harmless);
}

// Values that HDF5 itself does not check (a round's scores and selection, an array value, an
// object's box), changed through HDF5 and resealed, are caught by the content checksum.
TEST(StoreFaults, ChangedRoundDataIsCaughtByTheContentChecksum) {
  alx::test::TempDir dir;
  const std::string path = dir.str("s.h5");
  { make_store(path); }
  H5::Exception::dontPrint();
  const auto tamper = [&](const std::function<void(H5::H5File&)>& edit) {
    fs::copy_file(path, dir.str("t.h5"), fs::copy_options::overwrite_existing);
    {
      H5::H5File f(dir.str("t.h5"), H5F_ACC_RDWR);
      edit(f);
    }
    // The seal alone would already refuse the file (any changed byte does); reseal it so
    // that the content checksum is what must notice.
    reseal(dir.str("t.h5"));
    try {
      Store::open(dir.str("t.h5"));
      ADD_FAILURE() << "a modified store opened";
    } catch (const alx::IoError& e) {
      EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos) << e.what();
    }
  };
  tamper([](H5::H5File& f) {  // a score of round 2
    H5::DataSet ds = f.openDataSet("/rounds/000002/scores");
    const float v[2] = {0.5f, 0.875f};
    ds.write(v, H5::PredType::NATIVE_FLOAT);
  });
  tamper([](H5::H5File& f) {  // which items round 1 selected
    H5::DataSet ds = f.openDataSet("/rounds/000001/selected");
    const int64_t v[2] = {10, 12};
    ds.write(v, H5::PredType::NATIVE_INT64);
  });
  tamper([](H5::H5File& f) {  // a cached embedding
    H5::DataSet ds = f.openDataSet("/arrays/embeddings");
    const float v[8] = {1, 2, 3, 4, 5, 6, 7, 9};
    ds.write(v, H5::PredType::NATIVE_FLOAT);
  });
  tamper([](H5::H5File& f) {  // an object's box
    H5::DataSet ds = f.openDataSet("/pool/objects/box");
    const float v[4] = {1, 2, 31, 40};
    ds.write(v, H5::PredType::NATIVE_FLOAT);
  });
}

// A store written before "content_checksum" existed (format version 1 all the same) opens.
// (Stores from before the seal, with HDF5's signature at byte 0, are covered by
// SealedAndUnsealedStoresOpen.)
TEST(StoreFaults, StoresWithoutTheContentChecksumStillOpen) {
  alx::test::TempDir dir;
  const std::string path = dir.str("s.h5");
  { make_store(path); }
  const Store ref = Store::open(dir.str("s.h5"));
  fs::copy_file(path, dir.str("old.h5"));
  {
    H5::H5File f(dir.str("old.h5"), H5F_ACC_RDWR);
    f.removeAttr("content_checksum");
  }
  reseal(dir.str("old.h5"));
  EXPECT_TRUE(same_content(Store::open(dir.str("old.h5")), ref));
  // Saving it again adds the checksum.
  {
    Store s = Store::open(dir.str("old.h5"));
    s.save();
  }
  H5::H5File f(dir.str("old.h5"), H5F_ACC_RDONLY);
  EXPECT_TRUE(f.attrExists("content_checksum"));
}

// A dataset header that claims more elements than the file has bytes is refused before
// anything is allocated (found by fuzz_store).
TEST(StoreFaults, ImpossibleDatasetSizesAreRefusedBeforeAllocating) {
  alx::test::TempDir dir;
  const std::string path = dir.str("s.h5");
  {
    H5::H5File f(path, H5F_ACC_TRUNC);
    H5::StrType st(H5::PredType::C_S1, H5T_VARIABLE);
    st.setCset(H5T_CSET_UTF8);  // as the store writes its strings
    const char* p = "alx-store";
    f.createAttribute("alx_format", st, H5::DataSpace(H5S_SCALAR)).write(st, &p);
    const int32_t version = 1;
    f.createAttribute("alx_version", H5::PredType::NATIVE_INT32, H5::DataSpace(H5S_SCALAR))
        .write(H5::PredType::NATIVE_INT32, &version);
    H5::Group pool = f.createGroup("/pool");
    H5::Group schema = f.createGroup("/schema");
    const hsize_t huge[1] = {hsize_t{1} << 40};  // never written: no storage at all
    schema.createDataSet("classes", st, H5::DataSpace(1, huge));
    pool.createDataSet("ids", st, H5::DataSpace(1, huge));
  }
  try {
    Store::open(path);
    FAIL();
  } catch (const alx::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("claims more elements than the file holds"),
              std::string::npos)
        << e.what();
  }
}

// A store without the seal — HDF5's signature at byte 0, as every store was before the seal —
// still opens; a damaged seal header is refused; any byte changed after it is refused before
// HDF5 parses anything.
TEST(StoreFaults, SealedAndUnsealedStoresOpen) {
  alx::test::TempDir dir;
  const std::string path = dir.str("s.h5");
  { make_store(path); }
  const Store ref = Store::open(path);
  const std::string bytes = read_bytes(path);
  ASSERT_EQ(bytes.compare(0, 19, "alx-store sealed 1\n"), 0);

  {  // an unsealed file: the same store written by HDF5 without a user block
    H5::H5File in(path, H5F_ACC_RDONLY);
    H5::H5File out(dir.str("unsealed.h5"), H5F_ACC_TRUNC);
    for (const char* attr : {"alx_format", "alx_version", "checksum", "content_checksum"}) {
      H5::Attribute a = in.openAttribute(attr);
      std::vector<char> buf(a.getInMemDataSize() + 64);
      H5::DataType t = a.getDataType();
      a.read(t, buf.data());
      out.createAttribute(attr, t, H5::DataSpace(H5S_SCALAR)).write(t, buf.data());
      if (t.isVariableStr()) H5free_memory(*reinterpret_cast<char**>(buf.data()));
    }
    for (const char* g : {"schema", "pool", "rounds", "arrays", "meta"})
      H5Ocopy(in.getId(), g, out.getId(), g, H5P_DEFAULT, H5P_DEFAULT);
  }
  ASSERT_EQ(read_bytes(dir.str("unsealed.h5")).compare(0, 4, "\x89HDF"), 0);
  EXPECT_TRUE(same_content(Store::open(dir.str("unsealed.h5")), ref));

  std::string damaged = bytes;
  damaged[25] ^= 0x10;  // inside "size <n>"
  write_bytes(dir.str("d1.h5"), damaged);
  EXPECT_THROW(Store::open(dir.str("d1.h5")), alx::IoError);
  damaged = bytes;
  damaged[bytes.size() / 2] ^= 0x01;
  write_bytes(dir.str("d2.h5"), damaged);
  try {
    Store::open(dir.str("d2.h5"));
    FAIL();
  } catch (const alx::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("does not match the CRC-32"), std::string::npos)
        << e.what();
  }
  write_bytes(dir.str("d3.h5"), bytes + "x");
  try {
    Store::open(dir.str("d3.h5"));
    FAIL();
  } catch (const alx::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated or extended"), std::string::npos) << e.what();
  }
}
