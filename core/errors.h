// Error types and the process exit codes they map to. Every bad input becomes one of these,
// caught once in main and printed as a single line.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mlp {

// Documented exit codes of the trainer (README, --help).
enum class ExitCode : int {
  kOk = 0,
  kUsage = 2,             // bad flag, config or option value
  kData = 3,              // unreadable, malformed or inconsistent data file
  kNonFinite = 4,         // loss or gradient became NaN or infinite
  kRankMismatch = 5,      // ranks disagree on config, data or parameters
  kRankFailure = 6,       // a rank died or stalled in a collective
  kCheckpoint = 7,        // unreadable, corrupt or incompatible checkpoint
  kStoppedBySignal = 75,  // stopped by SIGUSR1/SIGTERM after writing a checkpoint
};

// Input quoted in an error line: "text" when short, else its first characters and its length;
// control characters are escaped (\n, \xNN) so the line stays one line. Error lines cross
// ranks in records of about a thousand characters (dist/agreement.cc); a whole 100 MB field
// would push the reason out of the line.
constexpr size_t kQuotedInputShown = 60;

// The system's words for the last failed call's errno, for an error line.
inline std::string errno_text() { return std::strerror(errno); }

inline bool is_control_character(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

// The first `shown` characters of text with control characters escaped (\n, \xNN).
inline std::string escape_control_characters(std::string_view text, size_t shown) {
  std::string out;
  for (const char c : text.substr(0, shown)) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (is_control_character(c)) {
      const char* const hex = "0123456789abcdef";
      out += std::string("\\x") + hex[byte >> 4] + hex[byte & 15];
    } else {
      out += c;
    }
  }
  return out;
}

inline std::string quote_input(std::string_view text) {
  const std::string out = "\"" + escape_control_characters(text, kQuotedInputShown);
  if (text.size() <= kQuotedInputShown) return out + "\"";
  return out + "...\" (" + std::to_string(text.size()) + " characters)";
}

// Another program's message in an error line (a parser's, mpirun's): one line of at most
// `shown` characters, control characters escaped. Such messages quote input themselves.
inline std::string one_line(std::string_view message, size_t shown = 500) {
  std::string out = escape_control_characters(message, shown);
  return message.size() <= shown ? out : out + "...";
}

// Input shown as it reads where quote_input would change nothing but add the quotes (short, no
// control characters), else quote_input(text): values that are almost always plain read plainly.
inline std::string show_input(std::string_view text) {
  const bool plain = text.size() <= kQuotedInputShown &&
                     std::none_of(text.begin(), text.end(), is_control_character);
  return plain ? std::string(text) : quote_input(text);
}

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// A flag, config field or option value that cannot be used.
struct UsageError : Error {
  explicit UsageError(const std::string& message) : Error(ExitCode::kUsage, message) {}
};

// A data file that cannot be read or does not hold what it must.
struct DataError : Error {
  explicit DataError(const std::string& message) : Error(ExitCode::kData, message) {}
};

}  // namespace mlp
