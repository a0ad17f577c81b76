// Reading files; see input_file.h.
#include "core/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/errors.h"

namespace mlp {

InputFile::InputFile(const std::string& path, const FileSizeLimit* limit) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    why_ = "cannot open: " + errno_text();
    return;
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    why_ = "cannot stat: " + errno_text();
    return;
  }
  regular_ = S_ISREG(st.st_mode);
  if (regular_) size_ = static_cast<uint64_t>(st.st_size);
  if (limit == nullptr) return;
  if (!regular_) {
    why_ = "not a regular file";
  } else if (size_ > limit->bytes) {
    why_ = std::to_string(size_) + " bytes is over the " + limit->name + " of " +
           std::to_string(limit->bytes);
  }
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

size_t InputFile::read(char* out, size_t n) {
  size_t done = 0;
  while (ok() && done < n) {
    const ssize_t got = ::read(fd_, out + done, n - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) why_ = "read failed: " + errno_text();
    if (got <= 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

bool read_whole_file(const std::string& path, std::string* bytes, std::string* why,
                     const FileSizeLimit* limit) {
  const auto failed = [&](const std::string& what) {
    if (why != nullptr) *why = what;
    bytes->clear();
    return false;
  };
  InputFile file(path, limit);
  if (!file.ok()) return failed(file.why());
  // The size the file had when opened, in one allocation; then on to its end in pieces, for a
  // file that tells no size (a pipe; /proc files say 0) or grew meanwhile.
  bytes->resize(static_cast<size_t>(file.size()));
  if (file.read(bytes->data(), bytes->size()) < bytes->size() && file.ok())
    return failed("read failed: file shrank while reading");
  std::string piece(size_t{64} << 10, '\0');
  for (size_t got = 1; got > 0 && file.ok();) {
    got = file.read(piece.data(), piece.size());
    bytes->append(piece, 0, got);
    if (limit != nullptr && bytes->size() > limit->bytes)
      return failed(std::to_string(bytes->size()) + " bytes is over the " + limit->name + " of " +
                    std::to_string(limit->bytes));
  }
  return file.ok() ? true : failed(file.why());
}

}  // namespace mlp
