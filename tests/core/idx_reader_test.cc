// IDX reader: raw and gzip files round-trip to the bytes written, and every malformed file is
// refused with a message that names the file and the problem.
#include "core/idx_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "tests/core/gathered.h"
#include "tests/core/test_files.h"

namespace mlp {
namespace {

using test_files::read_bytes;
using test_files::TempDir;
using test_files::throws_data_error;
using test_files::write_gzip;
using test_files::write_raw;
using test_files::write_text;

std::vector<uint8_t> idx(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data,
                         uint8_t type = 0x08) {
  std::vector<uint8_t> bytes = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (const uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(d >> shift));
  }
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

// Three 2x3 images with every pixel distinct, including both ends of the byte range.
std::vector<uint8_t> pixels() {
  std::vector<uint8_t> p(18);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 15);
  p[17] = 255;
  return p;
}

class IdxReader : public ::testing::Test {
 protected:
  std::string images(const std::vector<uint8_t>& bytes, bool gzip = false) {
    return gzip ? write_gzip(dir_.file("images.gz"), bytes) : write_raw(dir_.file("images"), bytes);
  }
  std::string labels(const std::vector<uint8_t>& bytes) {
    return write_raw(dir_.file("labels"), bytes);
  }
  std::string good_images() { return images(idx({3, 2, 3}, pixels())); }
  std::string good_labels() { return labels(idx({3}, {7, 0, 9})); }

  TempDir dir_;
};

void expect_matches_written(const Dataset& d) {
  const std::vector<uint8_t> p = pixels();
  ASSERT_EQ(d.size(), 3);
  ASSERT_EQ(d.features(), 6);
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_EQ(d.table->shape().type, FeatureType::kUint8);  // pixels stay bytes until gathered
  const Gathered g = gather_all(d);
  EXPECT_EQ(g.labels, (std::vector<int32_t>{7, 0, 9}));
  EXPECT_EQ(g.targets.size(), 0);
  EXPECT_TRUE(d.classification());
  for (int j = 0; j < 3; ++j) {
    for (int i = 0; i < 6; ++i) EXPECT_EQ(g.x(i, j), p[static_cast<size_t>(j * 6 + i)] / 255.0f);
  }
  EXPECT_EQ(g.x(5, 2), 1.0f);
  EXPECT_EQ(g.x(0, 0), 0.0f);
}

TEST_F(IdxReader, RawRoundTrip) {
  expect_matches_written(read_idx_pair(good_images(), good_labels()));
}

TEST_F(IdxReader, GzipRoundTrip) {
  const std::string labels_gz = write_gzip(dir_.file("labels.gz"), idx({3}, {7, 0, 9}));
  expect_matches_written(read_idx_pair(images(idx({3, 2, 3}, pixels()), true), labels_gz));
}

TEST_F(IdxReader, GzipIsDetectedByContentNotByName) {
  const std::string path = write_gzip(dir_.file("plain-name"), idx({3}, {1, 2, 3}));
  EXPECT_EQ(read_bytes(path)[0], 0x1f);
  EXPECT_EQ(read_maybe_gzip(path, 1000), idx({3}, {1, 2, 3}));
}

TEST_F(IdxReader, ConcatenatedGzipMembersAreReadLikeGunzip) {
  std::vector<uint8_t> both = read_bytes(write_gzip(dir_.file("a.gz"), {1, 2}));
  const std::vector<uint8_t> second = read_bytes(write_gzip(dir_.file("b.gz"), {3, 4, 5}));
  both.insert(both.end(), second.begin(), second.end());
  EXPECT_EQ(read_maybe_gzip(write_raw(dir_.file("ab.gz"), both), 1000),
            (std::vector<uint8_t>{1, 2, 3, 4, 5}));
}

TEST_F(IdxReader, SizeCapAllowsExactlyTheLimit) {
  const std::vector<uint8_t> bytes(5000, 7);
  EXPECT_EQ(read_maybe_gzip(write_gzip(dir_.file("z.gz"), bytes), 5000), bytes);
  EXPECT_EQ(read_maybe_gzip(write_raw(dir_.file("z"), bytes), 5000), bytes);
}

TEST_F(IdxReader, FolderWithMixedRawAndGzipFiles) {
  write_gzip(dir_.file("train-images-idx3-ubyte.gz"), idx({3, 2, 3}, pixels()));
  write_raw(dir_.file("train-labels-idx1-ubyte"), idx({3}, {7, 0, 9}));
  write_raw(dir_.file("t10k-images-idx3-ubyte"), idx({1, 2, 3}, {0, 1, 2, 3, 4, 5}));
  write_gzip(dir_.file("t10k-labels-idx1-ubyte.gz"), idx({1}, {4}));
  const TrainTest tt = read_idx_folder(dir_.path());
  expect_matches_written(tt.train);
  ASSERT_EQ(tt.test.size(), 1);
  const Gathered test = gather_all(tt.test);
  EXPECT_EQ(test.labels, (std::vector<int32_t>{4}));
  EXPECT_EQ(test.x(5, 0), 5 / 255.0f);
}

// Bad files. Each case asserts the part of the message that tells the user what is wrong.

TEST_F(IdxReader, MissingFile) {
  EXPECT_TRUE(throws_data_error([&] { read_idx_pair(dir_.file("nope"), good_labels()); },
                                dir_.file("nope") + ": cannot open: No such file or directory"));
}

TEST_F(IdxReader, DirectoryInsteadOfFile) {
  const std::string d = dir_.path();
  EXPECT_TRUE(throws_data_error([&] { read_maybe_gzip(d, 100); },
                                d + ": is a directory, expected a data file"));
}

TEST_F(IdxReader, FolderMissingAFile) {
  const std::string d = dir_.path();
  write_raw(dir_.file("train-images-idx3-ubyte"), idx({3, 2, 3}, pixels()));
  EXPECT_TRUE(throws_data_error(
      [&] { read_idx_folder(d); },
      d + ": neither train-labels-idx1-ubyte nor train-labels-idx1-ubyte.gz found"));
}

TEST_F(IdxReader, EmptyFile) {
  const std::string path = images({});
  EXPECT_TRUE(throws_data_error([&] { read_idx_pair(path, good_labels()); },
                                path + ": 0 bytes is too short for an IDX header"));
}

TEST_F(IdxReader, TruncatedHeader) {
  const std::string path = images({0, 0, 8, 3, 0, 0, 0, 3});
  EXPECT_TRUE(throws_data_error(
      [&] { read_idx_pair(path, good_labels()); },
      path + ": truncated IDX header: 3 dims need a 16-byte header, the file has 8 bytes"));
}

TEST_F(IdxReader, TruncatedData) {
  std::vector<uint8_t> bytes = idx({3, 2, 3}, pixels());
  bytes.pop_back();
  const std::string path = images(bytes);
  EXPECT_TRUE(throws_data_error([&] { read_idx_pair(path, good_labels()); },
                                path + ": truncated: length 33 bytes, but header 16 + data "
                                       "3 x 2 x 3 = 34 bytes expected"));
}

TEST_F(IdxReader, TrailingExtraBytes) {
  std::vector<uint8_t> bytes = idx({3}, {7, 0, 9});
  bytes.push_back(0);
  bytes.push_back(0);
  const std::string path = labels(bytes);
  EXPECT_TRUE(throws_data_error([&] { read_idx_pair(good_images(), path); },
                                path + ": trailing bytes: length 13 bytes, but header 8 + data "
                                       "3 = 11 bytes expected"));
}

TEST_F(IdxReader, WrongMagic) {
  std::vector<uint8_t> bytes = idx({3, 2, 3}, pixels());
  bytes[0] = 0x12;
  bytes[1] = 0x34;
  const std::string path = images(bytes);
  EXPECT_TRUE(
      throws_data_error([&] { read_idx_pair(path, good_labels()); },
                        path + ": not an IDX file: magic bytes 0-1 are 12 34, expected 00 00"));
}

TEST_F(IdxReader, WrongElementType) {
  const std::string path = images(idx({3, 2, 3}, pixels(), 0x0D));
  EXPECT_TRUE(throws_data_error(
      [&] { read_idx_pair(path, good_labels()); },
      path + ": IDX element type 0x0D (byte offset 2) is not supported; only unsigned bytes"));
}

TEST_F(IdxReader, DimensionCountOutsideOneToFour) {
  const std::string zero = images({0, 0, 8, 0});
  EXPECT_TRUE(throws_data_error([&] { read_idx_pair(zero, good_labels()); },
                                "IDX dimension count 0 (byte offset 3) is outside 1..4"));
  const std::string five = images(idx({1, 1, 1, 1, 1}, {42}));
  EXPECT_TRUE(throws_data_error([&] { read_idx_pair(five, good_labels()); },
                                "IDX dimension count 5 (byte offset 3) is outside 1..4"));
}

TEST_F(IdxReader, ImagesFileWithLabelDims) {
  const std::string path = images(idx({3}, {7, 0, 9}));
  EXPECT_TRUE(throws_data_error([&] { read_idx_pair(path, good_labels()); },
                                path + ": has 1 dims (3) but images (N, rows, cols) need 3"));
}

TEST_F(IdxReader, LabelsFileWithImageDims) {
  const std::string path = labels(idx({3, 2, 3}, pixels()));
  EXPECT_TRUE(throws_data_error([&] { read_idx_pair(good_images(), path); },
                                path + ": has 3 dims (3 x 2 x 3) but labels (N) need 1"));
}

TEST_F(IdxReader, ZeroDimension) {
  const std::string path = images(idx({3, 0, 3}, {}));
  EXPECT_TRUE(throws_data_error([&] { read_idx_pair(path, good_labels()); },
                                path + ": IDX dimension 1 (byte offset 8) is 0"));
}

TEST_F(IdxReader, HugeDimsThatOverflow64Bits) {
  const std::string path = images(idx({0xffffffff, 0xffffffff, 0xffffffff}, {}));
  EXPECT_TRUE(throws_data_error([&] { read_idx_pair(path, good_labels()); },
                                path + ": IDX dims 4294967295 x 4294967295 x 4294967295 claim "
                                       "more than 1073741824 bytes"));
}

TEST_F(IdxReader, DimsOverTheSizeCap) {
  // 2^31 bytes: no overflow, but twice the cap, refused before any allocation.
  const std::string path = images(idx({32768, 256, 256}, {}));
  EXPECT_TRUE(
      throws_data_error([&] { read_idx_pair(path, good_labels()); },
                        path + ": IDX dims 32768 x 256 x 256 claim more than 1073741824 bytes"));
}

TEST_F(IdxReader, GzipHeaderFollowedByGarbage) {
  // A well-formed 10-byte gzip header; 0xFF then starts a deflate block of reserved type 3.
  const std::vector<uint8_t> bytes = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff};
  const std::string path = write_raw(dir_.file("garbage.gz"), bytes);
  EXPECT_TRUE(throws_data_error([&] { read_idx_pair(path, good_labels()); },
                                path + ": not valid gzip data: invalid block type near byte "
                                       "offset"));
}

TEST_F(IdxReader, GzipWithCorruptChecksum) {
  std::vector<uint8_t> bytes = read_bytes(images(idx({3, 2, 3}, pixels()), true));
  bytes[bytes.size() - 8] ^= 0xff;  // the CRC-32 of the trailer
  const std::string path = write_raw(dir_.file("images.gz"), bytes);
  EXPECT_TRUE(throws_data_error([&] { read_idx_pair(path, good_labels()); },
                                path + ": not valid gzip data: incorrect data check"));
}

TEST_F(IdxReader, TruncatedGzip) {
  std::vector<uint8_t> bytes = read_bytes(images(idx({3, 2, 3}, pixels()), true));
  bytes.resize(bytes.size() - 6);
  const std::string path = write_raw(dir_.file("images.gz"), bytes);
  EXPECT_TRUE(throws_data_error([&] { read_idx_pair(path, good_labels()); },
                                path + ": not valid gzip data: the stream ends early"));
}

TEST_F(IdxReader, GarbageAfterGzipStream) {
  std::vector<uint8_t> bytes = read_bytes(images(idx({3, 2, 3}, pixels()), true));
  const size_t end = bytes.size();
  bytes.push_back('x');
  bytes.push_back('y');
  const std::string path = write_raw(dir_.file("images.gz"), bytes);
  EXPECT_TRUE(throws_data_error(
      [&] { read_idx_pair(path, good_labels()); },
      path + ": not valid gzip data: unexpected bytes after the gzip stream at byte offset " +
          std::to_string(end)));
}

TEST_F(IdxReader, GzipThatDecompressesToText) {
  const std::string text = "label,pixel0\n3,0\n";
  const std::string path =
      write_gzip(dir_.file("images.gz"), std::vector<uint8_t>(text.begin(), text.end()));
  EXPECT_TRUE(
      throws_data_error([&] { read_idx_pair(path, good_labels()); },
                        path + ": not an IDX file: magic bytes 0-1 are 6C 61, expected 00 00"));
}

TEST_F(IdxReader, GzipBombOverTheCap) {
  const std::string path = write_gzip(dir_.file("bomb.gz"), std::vector<uint8_t>(1 << 20, 0));
  EXPECT_TRUE(throws_data_error([&] { read_maybe_gzip(path, 5000); },
                                path + ": decompresses to more than 5000 bytes"));
}

TEST_F(IdxReader, RawFileOverTheCap) {
  const std::string path = write_raw(dir_.file("big"), std::vector<uint8_t>(200000, 0));
  EXPECT_TRUE(throws_data_error([&] { read_maybe_gzip(path, 100000); },
                                path + ": is more than 100000 bytes"));
}

TEST_F(IdxReader, LabelOutOfRange) {
  const std::string path = labels(idx({3}, {7, 12, 9}));
  EXPECT_TRUE(throws_data_error(
      [&] { read_idx_pair(good_images(), path); },
      path + ": label 12 at index 1 (byte offset 9) is not below the number of classes 10"));
}

TEST_F(IdxReader, ImageAndLabelCountsDiffer) {
  const std::string images_path = good_images();
  const std::string labels_path = labels(idx({2}, {7, 0}));
  EXPECT_TRUE(
      throws_data_error([&] { read_idx_pair(images_path, labels_path); },
                        images_path + " holds 3 images but " + labels_path + " holds 2 labels"));
}

TEST_F(IdxReader, TextFileGivenAsImages) {
  const std::string path = write_text(dir_.file("notes.txt"), "hello");
  EXPECT_TRUE(
      throws_data_error([&] { read_idx_pair(path, good_labels()); },
                        path + ": not an IDX file: magic bytes 0-1 are 68 65, expected 00 00"));
}

TEST(IdxFashionMnist, RealFilesWhenPresent) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz") &&
      !std::filesystem::exists(dir + "/train-images-idx3-ubyte")) {
    GTEST_SKIP() << "Fashion-MNIST not found in " << dir;
  }
  const TrainTest tt = read_idx_folder(dir);
  EXPECT_EQ(tt.train.size(), 60000);
  EXPECT_EQ(tt.test.size(), 10000);
  for (const Dataset* d : {&tt.train, &tt.test}) {
    EXPECT_EQ(d->features(), 784);
    EXPECT_EQ(d->num_classes, 10);
    const Gathered g = gather_all(*d);
    EXPECT_EQ(*std::min_element(g.labels.begin(), g.labels.end()), 0);
    EXPECT_EQ(*std::max_element(g.labels.begin(), g.labels.end()), 9);
    EXPECT_EQ(g.x.minCoeff(), 0.0f);
    EXPECT_EQ(g.x.maxCoeff(), 1.0f);
  }
}

// The streaming reader yields, chunk by chunk, exactly the pixels read_idx_pair yields.
TEST_F(IdxReader, ImageStreamMatchesWholeFileRead) {
  for (const bool gzip : {false, true}) {
    const std::string path = images(idx({3, 2, 3}, pixels()), gzip);
    IdxImageReader reader(path);
    EXPECT_EQ(reader.count(), 3);
    EXPECT_EQ(reader.features(), 6);
    Matrix<float> chunk, all(6, 0);  // (I, n)
    while (reader.read(2, &chunk) > 0) {
      all.conservativeResize(Eigen::NoChange, all.cols() + chunk.cols());
      all.rightCols(chunk.cols()) = chunk;
    }
    EXPECT_EQ(all, gather_all(read_idx_pair(path, good_labels())).x);
  }
}

TEST_F(IdxReader, ImageStreamRefusesShortAndLongFiles) {
  std::vector<uint8_t> p = pixels();
  p.pop_back();
  IdxImageReader short_reader(images(idx({3, 2, 3}, p)));
  Matrix<float> x;
  EXPECT_TRUE(throws_data_error([&] { short_reader.read(10, &x); },
                                "images: truncated: the file ends inside image 1 of 3"));
  p = pixels();
  p.push_back(1);
  IdxImageReader long_reader(images(idx({3, 2, 3}, p)));
  EXPECT_EQ(long_reader.read(10, &x), 3);
  EXPECT_TRUE(throws_data_error([&] { long_reader.read(10, &x); },
                                "images: trailing bytes after the 3 images its header announces"));
  EXPECT_TRUE(throws_data_error([&] { IdxImageReader labels_only(good_labels()); },
                                "labels: has 1 dims (3) but images (N, rows, cols) need 3"));
}

}  // namespace
}  // namespace mlp
