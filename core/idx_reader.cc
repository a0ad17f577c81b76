// IDX reading: gzip detection and streaming inflate, header validation, and conversion of an
// images/labels pair into a dataset. Each check names the file and what would fix it.
#include "core/idx_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "core/errors.h"

namespace mlp {
namespace {

// The full Fashion-MNIST training images are 47 MB; 1 GiB leaves room for larger IDX sets while
// refusing gzip bombs and headers that claim absurd sizes before anything is allocated.
constexpr uint64_t kMaxIdxBytes = uint64_t{1} << 30;
constexpr size_t kChunk = size_t{1} << 16;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_for_reading(const std::string& path) {
  if (std::filesystem::is_directory(path)) {
    throw DataError(path + ": is a directory, expected a data file");
  }
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) throw DataError(path + ": cannot open: " + std::strerror(errno));
  return f;
}

// Reads up to n bytes; a short count means end of file, a read error throws.
size_t read_chunk(std::FILE* f, const std::string& path, unsigned char* buf, size_t n) {
  const size_t got = std::fread(buf, 1, n, f);
  if (got < n && std::ferror(f)) throw DataError(path + ": read error: " + std::strerror(errno));
  return got;
}

std::string too_large(const std::string& path, uint64_t max_bytes, bool compressed) {
  return path + ": " + (compressed ? "decompresses to" : "is") + " more than " +
         std::to_string(max_bytes) + " bytes, the limit for a data file; it is not a dataset " +
         "this reader accepts";
}

// Inflates every gzip member of the file (as gunzip does), starting with the bytes already read.
std::vector<uint8_t> inflate_file(std::FILE* f, const std::string& path, uint64_t max_bytes,
                                  std::vector<unsigned char> in, size_t in_len) {
  z_stream zs{};
  // 15 + 32: maximum window, and zlib recognizes the gzip header itself.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw DataError(path + ": cannot initialize zlib");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);

  uint64_t consumed_before = 0;  // compressed bytes before the current input buffer
  bool eof = in_len < in.size();
  zs.next_in = in.data();
  zs.avail_in = static_cast<uInt>(in_len);
  auto refill = [&] {
    if (zs.avail_in > 0 || eof) return;
    consumed_before += in_len;
    in_len = read_chunk(f, path, in.data(), in.size());
    eof = in_len < in.size();
    zs.next_in = in.data();
    zs.avail_in = static_cast<uInt>(in_len);
  };
  auto offset = [&] { return std::to_string(consumed_before + (in_len - zs.avail_in)); };

  // One byte beyond the cap is room enough to tell "exactly max_bytes" from "too large".
  const uint64_t capacity = std::min<uint64_t>(max_bytes, SIZE_MAX - 1) + 1;
  std::vector<uint8_t> out(static_cast<size_t>(std::min<uint64_t>(capacity, kChunk)));
  size_t produced = 0;
  for (;;) {
    refill();
    if (produced == out.size()) {
      out.resize(static_cast<size_t>(std::min<uint64_t>(capacity, out.size() * 2)));
    }
    zs.next_out = out.data() + produced;
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - produced, 1u << 30));
    const uInt avail_before = zs.avail_out;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced += avail_before - zs.avail_out;
    if (produced > max_bytes) throw DataError(too_large(path, max_bytes, true));
    if (rc == Z_STREAM_END) {
      // Another member may follow; zlib checks the rest of its header after the reset.
      refill();
      if (zs.avail_in == 0) break;
      if (zs.next_in[0] != 0x1f) {
        throw DataError(path + ": not valid gzip data: unexpected bytes after the gzip stream " +
                        "at byte offset " + offset() + "; re-download the file");
      }
      inflateReset(&zs);
    } else if (rc == Z_BUF_ERROR && zs.avail_in == 0 && eof) {
      throw DataError(path + ": not valid gzip data: the stream ends early at byte offset " +
                      offset() + " (truncated download?); re-download the file");
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      throw DataError(path + ": not valid gzip data: " + (zs.msg ? zs.msg : zError(rc)) +
                      " near byte offset " + offset() + "; re-download the file");
    }
  }
  out.resize(produced);
  return out;
}

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string hex_byte(uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02X", b);
  return buf;
}

std::string dims_text(const std::vector<uint32_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? " x " : "") + std::to_string(dims[i]);
  return s;
}

// Image j is rows*cols contiguous bytes, which is exactly column j of a column-major (I, N).
Matrix<float> pixels_to_features(const uint8_t* pixels, int features, int64_t n) {
  return Eigen::Map<const Matrix<uint8_t>>(pixels, features, static_cast<Eigen::Index>(n))
             .cast<float>() /
         255.0f;
}

IdxArray read_idx(const std::string& path, size_t expected_dims, const char* what) {
  IdxArray a = parse_idx(read_maybe_gzip(path, kMaxIdxBytes), path);
  if (a.dims.size() != expected_dims) {
    throw DataError(path + ": has " + std::to_string(a.dims.size()) + " dims (" +
                    dims_text(a.dims) + ") but " + what + " need " + std::to_string(expected_dims) +
                    "; check the images and labels paths");
  }
  return a;
}

}  // namespace

// Prefers the uncompressed file when both forms are present: it is read without inflating.
std::string find_idx_file(const std::string& dir, const std::string& base) {
  const std::filesystem::path raw = std::filesystem::path(dir) / base;
  if (std::filesystem::exists(raw)) return raw.string();
  const std::filesystem::path gz = std::filesystem::path(dir) / (base + ".gz");
  if (std::filesystem::exists(gz)) return gz.string();
  throw DataError(dir + ": neither " + base + " nor " + base +
                  ".gz found; point the data directory at the (Fashion-)MNIST IDX files");
}

std::vector<uint8_t> read_maybe_gzip(const std::string& path, uint64_t max_bytes) {
  File f = open_for_reading(path);
  std::vector<unsigned char> buf(kChunk);
  const size_t first = read_chunk(f.get(), path, buf.data(), buf.size());
  if (first >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
    return inflate_file(f.get(), path, max_bytes, std::move(buf), first);
  }
  std::vector<uint8_t> out;
  for (size_t got = first;; got = read_chunk(f.get(), path, buf.data(), buf.size())) {
    if (out.size() + got > max_bytes) throw DataError(too_large(path, max_bytes, false));
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(got));
    if (got < kChunk) break;
  }
  return out;
}

IdxHeader parse_idx_header(const uint8_t* bytes, size_t size, const std::string& name) {
  if (size < 4) {
    throw DataError(name + ": " + std::to_string(size) +
                    " bytes is too short for an IDX header (at least 4 bytes: magic and dims)");
  }
  if (bytes[0] != 0 || bytes[1] != 0) {
    throw DataError(name + ": not an IDX file: magic bytes 0-1 are " + hex_byte(bytes[0]) + " " +
                    hex_byte(bytes[1]) + ", expected 00 00");
  }
  if (bytes[2] != 0x08) {
    throw DataError(name + ": IDX element type 0x" + hex_byte(bytes[2]) +
                    " (byte offset 2) is not supported; only unsigned bytes (0x08) are");
  }
  const unsigned num_dims = bytes[3];
  if (num_dims < 1 || num_dims > 4) {
    throw DataError(name + ": IDX dimension count " + std::to_string(num_dims) +
                    " (byte offset 3) is outside 1..4");
  }
  IdxHeader h;
  h.header_bytes = 4 + 4 * uint64_t{num_dims};
  if (size < h.header_bytes) {
    throw DataError(name + ": truncated IDX header: " + std::to_string(num_dims) + " dims need a " +
                    std::to_string(h.header_bytes) + "-byte header, the file has " +
                    std::to_string(size) + " bytes");
  }
  uint64_t count = 1;
  for (unsigned i = 0; i < num_dims; ++i) {
    const uint32_t d = read_be32(bytes + 4 + 4 * i);
    h.dims.push_back(d);
    if (d == 0) {
      throw DataError(name + ": IDX dimension " + std::to_string(i) + " (byte offset " +
                      std::to_string(4 + 4 * i) + ") is 0; the file holds no data");
    }
    // Checked before multiplying, so the product can neither overflow nor exceed the cap.
    if (count > kMaxIdxBytes / d) {
      for (unsigned k = i + 1; k < num_dims; ++k) h.dims.push_back(read_be32(bytes + 4 + 4 * k));
      throw DataError(name + ": IDX dims " + dims_text(h.dims) + " claim more than " +
                      std::to_string(kMaxIdxBytes) + " bytes, the limit; the header is corrupt");
    }
    count *= d;
  }
  h.data_bytes = count;
  return h;
}

IdxArray parse_idx(std::vector<uint8_t> bytes, const std::string& name) {
  const IdxHeader h = parse_idx_header(bytes.data(), bytes.size(), name);
  const uint64_t expected = h.header_bytes + h.data_bytes;
  if (bytes.size() != expected) {
    const bool short_file = bytes.size() < expected;
    throw DataError(name + ": " + (short_file ? "truncated: " : "trailing bytes: ") + "length " +
                    std::to_string(bytes.size()) + " bytes, but header " +
                    std::to_string(h.header_bytes) + " + data " + dims_text(h.dims) + " = " +
                    std::to_string(expected) + " bytes expected" +
                    (short_file ? "; re-download the file" : ""));
  }
  IdxArray a;
  a.dims = h.dims;
  // In place: a copy would double the peak memory of reading a large file.
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(h.header_bytes));
  a.data = std::move(bytes);
  return a;
}

IdxImageReader::IdxImageReader(const std::string& path) : path_(path) {
  if (std::filesystem::is_directory(path)) {
    throw DataError(path + ": is a directory, expected a data file");
  }
  gz_ = gzopen(path.c_str(), "rb");
  if (gz_ == nullptr) throw DataError(path + ": cannot open: " + std::strerror(errno));
  uint8_t header[4 + 4 * 4];
  size_t got = read_bytes(header, 4);
  if (got == 4 && header[3] >= 1 && header[3] <= 4) got += read_bytes(header + 4, 4 * header[3]);
  const IdxHeader h = parse_idx_header(header, got, path);
  if (h.dims.size() != 3) {
    throw DataError(path + ": has " + std::to_string(h.dims.size()) + " dims (" +
                    dims_text(h.dims) + ") but images (N, rows, cols) need 3");
  }
  count_ = h.dims[0];
  features_ = static_cast<int>(h.dims[1] * h.dims[2]);
}

IdxImageReader::~IdxImageReader() { gzclose(static_cast<gzFile>(gz_)); }

size_t IdxImageReader::read_bytes(uint8_t* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    const int got = gzread(static_cast<gzFile>(gz_), out + done,
                           static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30)));
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(static_cast<gzFile>(gz_), &code);
      throw DataError(path_ + ": read error: " + (message ? message : "unknown") +
                      "; re-download the file");
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

int64_t IdxImageReader::read(int64_t max_n, Matrix<float>* x) {
  const int64_t n = std::min(max_n, count_ - done_);
  const auto features = static_cast<size_t>(features_);
  if (n <= 0) {
    uint8_t extra = 0;
    if (read_bytes(&extra, 1) != 0)
      throw DataError(path_ + ": trailing bytes after the " + std::to_string(count_) +
                      " images its header announces");
    return 0;
  }
  buffer_.resize(static_cast<size_t>(n) * features);
  if (read_bytes(buffer_.data(), buffer_.size()) != buffer_.size())
    throw DataError(path_ + ": truncated: the file ends inside image " + std::to_string(done_ + 1) +
                    " of " + std::to_string(count_) + "; re-download the file");
  *x = pixels_to_features(buffer_.data(), features_, n);
  done_ += n;
  return n;
}

Dataset read_idx_pair(const std::string& images_path, const std::string& labels_path,
                      int num_classes) {
  if (num_classes < 1 || num_classes > 256) {
    throw UsageError("number of classes " + std::to_string(num_classes) +
                     " is outside 1..256, the range of IDX byte labels");
  }
  IdxArray images = read_idx(images_path, 3, "images (N, rows, cols)");
  const IdxArray labels = read_idx(labels_path, 1, "labels (N)");
  if (images.dims[0] != labels.dims[0]) {
    throw DataError(images_path + " holds " + std::to_string(images.dims[0]) + " images but " +
                    labels_path + " holds " + std::to_string(labels.dims[0]) +
                    " labels; use the labels file that belongs to these images");
  }
  const int64_t features = int64_t{images.dims[1]} * images.dims[2];
  std::vector<int32_t> label_values(labels.data.size());
  for (size_t j = 0; j < label_values.size(); ++j) {
    const uint8_t label = labels.data[j];
    if (label >= num_classes) {
      throw DataError(labels_path + ": label " + std::to_string(label) + " at index " +
                      std::to_string(j) + " (byte offset " + std::to_string(8 + j) +
                      ") is not below the number of classes " + std::to_string(num_classes));
    }
    label_values[j] = label;
  }
  // Image j is rows*cols contiguous bytes, which is exactly column j of a column-major (I, N).
  return whole_table(SampleTable::of_bytes(features, std::move(images.data),
                                           std::move(label_values), num_classes));
}

Dataset read_idx_set(const std::string& dir, const std::string& prefix, int num_classes) {
  return read_idx_pair(find_idx_file(dir, prefix + "-images-idx3-ubyte"),
                       find_idx_file(dir, prefix + "-labels-idx1-ubyte"), num_classes);
}

TrainTest read_idx_folder(const std::string& dir, int num_classes) {
  TrainTest tt;
  tt.train = read_idx_set(dir, "train", num_classes);
  tt.test = read_idx_set(dir, "t10k", num_classes);
  if (tt.train.features() != tt.test.features()) {
    throw DataError(dir + ": training images have " + std::to_string(tt.train.features()) +
                    " pixels but test images have " + std::to_string(tt.test.features()) +
                    "; both sets must come from the same dataset");
  }
  return tt;
}

}  // namespace mlp
