// FNV-1a over raw bytes: the one hash the project compares across ranks and runs (configs,
// parameter buffers). Stable across processes and builds, unlike std::hash.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mlp {

inline uint64_t fnv1a(const void* data, size_t n) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; ++i) h = (h ^ bytes[i]) * 0x100000001b3ULL;
  return h;
}

}  // namespace mlp
