// Helpers for reader tests: a temporary directory removed at the end of the test, raw and
// gzip file writers, and an assertion that a call throws DataError with a given message.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/errors.h"

namespace mlp::test_files {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mlp_test_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string write_raw(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
  return path;
}

inline std::string write_text(const std::string& path, const std::string& text) {
  return write_raw(path, std::vector<uint8_t>(text.begin(), text.end()));
}

// Compresses with zlib's gzip writer, the same format the published dataset files use.
inline std::string write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile gz = gzopen(path.c_str(), "wb");
  if (gz == nullptr) throw std::runtime_error("cannot gzopen " + path);
  const int written =
      bytes.empty() ? 0 : gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
  if (gzclose(gz) != Z_OK || written != static_cast<int>(bytes.size())) {
    throw std::runtime_error("cannot gzwrite " + path);
  }
  return path;
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Passes when f throws DataError whose message contains `expected`; otherwise reports what
// happened instead, including the actual message.
inline ::testing::AssertionResult throws_data_error(const std::function<void()>& f,
                                                    const std::string& expected) {
  try {
    f();
  } catch (const DataError& e) {
    const std::string message = e.what();
    if (message.find(expected) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "message \"" << message << "\" does not contain \"" << expected << "\"";
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw; expected \"" << expected << "\"";
}

}  // namespace mlp::test_files
