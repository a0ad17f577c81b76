// Fuzzes the data cache reader as every rank of a run uses it: the file is mapped and checked
// (size, header, key, CRCs, shape, labels, numbers); a file that fails is reported with one
// reason and rebuilt, never used, and one that passes is read sample by sample and must hold
// only what a reader of data files makes.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/data_cache.h"
#include "core/record_io.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

// Offsets of the layout in core/data_cache.h.
constexpr size_t kHeaderBytes = 128, kKeyOffset = 16, kPayloadCrcOffset = 52,
                 kHeaderCrcOffset = kHeaderBytes - 4;

[[noreturn]] void used_a_bad_table(const char* what, int64_t j) {
  std::fprintf(stderr, "a cache file that passed its checks has %s at sample %lld\n", what,
               static_cast<long long>(j));
  std::abort();
}

}  // namespace

// The first byte chooses: bit 0 clear, the rest is the file with both CRCs made to fit, so
// mutations reach the shape, label and number checks; set, the file as it is. Bit 1 asks for
// the file under a key other than its own.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string file(reinterpret_cast<const char*>(data) + 1, size - 1);
  uint64_t key = 0;
  if (file.size() >= kKeyOffset + 8) std::memcpy(&key, file.data() + kKeyOffset, 8);
  if (data[0] & 2) key ^= 1;
  if (!(data[0] & 1) && file.size() >= kHeaderBytes) {
    const uint32_t payload = mlp::crc32c(file.data() + kHeaderBytes, file.size() - kHeaderBytes);
    std::memcpy(&file[kPayloadCrcOffset], &payload, 4);
    const uint32_t header = mlp::crc32c(file.data(), kHeaderCrcOffset);
    std::memcpy(&file[kHeaderCrcOffset], &header, 4);
  }
  const std::string path =
      mlp::fuzz::as_file(reinterpret_cast<const uint8_t*>(file.data()), file.size());
  std::string why;
  const auto table = mlp::open_cache_file(path, key, &why);
  if (!table) {
    mlp::fuzz::check_error_line(why.c_str());
    return 0;
  }
  const mlp::TableShape& s = table->shape();
  if (s.num_classes > mlp::kMaxClasses) used_a_bad_table("more classes than any reader makes", 0);
  std::vector<float> column(static_cast<size_t>(s.features));
  for (int64_t j = 0; j < s.samples; ++j) {
    table->column(j, column.data());
    for (const float x : column)
      if (!std::isfinite(x)) used_a_bad_table("a non-finite feature", j);
    if (s.target_rows == 0) {
      if (table->label(j) < 0 || table->label(j) >= s.num_classes)
        used_a_bad_table("a label outside its classes", j);
    } else {
      for (int64_t k = 0; k < s.target_rows; ++k)
        if (!std::isfinite(table->targets(j)[k])) used_a_bad_table("a non-finite target", j);
    }
  }
  return 0;
}
