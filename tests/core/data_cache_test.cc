// Data cache: a built file maps back to the same samples, a damaged file (payload, header,
// length, name) is rebuilt and never used, processes racing for one key build it once, and an
// unusable folder is a usage error.
#include "core/data_cache.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include "core/dataset.h"
#include "core/errors.h"
#include "tests/core/gathered.h"
#include "tests/core/test_files.h"

namespace mlp {
namespace {

using test_files::read_bytes;
using test_files::TempDir;
using test_files::write_raw;
using test_files::write_text;

constexpr uint64_t kKey = 0x1234abcd5678ef90ULL;

std::shared_ptr<const SampleTable> byte_table() {
  std::vector<uint8_t> x(5 * 9);
  for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<uint8_t>(k * 29 % 256);
  return SampleTable::of_bytes(5, x, {0, 1, 2, 3, 0, 1, 2, 3, 0}, 4);
}

std::shared_ptr<const SampleTable> regression_table() {
  Matrix<float> x = Matrix<float>::Random(3, 7), targets = Matrix<float>::Random(2, 7);
  return SampleTable::of_floats(x, {}, targets, 0);
}

void expect_same_samples(const std::shared_ptr<const SampleTable>& a,
                         const std::shared_ptr<const SampleTable>& b) {
  EXPECT_EQ(a->shape().type, b->shape().type);
  EXPECT_EQ(fingerprint(whole_table(a)), fingerprint(whole_table(b)));
  const Gathered ga = gather_all(whole_table(a)), gb = gather_all(whole_table(b));
  EXPECT_EQ(ga.x, gb.x);
  EXPECT_EQ(ga.labels, gb.labels);
  EXPECT_EQ(ga.targets, gb.targets);
}

class DataCache : public ::testing::Test {
 protected:
  // The cached table of `original`; counts the builds and keeps the notes.
  std::shared_ptr<const SampleTable> cached(const std::shared_ptr<const SampleTable>& original,
                                            uint64_t key = kKey) {
    notes_.clear();
    return cached_table(dir_.path(), key, [&] {
      ++builds_;
      return original;
    }, &notes_);
  }
  std::string path() const { return data_cache_path(dir_.path(), kKey); }

  // Damages the cache file with f, then expects one rebuild whose note contains `why`.
  void expect_rebuilt_after(const std::function<void(std::vector<uint8_t>&)>& damage,
                            const std::string& why) {
    const auto original = byte_table();
    cached(original);
    std::vector<uint8_t> bytes = read_bytes(path());
    damage(bytes);
    write_raw(path(), bytes);
    std::string reason;
    EXPECT_EQ(open_cache_file(path(), kKey, &reason), nullptr);
    EXPECT_NE(reason.find(why), std::string::npos) << reason;
    builds_ = 0;
    const auto again = cached(original);
    EXPECT_EQ(builds_, 1);
    ASSERT_EQ(notes_.size(), 1u);
    EXPECT_NE(notes_[0].find(path() + ": " + why), std::string::npos) << notes_[0];
    EXPECT_NE(notes_[0].find("; rebuilding it"), std::string::npos) << notes_[0];
    expect_same_samples(again, original);
  }

  TempDir dir_;
  int builds_ = 0;
  std::vector<std::string> notes_;
};

TEST_F(DataCache, BuildsOnceThenMapsTheSameSamples) {
  const auto original = byte_table();
  const auto first = cached(original);
  EXPECT_EQ(builds_, 1);
  EXPECT_TRUE(notes_.empty());  // a first build is silent
  EXPECT_NE(first, original);  // the mapped file, not the table that was built
  expect_same_samples(first, original);

  const auto second = cached(original);
  EXPECT_EQ(builds_, 1);
  EXPECT_TRUE(notes_.empty());
  expect_same_samples(second, original);
  // No temp file is left behind; the lock file stays for the next process.
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path()))
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
}

TEST_F(DataCache, FloatTablesWithTargetsRoundTrip) {
  const auto original = regression_table();
  const auto mapped = cached(original);
  EXPECT_EQ(mapped->shape().target_rows, 2);
  expect_same_samples(mapped, original);
}

TEST_F(DataCache, CorruptPayloadIsRebuilt) {
  expect_rebuilt_after([](std::vector<uint8_t>& b) { b[128 + 17] ^= 0x40; },
                       "payload CRC mismatch");
}

TEST_F(DataCache, CorruptLabelIsRebuilt) {
  expect_rebuilt_after([](std::vector<uint8_t>& b) { b[b.size() - 4] = 9; },
                       "payload CRC mismatch");
}

TEST_F(DataCache, CorruptHeaderIsRebuilt) {
  expect_rebuilt_after([](std::vector<uint8_t>& b) { b[33] ^= 1; }, "header CRC mismatch");
}

TEST_F(DataCache, TruncatedFileIsRebuilt) {
  expect_rebuilt_after([](std::vector<uint8_t>& b) { b.resize(b.size() - 3); }, "truncated");
  expect_rebuilt_after([](std::vector<uint8_t>& b) { b.resize(100); },
                       "truncated: 100 bytes, shorter than the header");
}

TEST_F(DataCache, TrailingBytesAreRebuilt) {
  expect_rebuilt_after([](std::vector<uint8_t>& b) { b.push_back(0); }, "trailing bytes");
}

TEST_F(DataCache, ForeignFileIsRebuilt) {
  expect_rebuilt_after([](std::vector<uint8_t>& b) { b.assign(200, 'x'); }, "not a data cache file (wrong magic bytes)");
}

TEST_F(DataCache, FileUnderAnotherKeyIsNotUsed) {
  cached(byte_table());
  const std::string other = data_cache_path(dir_.path(), kKey + 1);
  std::filesystem::copy_file(path(), other);
  std::string reason;
  EXPECT_EQ(open_cache_file(other, kKey + 1, &reason), nullptr);
  EXPECT_EQ(reason, "key does not match the file name");
}

// Why a file of `table` is refused, though its CRCs hold: the table is one no reader makes.
std::string refusal_of(const std::string& dir, const std::shared_ptr<const SampleTable>& table) {
  std::vector<std::string> notes;
  const std::string path = data_cache_path(dir, kKey);
  try {
    cached_table(dir, kKey, [&] { return table; }, &notes);
    ADD_FAILURE() << "a table no reader makes was used";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": fails its check right after being written"),
              std::string::npos)
        << e.what();
  }
  std::string reason;
  EXPECT_EQ(open_cache_file(path, kKey, &reason), nullptr);
  return reason;
}

TEST_F(DataCache, NonFiniteNumbersAreNotUsed) {
  Matrix<float> x = Matrix<float>::Ones(3, 4), targets = Matrix<float>::Zero(2, 4);
  x(1, 2) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(refusal_of(dir_.file("a"), SampleTable::of_floats(x, {0, 1, 0, 1}, {}, 2)),
            "feature 1 of sample 2 is not a finite number");
  x(1, 2) = 0;
  targets(1, 3) = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(refusal_of(dir_.file("b"), SampleTable::of_floats(x, {}, targets, 0)),
            "target 1 of sample 3 is not a finite number");
}

TEST_F(DataCache, MoreClassesThanAnyReaderMakesAreNotUsed) {
  EXPECT_EQ(refusal_of(dir_.path(), SampleTable::of_bytes(1, {0, 1}, {0, 1}, kMaxClasses + 1)),
            "65537 classes, more than the 65536 any reader makes");
}

// Processes that start together on one host: one builds, the others wait and map its file.
TEST_F(DataCache, RacingProcessesBuildOnce) {
  const std::string log = dir_.file("builds.log");
  std::vector<pid_t> children;
  for (int i = 0; i < 4; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const auto original = byte_table();
      std::vector<std::string> notes;
      const auto table = cached_table(dir_.path(), kKey, [&] {
        std::ofstream(log, std::ios::app) << getpid() << "\n";
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        return original;
      }, &notes);
      _exit(fingerprint(whole_table(table)) == fingerprint(whole_table(original)) ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::ifstream in(log);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  EXPECT_EQ(lines, 1);
}

TEST_F(DataCache, UnusableFolderIsAUsageError) {
  const std::string file = write_text(dir_.file("plain"), "x");
  try {
    cached_table(file + "/cache", kKey, byte_table, &notes_);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("data cache folder " + file + "/cache: cannot create"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(DataCache, SourceKeyFollowsBytesAndReader) {
  const std::string a = write_text(dir_.file("a.csv"), "1,2\n"),
                    b = write_text(dir_.file("b.csv"), "1,2\n"),
                    c = write_text(dir_.file("c.csv"), "1,3\n");
  EXPECT_EQ(source_key({a}, "csv"), source_key({b}, "csv"));
  EXPECT_NE(source_key({a}, "csv"), source_key({c}, "csv"));
  EXPECT_NE(source_key({a}, "csv"), source_key({a}, "csv header=1"));
  EXPECT_NE(source_key({a, c}, "csv"), source_key({c, a}, "csv"));
}

}  // namespace
}  // namespace mlp
