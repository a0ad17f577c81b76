// Checkpoint files: one CRC32C-framed Checkpoint record per file, written atomically (temp file
// in the same folder, fsync, rename, fsync the folder), named ckpt-<global step>.pb, pruned
// only after a newer one is durable and verified. Loading checks size, frame, CRC, parse and
// format version, and says exactly what is wrong.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <google/protobuf/message_lite.h>

#include "proto/checkpoint.pb.h"

namespace mlp {

constexpr uint32_t kCheckpointFormatVersion = 1;
// Protobuf parses no message of 2 GiB or more, so a larger file is refused before allocating
// (models are bounded well below it, see core/model.h).
constexpr uint64_t kMaxCheckpointBytes = (uint64_t{1} << 31) - 1;

// Serializes message as the one record of a file written atomically (AtomicFileStream):
// checkpoints and model files. The payload is streamed, never held whole, so writing needs
// little memory beyond the message (a checkpoint of a 1.86 M-parameter model is 22 MB).
void write_record_file(const std::string& path, const google::protobuf::MessageLite& message);

// Reads a file that must hold exactly one framed record (size cap, frame, CRCs) and returns its
// payload. `kind` names what the file should be in errors ("checkpoint"). Throws
// Error(kCheckpoint) "path: what is wrong".
std::string read_record_file(const std::string& path, const std::string& kind);

// The checks of read_record_file, a piece at a time: verifies a file just written without
// holding it in memory. Throws Error(kCheckpoint) "path: what is wrong".
void verify_record_file(const std::string& path, const std::string& kind);

// Frames and writes a checkpoint atomically.
void write_checkpoint(const std::string& path, const pb::Checkpoint& checkpoint);

// Reads and verifies one checkpoint file. Throws Error(kCheckpoint) "path: what is wrong".
pb::Checkpoint read_checkpoint(const std::string& path);

// Path of the checkpoint of a global step inside dir.
std::string checkpoint_path(const std::string& dir, int64_t global_step);

// Checkpoint files in dir, oldest (lowest step) first. Missing dir: empty.
std::vector<std::string> list_checkpoints(const std::string& dir);

// Deletes all but the newest `keep` checkpoints (keep >= 1).
void prune_checkpoints(const std::string& dir, int keep);

// Deletes *.tmp files left in dir by a writer that died mid-write.
void remove_stale_temp_files(const std::string& dir);

// The newest checkpoint in dir that verifies; each newer one that fails is reported through
// `warnings` (one line each). Returns "" when dir holds no valid checkpoint.
std::string newest_valid_checkpoint(const std::string& dir, std::vector<std::string>* warnings);

}  // namespace mlp
