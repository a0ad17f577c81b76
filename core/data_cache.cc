// The data cache's file format, its checks, and the build-once protocol; see data_cache.h.
// POSIX calls: the file is mapped and locked.
#include "core/data_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/hash.h"
#include "core/input_file.h"
#include "core/record_io.h"

namespace mlp {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the cache layout is little-endian");

constexpr char kMagic[8] = {'M', 'L', 'P', 'D', 'A', 'T', 'A', '\n'};
constexpr size_t kHeaderBytes = 128;
constexpr size_t kHeaderCrcOffset = kHeaderBytes - 4;
constexpr char kCacheSuffix[] = ".mlpdata";
// Far beyond any data set this program trains on; a header claiming more is corrupt.
constexpr int64_t kMaxCacheBytes = int64_t{1} << 40;

// Header fields at fixed offsets.
struct Header {
  uint32_t version = kDataCacheFormatVersion;
  uint32_t type = 0;
  uint64_t key = 0;
  int64_t samples = 0, features = 0, target_rows = 0;
  int32_t num_classes = 0;
  uint32_t payload_crc = 0;
};

// "" when the n floats at p are finite, else which one is not: readers only ever build tables of
// finite numbers (csv_reader.h), so a file with another is not theirs.
std::string non_finite(const float* p, int64_t rows, int64_t samples, const char* what) {
  for (int64_t j = 0; j < samples; ++j)
    for (int64_t i = 0; i < rows; ++i)
      if (!std::isfinite(p[j * rows + i]))
        return std::string(what) + " " + std::to_string(i) + " of sample " + std::to_string(j) +
               " is not a finite number";
  return "";
}

size_t labels_offset(const TableShape& shape) {
  return (kHeaderBytes + shape.feature_bytes() + 7) / 8 * 8;
}

size_t file_bytes(const TableShape& shape) {
  return labels_offset(shape) + shape.label_bytes() + shape.target_bytes();
}

void encode(const Header& h, unsigned char* out) {
  std::memset(out, 0, kHeaderBytes);
  std::memcpy(out, kMagic, 8);
  std::memcpy(out + 8, &h.version, 4);
  std::memcpy(out + 12, &h.type, 4);
  std::memcpy(out + 16, &h.key, 8);
  std::memcpy(out + 24, &h.samples, 8);
  std::memcpy(out + 32, &h.features, 8);
  std::memcpy(out + 40, &h.target_rows, 8);
  std::memcpy(out + 48, &h.num_classes, 4);
  std::memcpy(out + 52, &h.payload_crc, 4);
  const uint32_t crc = crc32c(out, kHeaderCrcOffset);
  std::memcpy(out + kHeaderCrcOffset, &crc, 4);
}

// Returns "" when the header is sound, else what is wrong with it.
std::string decode(const unsigned char* in, uint64_t key, Header* h) {
  if (std::memcmp(in, kMagic, 8) != 0) return "not a data cache file (wrong magic bytes)";
  uint32_t crc;
  std::memcpy(&crc, in + kHeaderCrcOffset, 4);
  if (crc != crc32c(in, kHeaderCrcOffset)) return "header CRC mismatch";
  std::memcpy(&h->version, in + 8, 4);
  std::memcpy(&h->type, in + 12, 4);
  std::memcpy(&h->key, in + 16, 8);
  std::memcpy(&h->samples, in + 24, 8);
  std::memcpy(&h->features, in + 32, 8);
  std::memcpy(&h->target_rows, in + 40, 8);
  std::memcpy(&h->num_classes, in + 48, 4);
  std::memcpy(&h->payload_crc, in + 52, 4);
  if (h->version != kDataCacheFormatVersion)
    return "format version " + std::to_string(h->version) + ", this build reads " +
           std::to_string(kDataCacheFormatVersion);
  if (h->key != key) return "key does not match the file name";
  if (h->type != static_cast<uint32_t>(FeatureType::kUint8) &&
      h->type != static_cast<uint32_t>(FeatureType::kFloat32))
    return "unknown feature type " + std::to_string(h->type);
  const int64_t cap = kMaxCacheBytes;
  if (h->samples < 1 || h->features < 1 || h->target_rows < 0 || h->num_classes < 0 ||
      h->samples > cap / h->features / 4 || h->target_rows > cap / h->samples / 4)
    return "implausible shape N=" + std::to_string(h->samples) +
           " I=" + std::to_string(h->features) + " K=" + std::to_string(h->target_rows);
  if ((h->target_rows == 0) == (h->num_classes == 0))
    return "a table needs either classes or regression targets";
  if (h->num_classes > kMaxClasses)
    return std::to_string(h->num_classes) + " classes, more than the " +
           std::to_string(kMaxClasses) + " any reader makes";
  return "";
}

TableShape shape_of(const Header& h) {
  TableShape s;
  s.type = static_cast<FeatureType>(h.type);
  s.samples = h.samples;
  s.features = h.features;
  s.target_rows = h.target_rows;
  s.num_classes = h.num_classes;
  return s;
}

// The payload in file order: features, padding, labels, targets.
struct Part {
  const void* data;
  size_t bytes;
};
std::vector<Part> payload_parts(const SampleTable& t) {
  static const char zeros[8] = {};
  const TableShape& s = t.shape();
  return {{t.feature_data(), s.feature_bytes()},
          {zeros, labels_offset(s) - kHeaderBytes - s.feature_bytes()},
          {t.label_data(), s.label_bytes()},
          {t.target_data(), s.target_bytes()}};
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "host";
  return name;
}

// Temp files of this key left by builders on this host that no longer run.
void remove_dead_builders_temp_files(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string prefix = p.filename().string() + ".tmp." + host_name() + ".";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(p.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      std::filesystem::remove(entry.path(), ec);
  }
}

[[noreturn]] void fail_write(const std::string& what) {
  throw UsageError("data cache " + what +
                   "; give a writable folder with --data-cache DIR, or --data-cache off");
}

// Under a temp name unique to this process: builders on hosts that share the folder never write
// into one another's file.
void write_cache_file(const std::string& path, uint64_t key, const SampleTable& table) {
  const TableShape& s = table.shape();
  Header h;
  h.type = static_cast<uint32_t>(s.type);
  h.key = key;
  h.samples = s.samples;
  h.features = s.features;
  h.target_rows = s.target_rows;
  h.num_classes = s.num_classes;
  const std::vector<Part> parts = payload_parts(table);
  for (const Part& part : parts) h.payload_crc = crc32c(part.data, part.bytes, h.payload_crc);
  unsigned char header[kHeaderBytes];
  encode(h, header);
  try {
    AtomicFileStream file(path, ExitCode::kUsage,
                          ".tmp." + host_name() + "." + std::to_string(::getpid()));
    file.write({reinterpret_cast<const char*>(header), kHeaderBytes});
    for (const Part& part : parts) file.write({static_cast<const char*>(part.data), part.bytes});
    file.commit();
  } catch (const Error& e) {
    fail_write(e.what());
  }
}

// Holds an exclusive flock on a file for its lifetime; without lock support it holds nothing.
class FileLock {
 public:
  explicit FileLock(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) fail_write(path + ": cannot create: " + errno_text());
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~FileLock() { ::close(fd_); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

}  // namespace

uint64_t source_key(const std::vector<std::string>& paths, const std::string& reader) {
  WordHasher h;
  h.add_word(kDataCacheFormatVersion);
  h.add_bytes(reader.data(), reader.size());
  std::vector<char> buf(size_t{1} << 20);
  for (const std::string& path : paths) {
    InputFile file(path);
    if (!file.ok()) throw DataError(path + ": " + file.why());
    size_t got;
    while ((got = file.read(buf.data(), buf.size())) > 0) h.add_bytes(buf.data(), got);
    if (!file.ok()) throw DataError(path + ": read error");
  }
  return h.value();
}

std::string default_data_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/mlp-trainer";
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return std::string(home) + "/.cache/mlp-trainer";
  throw UsageError(
      "--data-cache: neither XDG_CACHE_HOME nor HOME is set; give a folder with --data-cache DIR "
      "or keep the data in memory with --data-cache off");
}

std::string data_cache_path(const std::string& dir, uint64_t key) {
  char name[32];
  std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(key));
  return (std::filesystem::path(dir) / (std::string(name) + kCacheSuffix)).string();
}

std::shared_ptr<const SampleTable> open_cache_file(const std::string& path, uint64_t key,
                                                   std::string* why) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *why = errno == ENOENT ? "missing" : "cannot open: " + errno_text();
    return nullptr;
  }
  struct stat st {};
  const bool stat_ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  const auto size = static_cast<size_t>(st.st_size);
  if (!stat_ok || size < kHeaderBytes) {
    ::close(fd);
    *why = stat_ok ? "truncated: " + std::to_string(size) + " bytes, shorter than the header"
                   : "not a regular file";
    return nullptr;
  }
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (addr == MAP_FAILED) {
    *why = "cannot map: " + errno_text();
    return nullptr;
  }
  std::shared_ptr<const void> mapping(addr, [size](const void* p) {
    ::munmap(const_cast<void*>(p), size);
  });
  const auto* bytes = static_cast<const unsigned char*>(addr);
  Header h;
  *why = decode(bytes, key, &h);
  if (!why->empty()) return nullptr;
  const TableShape shape = shape_of(h);
  if (size != file_bytes(shape)) {
    *why = std::string(size < file_bytes(shape) ? "truncated" : "trailing bytes") + ": " +
           std::to_string(size) + " bytes, the header implies " +
           std::to_string(file_bytes(shape));
    return nullptr;
  }
  if (crc32c(bytes + kHeaderBytes, size - kHeaderBytes) != h.payload_crc) {
    *why = "payload CRC mismatch";
    return nullptr;
  }
  const auto* labels = reinterpret_cast<const int32_t*>(bytes + labels_offset(shape));
  for (size_t j = 0; j < shape.label_bytes() / sizeof(int32_t); ++j) {
    if (labels[j] < 0 || labels[j] >= shape.num_classes) {
      *why = "label " + std::to_string(labels[j]) + " of sample " + std::to_string(j) +
             " is outside 0.." + std::to_string(shape.num_classes - 1);
      return nullptr;
    }
  }
  const auto* targets =
      reinterpret_cast<const float*>(bytes + labels_offset(shape) + shape.label_bytes());
  if (shape.type == FeatureType::kFloat32)
    *why = non_finite(reinterpret_cast<const float*>(bytes + kHeaderBytes), shape.features,
                      shape.samples, "feature");
  if (why->empty()) *why = non_finite(targets, shape.target_rows, shape.samples, "target");
  if (!why->empty()) return nullptr;
  return SampleTable::over(std::move(mapping), shape, bytes + kHeaderBytes, labels, targets);
}

std::shared_ptr<const SampleTable> cached_table(
    const std::string& dir, uint64_t key,
    const std::function<std::shared_ptr<const SampleTable>()>& build,
    std::vector<std::string>* notes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail_write("folder " + dir + ": cannot create: " + ec.message());
  const std::string path = data_cache_path(dir, key);
  std::string why;
  if (auto table = open_cache_file(path, key, &why)) return table;

  // Another process may be building this file right now: wait for it, then look again.
  const FileLock lock(path + ".lock");
  if (auto table = open_cache_file(path, key, &why)) return table;
  remove_dead_builders_temp_files(path);
  // A first build is silent; a damaged file is worth a warning.
  if (why != "missing") notes->push_back("data cache: " + path + ": " + why + "; rebuilding it");
  write_cache_file(path, key, *build());
  auto table = open_cache_file(path, key, &why);
  if (!table)
    throw DataError("data cache " + path + ": fails its check right after being written (" + why +
                    "); the folder's storage is unreliable, use another --data-cache folder");
  return table;
}

}  // namespace mlp
