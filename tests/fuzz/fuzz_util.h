// Shared by the libFuzzer targets: the input as a file in a private scratch folder, and the
// contract every reader of outside input keeps whatever the bytes:
//   - it returns, or it throws one of alx's own errors (IoError, FormatError, InvalidArgument,
//     ConfigError) — never a crash, a hang, an unbounded allocation or a foreign exception
//     (std::out_of_range, nlohmann::json::exception, YAML::Exception, std::bad_alloc …);
//   - the error names the file it refuses.
// Anything else escapes LLVMFuzzerTestOneInput and libFuzzer reports it as a finding.
#pragma once

#include <alx/core/error.h>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace alx::fuzz {

/// A folder of this process under the system temp folder, removed at exit.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("alx-fuzz." + std::to_string(::getpid()));
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d / "root");
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch(), ec);
    });
    return d;
  }();
  return dir;
}

/// Writes the input to scratch()/name and returns its path.
inline std::string write_input(const uint8_t* data, std::size_t size, const std::string& name) {
  const std::string path = (scratch() / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

/// Runs `read`; alx's errors are the expected refusals, and each must name `file`.
template <class F>
void expect_refusal_or_success(const std::string& file, F&& read) {
  auto check = [&](const std::exception& e) {
    const std::string msg = e.what();
    if (msg.find(file) == std::string::npos) {
      std::fprintf(stderr, "alx fuzz: an error does not name the file '%s':\n  %s\n", file.c_str(),
                   msg.c_str());
      std::abort();
    }
  };
  try {
    read();
  } catch (const alx::FormatError& e) {
    check(e);
  } catch (const alx::IoError& e) {
    check(e);
  } catch (const alx::InvalidArgument& e) {
    check(e);
  } catch (const alx::ConfigError& e) {
    check(e);
  }
}

}  // namespace alx::fuzz
