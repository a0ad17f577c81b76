// Reading files: a regular file whole or in pieces, a pipe and a /proc file to their end, and the
// phrase each failure gives the caller's error line (missing file, folder, size limit).
#include "core/input_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/core/test_files.h"

namespace mlp {
namespace {

using test_files::TempDir;
using test_files::write_text;

// Bytes 0..255 over and over: a file whose pieces show when one is misplaced.
std::string pattern(size_t n) {
  std::string text(n, '\0');
  for (size_t i = 0; i < n; ++i) text[i] = static_cast<char>(i * 7 % 256);
  return text;
}

TEST(ReadWholeFile, ReadsARegularFileWhole) {
  const TempDir dir;
  const std::string content = pattern(100000);
  write_text(dir.file("a.bin"), content);
  std::string bytes = "left over", why;
  ASSERT_TRUE(read_whole_file(dir.file("a.bin"), &bytes, &why)) << why;
  EXPECT_EQ(bytes, content);
  write_text(dir.file("empty"), "");
  ASSERT_TRUE(read_whole_file(dir.file("empty"), &bytes));
  EXPECT_EQ(bytes, "");
}

// A pipe tells no size: it is read in pieces to its end (here over several of the reader's).
TEST(ReadWholeFile, ReadsAPipeToItsEnd) {
  const TempDir dir;
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string content = pattern(300000);
  std::thread writer([&] {
    std::FILE* f = std::fopen(fifo.c_str(), "wb");
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
  });
  std::string bytes, why;
  const bool ok = read_whole_file(fifo, &bytes, &why);
  writer.join();
  ASSERT_TRUE(ok) << why;
  EXPECT_EQ(bytes, content);
}

// /proc files are regular files of size 0 that hold text all the same.
TEST(ReadWholeFile, ReadsAProcFileWhoseSizeSaysZero) {
  std::string bytes, why;
  ASSERT_TRUE(read_whole_file("/proc/self/status", &bytes, &why)) << why;
  EXPECT_EQ(bytes.rfind("Name:", 0), 0u) << bytes;
}

TEST(ReadWholeFile, SaysWhatFailedForTheCallersErrorLine) {
  const TempDir dir;
  std::string bytes = "left over", why;
  EXPECT_FALSE(read_whole_file(dir.file("missing"), &bytes, &why));
  EXPECT_EQ(why, "cannot open: No such file or directory");
  EXPECT_EQ(bytes, "");
  EXPECT_FALSE(read_whole_file(dir.path(), &bytes, &why));
  EXPECT_EQ(why, "read failed: Is a directory");
  EXPECT_FALSE(read_whole_file(dir.path(), &bytes));  // why is optional

  const FileSizeLimit limit{10, "test size limit"};
  EXPECT_FALSE(read_whole_file(dir.path(), &bytes, &why, &limit));
  EXPECT_EQ(why, "not a regular file");
  write_text(dir.file("eleven"), "eleven byte");
  EXPECT_FALSE(read_whole_file(dir.file("eleven"), &bytes, &why, &limit));
  EXPECT_EQ(why, "11 bytes is over the test size limit of 10");
  write_text(dir.file("ten"), "ten bytes!");
  ASSERT_TRUE(read_whole_file(dir.file("ten"), &bytes, &why, &limit)) << why;
  EXPECT_EQ(bytes, "ten bytes!");
}

// A sparse file far over the limit is refused from its size alone.
TEST(InputFile, RefusesAFileOverTheLimitBeforeReading) {
  const TempDir dir;
  write_text(dir.file("huge"), "x");
  std::filesystem::resize_file(dir.file("huge"), uint64_t{3} << 30);
  const FileSizeLimit limit{1 << 20, "limit"};
  const InputFile file(dir.file("huge"), &limit);
  EXPECT_FALSE(file.ok());
  EXPECT_EQ(file.why(), "3221225472 bytes is over the limit of 1048576");
}

TEST(InputFile, ReadsInPiecesUpToTheEnd) {
  const TempDir dir;
  const std::string content = pattern(1000);
  write_text(dir.file("a.bin"), content);
  InputFile file(dir.file("a.bin"));
  ASSERT_TRUE(file.ok()) << file.why();
  EXPECT_TRUE(file.regular());
  EXPECT_EQ(file.size(), 1000u);
  std::string read(1000, '\0');
  EXPECT_EQ(file.read(read.data(), 600), 600u);
  EXPECT_EQ(file.read(read.data() + 600, 600), 400u);  // fewer only at the end
  EXPECT_EQ(file.read(read.data(), 10), 0u);
  EXPECT_TRUE(file.ok());
  EXPECT_EQ(read, content);

  InputFile folder(dir.path());
  ASSERT_TRUE(folder.ok());
  EXPECT_FALSE(folder.regular());
  EXPECT_EQ(folder.size(), 0u);
  char c = 0;
  EXPECT_EQ(folder.read(&c, 1), 0u);
  EXPECT_EQ(folder.why(), "read failed: Is a directory");
}

}  // namespace
}  // namespace mlp
