// Reader of the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed, with strict
// validation. Every problem raises DataError naming the file and what is wrong.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dataset.h"

namespace mlp {

// A decoded IDX file: unsigned bytes (element type 0x08) only, as MNIST-style data uses.
struct IdxArray {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data;  // row-major, product(dims) bytes
};

// Reads a whole file, gunzipping it when it starts with the gzip magic 1F 8B. Refuses files
// that decompress past max_bytes (a guard against gzip bombs and absurd headers).
std::vector<uint8_t> read_maybe_gzip(const std::string& path, uint64_t max_bytes);

// Parses and validates IDX bytes: magic 00 00 08 D (type 0x08, 1 <= D <= 4), nonzero dims,
// overflow-safe size, and a length of exactly header + product(dims). `name` is used in errors.
IdxArray parse_idx(std::vector<uint8_t> bytes, const std::string& name);

// The header of IDX bytes: checks the magic 00 00 08 D (1 <= D <= 4), the header's length,
// nonzero dims and an overflow-safe size under the data-file limit. `size` is how many bytes are
// available at `bytes`.
struct IdxHeader {
  std::vector<uint32_t> dims;
  uint64_t header_bytes = 0;  // 4 + 4 D
  uint64_t data_bytes = 0;    // product(dims)
};
IdxHeader parse_idx_header(const uint8_t* bytes, size_t size, const std::string& name);

// Reads the images of an IDX file (3 dims: N, rows, cols; raw or gzip) a chunk at a time, so
// memory does not grow with the file. Pixels are scaled to [0, 1] as read_idx_pair scales them.
// A file shorter or longer than its header says is refused when its end is reached.
class IdxImageReader {
 public:
  explicit IdxImageReader(const std::string& path);
  ~IdxImageReader();
  IdxImageReader(const IdxImageReader&) = delete;
  IdxImageReader& operator=(const IdxImageReader&) = delete;
  int64_t count() const { return count_; }
  int features() const { return features_; }
  // OVERWRITES x (I, n) with the next n <= max_n images; returns n, 0 after the last one.
  int64_t read(int64_t max_n, Matrix<float>* x);

 private:
  size_t read_bytes(uint8_t* out, size_t n);

  std::string path_;
  void* gz_ = nullptr;  // gzFile; zlib reads raw files transparently
  int64_t count_ = 0, done_ = 0;
  int features_ = 0;
  std::vector<uint8_t> buffer_;
};

// Reads an images file (3 dims: N, rows, cols) and a labels file (1 dim: N) into a dataset over
// an in-memory byte table (pixels read as byte / 255, so in [0, 1]). Checks equal counts and
// labels below num_classes.
Dataset read_idx_pair(const std::string& images_path, const std::string& labels_path,
                      int num_classes = 10);

// The file of an IDX folder named `base` (e.g. train-images-idx3-ubyte): raw, else with .gz.
// Throws DataError when neither exists.
std::string find_idx_file(const std::string& dir, const std::string& base);

// Reads PREFIX-images-idx3-ubyte and PREFIX-labels-idx1-ubyte of dir (each raw or .gz);
// prefix "train" or "t10k".
Dataset read_idx_set(const std::string& dir, const std::string& prefix, int num_classes = 10);

// Finds train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
// t10k-labels-idx1-ubyte in dir, each raw or with .gz, and reads both pairs.
struct TrainTest {
  Dataset train;
  Dataset test;
};
TrainTest read_idx_folder(const std::string& dir, int num_classes = 10);

}  // namespace mlp
