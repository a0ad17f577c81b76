// Atomic file replacement: the new bytes replace the old whole, no temporary file is left, and a
// write that cannot happen is one error naming the file and the reason.
#include "core/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/errors.h"
#include "tests/core/test_files.h"

namespace mlp {
namespace {

TEST(AtomicFile, ReplacesTheWholeFileAndLeavesNoTemporary) {
  test_files::TempDir dir;
  const std::string path = dir.file("ledger.txt");
  write_file_atomically(path, "a much longer first version\n");
  write_file_atomically(path, "short\n");
  const std::vector<uint8_t> bytes = test_files::read_bytes(path);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "short\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(AtomicFile, AFolderThatDoesNotExistIsOneError) {
  test_files::TempDir dir;
  const std::string path = dir.file("missing/ledger.txt");
  try {
    write_file_atomically(path, "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ".tmp: cannot create: No such file or directory");
  }
}

}  // namespace
}  // namespace mlp
