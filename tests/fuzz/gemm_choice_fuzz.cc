// Fuzzes --gemm auto's memory as the trainer reads it at start-up (launch/train/gemm_memory.h):
// size, text-format parse, and every field against this process's key; a file that is refused
// says why in one line.
#include <cstdint>
#include <string>
#include <vector>

#include "launch/train/gemm_memory.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const mlp::GemmMemoryKey key = mlp::gemm_memory_key(mlp::step_products({784, 64, 10}, 32));
  const std::string path = mlp::fuzz::as_file(data, size);
  mlp::GemmBackend backend;
  std::vector<mlp::GemmTiming> timings;
  std::string why;
  if (!mlp::recall_gemm_choice(path, key, &backend, &timings, &why) && !why.empty())
    mlp::fuzz::check_error_line(why.c_str());
  return 0;
}
