// Helpers for the io tests: fixture paths, scratch folders, message checks.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace alx::io::test {

inline std::string fixture(const std::string& relative) {
  return std::string(ALX_FIXTURES_DIR) + "/" + relative;
}

inline const std::string kLsSdk = "label-studio-sdk/tests/custom/converter/data/";
inline const std::string kDatumaro = "datumaro/tests/assets/";

/// A fresh folder under the build tree for one test.
inline std::filesystem::path scratch(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir =
      std::filesystem::path(ALX_TEST_TMP) / "io" /
      (std::string(info->test_suite_name()) + "." + info->name() + "." + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::string write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

inline void touch(const std::filesystem::path& path) { write_text(path, "x"); }

}  // namespace alx::io::test

/// Expects `statement` to throw `type` whose message contains every given fragment.
#define EXPECT_THROW_WITH(statement, type, ...)                     \
  do {                                                              \
    try {                                                           \
      statement;                                                    \
      ADD_FAILURE() << "expected " #type " from " #statement;       \
    } catch (const type& alx_err_) {                                \
      const std::string alx_msg_ = alx_err_.what();                 \
      for (const char* alx_frag_ : {__VA_ARGS__})                   \
        EXPECT_NE(alx_msg_.find(alx_frag_), std::string::npos)      \
            << "message lacks '" << alx_frag_ << "': " << alx_msg_; \
    }                                                               \
  } while (0)
