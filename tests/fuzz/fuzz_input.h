// Shared by the fuzz targets: hands a fuzz input to a reader that takes a path (through an
// in-memory file, so readers see exactly what they see on disk), and checks the error-line
// contract every reader of outside input keeps.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/record_io.h"

namespace mlp::fuzz {

// Replaces the content of one in-memory file per process and returns a path naming it.
inline std::string as_file(const uint8_t* data, size_t size) {
  static const int fd = ::memfd_create("fuzz-input", 0);
  if (fd < 0 || ::ftruncate(fd, 0) != 0) std::abort();
  size_t done = 0;
  while (done < size) {
    const ssize_t put = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (put <= 0) std::abort();
    done += static_cast<size_t>(put);
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

// CRCs stop mutations from reaching the payload parser, so the first input byte chooses: odd,
// the rest is the file as it is (framing and CRC checks); even, the rest is the payload of one
// record (`many` false) or a list of payloads each after a one-byte length, framed here with
// valid CRCs.
inline std::string file_of_records(const uint8_t* data, size_t size, bool many) {
  if (size == 0) return {};
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) return std::string(rest);
  std::string file;
  if (!many) {
    append_record(rest, &file);
    return file;
  }
  for (size_t at = 0; at < rest.size();) {
    const size_t length = std::min<size_t>(static_cast<uint8_t>(rest[at]), rest.size() - at - 1);
    append_record(rest.substr(at + 1, length), &file);
    at += 1 + length;
  }
  return file;
}

// Error lines cross ranks in fixed records of about 1,000 characters (dist/agreement.cc); one
// that quotes input at length would lose its reason there. Readers quote an excerpt instead.
inline void check_error_line(const char* what) {
  const size_t length = std::strlen(what);
  if (length == 0 || length > 1000 || std::strchr(what, '\n')) {
    std::fprintf(stderr, "error line of %zu characters breaks the one-line contract: %.300s\n",
                 length, what);
    std::abort();
  }
}

}  // namespace mlp::fuzz
