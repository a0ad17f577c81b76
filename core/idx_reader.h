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
IdxArray parse_idx(const std::vector<uint8_t>& bytes, const std::string& name);

// Reads an images file (3 dims: N, rows, cols) and a labels file (1 dim: N) into a dataset with
// pixels scaled to [0, 1]. Checks equal counts and labels below num_classes.
Dataset read_idx_pair(const std::string& images_path, const std::string& labels_path,
                      int num_classes = 10);

// Finds train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
// t10k-labels-idx1-ubyte in dir, each raw or with .gz, and reads both pairs.
struct TrainTest {
  Dataset train;
  Dataset test;
};
TrainTest read_idx_folder(const std::string& dir, int num_classes = 10);

}  // namespace mlp
