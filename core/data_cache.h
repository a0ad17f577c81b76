// The per-host data cache: a data set converted once into a binary file that every process on
// the host maps read-only, so host memory does not grow with the number of ranks. A file is
// named by the key of its sources, written atomically, and checked (size, header, key, CRC32C
// of the contents, label range, finite numbers) every time it is opened; a file that fails a check is rebuilt,
// never used.
//
// Layout (little-endian): a 128-byte header (magic "MLPDATA\n", format version, feature type,
// key, N, I, K, classes, CRC32C of the payload, CRC32C of the header), then the
// payload: features (I, N) column-major as uint8 or float32, zero padding to 8 bytes, labels (N)
// int32 for classification or targets (K, N) float32 for regression.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/sample_table.h"

namespace mlp {

constexpr uint32_t kDataCacheFormatVersion = 1;

// A key of the bytes of the source files and of how they are read (`reader`: the reader and its
// options, e.g. "idx classes=10"). Reading the sources costs far less than decoding them.
uint64_t source_key(const std::vector<std::string>& paths, const std::string& reader);

// The cache folder used when none is given: $XDG_CACHE_HOME/mlp-trainer, else
// $HOME/.cache/mlp-trainer. Throws UsageError when neither variable is set.
std::string default_data_cache_dir();

// Path of the cache file of a key inside dir.
std::string data_cache_path(const std::string& dir, uint64_t key);

// The table cached under `key` in `dir`, mapped read-only. When the file is missing or fails a
// check, `build` makes the table, which is written under a temp name unique to this process,
// fsynced and renamed into place, then mapped and checked like any other. Processes on one host
// that need the same key at once take turns on a lock file, so one builds and the others map its
// result; where the file system has no locks each builds and the last rename wins, and no
// process ever maps a partly written file. A file rebuilt because it failed a check is reported
// in `notes` (one line: the file, what is wrong). Throws UsageError when dir cannot be created or written.
std::shared_ptr<const SampleTable> cached_table(
    const std::string& dir, uint64_t key,
    const std::function<std::shared_ptr<const SampleTable>()>& build,
    std::vector<std::string>* notes);

// Maps and checks one cache file. Returns null and sets *why when it is missing or fails a
// check.
std::shared_ptr<const SampleTable> open_cache_file(const std::string& path, uint64_t key,
                                                   std::string* why);

}  // namespace mlp
