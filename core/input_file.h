// Reading files: read_whole_file, the one reader of every file read whole into memory (config
// files, checkpoints and model files, TensorBoard event files, run summaries, trial logs, /proc
// files), and InputFile, which it reads with, for a reader that streams instead (a checkpoint
// verified without holding it). Nothing here throws: each caller says what a failure means in
// its own error line (its flag, file kind and exit code), from a phrase that follows "PATH: ".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mlp {

// A bound on a file's size, checked when it is opened, before any read: only a regular file of
// at most `bytes` bytes is read, and `name` names the bound when a file is refused.
struct FileSizeLimit {
  uint64_t bytes;
  const char* name;  // "checkpoint size limit": "N bytes is over the checkpoint size limit of M"
};

// A file open for reading (POSIX reads), closed when this is destroyed.
class InputFile {
 public:
  // Opens path. When it cannot, ok() is false and why() says "cannot open: <reason>" or
  // "cannot stat: <reason>", or with a limit "not a regular file" or "N bytes is over the
  // <limit name> of M".
  explicit InputFile(const std::string& path, const FileSizeLimit* limit = nullptr);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  bool ok() const { return why_.empty(); }
  const std::string& why() const { return why_; }
  // Whether the file is a regular one, and then its size when it was opened (else 0: a pipe, a
  // /proc file, a folder).
  bool regular() const { return regular_; }
  uint64_t size() const { return size_; }

  // Reads up to n bytes into out, fewer only at the end of the file, and returns their count.
  // A failed read returns the count read before it and sets why() to "read failed: <reason>";
  // nothing is read once ok() is false.
  size_t read(char* out, size_t n);

 private:
  int fd_ = -1;
  bool regular_ = false;
  uint64_t size_ = 0;
  std::string why_;
};

// OVERWRITES *bytes with the whole file at path, read to its end (a pipe, a /proc file too).
// Returns false when it cannot, with *why (when not null) saying why as InputFile does, or "read
// failed: file shrank while reading", or with a limit "N bytes is over the <limit name> of M"
// for a file that grew past it while read.
bool read_whole_file(const std::string& path, std::string* bytes, std::string* why = nullptr,
                     const FileSizeLimit* limit = nullptr);

}  // namespace mlp
