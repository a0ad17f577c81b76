// --gemm auto's memory: the backend auto chose on a host, for its CPU and the model's product
// shapes, kept in the data cache folder (core/data_cache.h) with the rates it measured, so that
// later runs of those shapes reuse it instead of timing again. Timing under load can pick another
// backend, and another backend trains other bits; with the memory, two runs of one command give
// the same bits whatever the load when they start. A file is named by a hash of its key, written
// atomically and checked field by field when read; one that fails a check, or whose host, CPU or
// shapes are not this run's, is never used: the backends are timed again and the file replaced.
#pragma once

#include <string>
#include <vector>

#include "core/gemm_choice.h"

namespace mlp {

// What a remembered choice is valid for.
struct GemmMemoryKey {
  std::string host;       // host name
  std::string cpu;        // cpu_model_name()
  std::string cpu_flags;  // hash of /proc/cpuinfo's flags, 16 hexadecimal digits
  std::string products;   // the timed products, "MxNxK" each, "a'"/"b'" marking transposes
  std::string backends;   // this build's backends, comma separated
};

// This process's key for these products.
GemmMemoryKey gemm_memory_key(const std::vector<GemmProduct>& products);

// The file of a key in the folder dir: gemm-choice-<16 hexadecimal digits of a hash of the
// key>.txt.
std::string gemm_memory_path(const std::string& dir, const GemmMemoryKey& key);

// The choice remembered at path for key: true, with *backend and *timings (each backend's rate;
// step_seconds 0), when the file holds one whose every field checks; false otherwise, *why empty
// when there is no file, else what is wrong with it ("PATH: ..." or "PATH:LINE:COLUMN: ...", for
// a warning line).
bool recall_gemm_choice(const std::string& path, const GemmMemoryKey& key, GemmBackend* backend,
                        std::vector<GemmTiming>* timings, std::string* why);

// Writes the choice (the fastest of timings, one per backend of key.backends) to path
// atomically, creating its folder. Throws Error naming the path when it cannot.
void remember_gemm_choice(const std::string& path, const GemmMemoryKey& key,
                          const std::vector<GemmTiming>& timings);

}  // namespace mlp
