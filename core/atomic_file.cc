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

[[noreturn]] void fail(const std::string& what) { throw Error(ExitCode::kCheckpoint, what); }

std::string errno_text() { return std::strerror(errno); }

std::string parent_dir(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
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

}  // namespace mlp
