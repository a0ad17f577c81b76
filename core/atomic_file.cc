// Atomic, durable file replacement; see atomic_file.h. POSIX calls because std::ofstream cannot
// fsync.
#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/errors.h"

namespace mlp {
namespace {

std::string parent_dir(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

// What a symlink points to, so that the link stays and its target is replaced (a rename over
// /dev/stdout would put a regular file in its place); path itself when it is no symlink or
// its target cannot be named (a pipe behind /proc/self/fd).
std::string link_target(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_symlink(std::filesystem::symlink_status(path, error))) return path;
  const std::filesystem::path target = std::filesystem::canonical(path, error);
  return error ? path : target.string();
}

// A pipe, terminal, device or folder: an existing path that a rename must not replace.
bool is_special(const std::string& path) {
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(path, error);
  return std::filesystem::exists(status) && !std::filesystem::is_regular_file(status);
}

}  // namespace

AtomicFileStream::AtomicFileStream(const std::string& path, ExitCode on_error,
                                   const std::string& temp_suffix)
    : path_(link_target(path)), on_error_(on_error) {
  if (is_special(path_)) {
    // Written in place (no temporary, no fsync): `--output /dev/stdout` or a named pipe.
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(on_error_, path_ + ": cannot open for writing: " + errno_text());
    return;
  }
  tmp_ = path_ + temp_suffix;
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(on_error_, tmp_ + ": cannot create: " + errno_text());
}

AtomicFileStream::~AtomicFileStream() {
  if (fd_ < 0) return;
  ::close(fd_);
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

void AtomicFileStream::fail(const std::string& what) {
  const std::string why = errno_text();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
  throw Error(on_error_, what + ": " + why);
}

void AtomicFileStream::write(std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t put = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) fail((tmp_.empty() ? path_ : tmp_) + ": write failed");
    done += static_cast<size_t>(put);
  }
}

void AtomicFileStream::commit() {
  if (tmp_.empty()) {
    const int closed = ::close(fd_);
    fd_ = -1;
    if (closed != 0) fail(path_ + ": close failed");
    return;
  }
  if (::fsync(fd_) != 0) fail(tmp_ + ": fsync failed");
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) fail(tmp_ + ": fsync failed");
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) fail(path_ + ": rename failed");
  // The rename is durable only once the folder's entry is on disk.
  const std::string dir_path = parent_dir(path_);
  const int dir = ::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) throw Error(on_error_, dir_path + ": cannot open folder to fsync: " + errno_text());
  const int synced = ::fsync(dir);
  ::close(dir);
  if (synced != 0) throw Error(on_error_, dir_path + ": folder fsync failed: " + errno_text());
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  AtomicFileStream file(path);
  file.write(bytes);
  file.commit();
}

}  // namespace mlp
