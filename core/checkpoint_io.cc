// Checkpoint file I/O; see checkpoint_io.h. POSIX calls because std::ofstream cannot fsync.
#include "core/checkpoint_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/errors.h"
#include "core/record_io.h"

namespace mlp {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "packed floats assume a little-endian host");

constexpr char kPrefix[] = "ckpt-";
constexpr char kSuffix[] = ".pb";

[[noreturn]] void fail(const std::string& what) { throw Error(ExitCode::kCheckpoint, what); }

std::string errno_text() { return std::strerror(errno); }

std::string parent_dir(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

bool is_checkpoint_name(const std::string& name) {
  const size_t p = sizeof kPrefix - 1, s = sizeof kSuffix - 1;
  if (name.size() <= p + s || name.compare(0, p, kPrefix) != 0 ||
      name.compare(name.size() - s, s, kSuffix) != 0)
    return false;
  return std::all_of(name.begin() + p, name.end() - s, [](char c) { return c >= '0' && c <= '9'; });
}

std::string read_whole_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path + ": cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail(path + ": cannot stat: " + errno_text());
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path + ": not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxCheckpointBytes) {
    ::close(fd);
    fail(path + ": " + std::to_string(st.st_size) + " bytes is over the checkpoint size limit of " +
         std::to_string(kMaxCheckpointBytes));
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      ::close(fd);
      fail(path + ": read failed: " + (got < 0 ? errno_text() : "file shrank while reading"));
    }
    done += static_cast<size_t>(got);
  }
  ::close(fd);
  return bytes;
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(tmp + ": cannot create: " + errno_text());
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t put = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) {
      const std::string why = errno_text();
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(tmp + ": write failed: " + why);
    }
    done += static_cast<size_t>(put);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    fail(tmp + ": fsync failed: " + why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    fail(path + ": rename failed: " + why);
  }
  // The rename is durable only once the folder's entry is on disk.
  const int dir = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) fail(parent_dir(path) + ": cannot open folder to fsync: " + errno_text());
  const int synced = ::fsync(dir);
  ::close(dir);
  if (synced != 0) fail(parent_dir(path) + ": folder fsync failed: " + errno_text());
}

void write_checkpoint(const std::string& path, const pb::Checkpoint& checkpoint) {
  std::string payload;
  if (!checkpoint.SerializeToString(&payload)) fail(path + ": checkpoint does not serialize");
  std::string framed;
  append_record(payload, &framed);
  write_file_atomically(path, framed);
}

pb::Checkpoint read_checkpoint(const std::string& path) {
  const std::string bytes = read_whole_file(path);
  if (bytes.empty()) fail(path + ": empty file, not a checkpoint");
  size_t offset = 0;
  std::string payload;
  try {
    payload = read_record(bytes, &offset, kMaxCheckpointBytes);
  } catch (const std::runtime_error& e) {
    fail(path + ": not a valid checkpoint: " + e.what());
  }
  if (offset != bytes.size())
    fail(path + ": " + std::to_string(bytes.size() - offset) +
         " unexpected bytes after the checkpoint record");
  pb::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(payload))
    fail(path + ": CRC is valid but the payload is not a Checkpoint message");
  if (!checkpoint.has_format_version())
    fail(path + ": no format version; not a checkpoint of this program");
  if (checkpoint.format_version() > kCheckpointFormatVersion)
    fail(path + ": format version " + std::to_string(checkpoint.format_version()) +
         " is newer than this program reads (" + std::to_string(kCheckpointFormatVersion) +
         "); use a newer trainer");
  return checkpoint;
}

std::string checkpoint_path(const std::string& dir, int64_t global_step) {
  char name[48];
  std::snprintf(name, sizeof name, "%s%012lld%s", kPrefix, static_cast<long long>(global_step),
                kSuffix);
  return dir + "/" + name;
}

std::vector<std::string> list_checkpoints(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (is_checkpoint_name(name)) names.push_back(name);
  }
  // Fixed-width step numbers sort in step order.
  std::sort(names.begin(), names.end());
  for (std::string& name : names) name = dir + "/" + name;
  return names;
}

void prune_checkpoints(const std::string& dir, int keep) {
  const std::vector<std::string> all = list_checkpoints(dir);
  for (size_t i = 0; i + static_cast<size_t>(std::max(keep, 1)) < all.size(); ++i)
    std::filesystem::remove(all[i]);
}

void remove_stale_temp_files(const std::string& dir) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0 &&
        is_checkpoint_name(name.substr(0, name.size() - 4)))
      std::filesystem::remove(entry.path(), error);
  }
}

std::string newest_valid_checkpoint(const std::string& dir, std::vector<std::string>* warnings) {
  const std::vector<std::string> all = list_checkpoints(dir);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      read_checkpoint(*it);
      return *it;
    } catch (const Error& e) {
      if (warnings)
        warnings->push_back(std::string(e.what()) + "; falling back to an older checkpoint");
    }
  }
  return "";
}

std::string pack_floats(const float* data, size_t n) {
  return std::string(reinterpret_cast<const char*>(data), n * sizeof(float));
}

void unpack_floats(const std::string& bytes, float* out, size_t n, const std::string& what) {
  if (bytes.size() != n * sizeof(float))
    fail(what + " holds " + std::to_string(bytes.size() / sizeof(float)) + " floats, expected " +
         std::to_string(n));
  std::memcpy(out, bytes.data(), bytes.size());
}

}  // namespace mlp
