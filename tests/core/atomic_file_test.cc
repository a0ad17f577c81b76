// Atomic file replacement: the new bytes replace the old whole, no temporary file is left, and a
// write that cannot happen is one error naming the file and the reason.
#include "core/atomic_file.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

TEST(AtomicFile, ASymlinkStaysALinkAndItsTargetIsReplaced) {
  test_files::TempDir dir;
  const std::string target = dir.file("target.csv"), link = dir.file("link.csv");
  write_file_atomically(target, "old\n");
  std::filesystem::create_symlink(target, link);
  write_file_atomically(link, "new\n");
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  const std::vector<uint8_t> bytes = test_files::read_bytes(target);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "new\n");
  EXPECT_FALSE(std::filesystem::exists(link + ".tmp"));
}

// `--output /dev/stdout` or a named pipe: a rename would put a regular file in its place.
TEST(AtomicFile, APipeIsWrittenInPlaceAndStaysAPipe) {
  test_files::TempDir dir;
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  write_file_atomically(fifo, "rows\n");
  char got[16] = {};
  EXPECT_EQ(::read(reader, got, sizeof got), 5);
  ::close(reader);
  EXPECT_EQ(std::string(got), "rows\n");
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
  EXPECT_FALSE(std::filesystem::exists(fifo + ".tmp"));
}

TEST(AtomicFile, AFolderIsOneErrorAndStaysAFolder) {
  test_files::TempDir dir;
  const std::string folder = dir.file("out");
  std::filesystem::create_directory(folder);
  try {
    write_file_atomically(folder, "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), folder + ": cannot open for writing: Is a directory");
  }
  EXPECT_TRUE(std::filesystem::is_directory(folder));
}

}  // namespace
}  // namespace mlp
