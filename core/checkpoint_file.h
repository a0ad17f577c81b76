// Checkpoint files: one CRC32C-framed Checkpoint record per file, written atomically (temp file
// in the same folder, fsync, rename, fsync the folder), named ckpt-<global step>.pb, pruned
// only after a newer one is durable and verified. Loading checks size, frame, CRC, parse and
// format version, and says exactly what is wrong.
#pragma once

#include <google/protobuf/message_lite.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proto/checkpoint.pb.h"

namespace mlp {

constexpr uint32_t kCheckpointFormatVersion = 1;
// Protobuf parses no message of 2 GiB or more, so a larger file is refused before allocating
// (models are bounded well below it, see core/model.h).
constexpr uint64_t kMaxCheckpointBytes = (uint64_t{1} << 31) - 1;

// A float vector written as a packed bytes field of a record's message straight from memory, so
// that multi-megabyte vectors (parameters, optimizer slots) are never copied into the message.
// `path` holds the field numbers from the message down to the bytes field: {4} is
// Checkpoint.params, {5, 3} one of the slots of Checkpoint.optimizer. Each float field is written
// after the message's own fields, a nested one in an occurrence of its enclosing messages of its
// own; protobuf parsers merge those occurrences (a repeated field is appended to, in order), so a
// reader gets the message as if the vector had been set in it. The message must leave the field
// unset. Little-endian float32 bytes, as pack_floats gives.
struct FloatField {
  std::vector<int> path;
  const float* values = nullptr;
  size_t count = 0;
};

// Serializes message, then the float fields, as the one record of a file written atomically
// (AtomicFileStream): checkpoints and model files. The payload is streamed, never held whole, so
// writing needs no memory beyond the message (a checkpoint of a 1.86 M-parameter model is 22 MB,
// nearly all of it float fields).
void write_record_file(const std::string& path, const google::protobuf::MessageLite& message,
                       const std::vector<FloatField>& floats = {});

// Sets copies of the float fields into message exactly as a reader of the file that
// write_record_file(path, *message, floats) writes would find them.
void merge_float_fields(const std::vector<FloatField>& floats,
                        google::protobuf::MessageLite* message);

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
