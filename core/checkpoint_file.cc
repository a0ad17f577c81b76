// Checkpoint files; see checkpoint_file.h. A file is sized before it is read (input_file.h).
#include "core/checkpoint_file.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/input_file.h"
#include "core/record_io.h"

namespace mlp {
namespace {

constexpr char kPrefix[] = "ckpt-";
constexpr char kCheckpointSuffix[] = ".pb";

[[noreturn]] void fail(const std::string& what) { throw Error(ExitCode::kCheckpoint, what); }

// The wire-format tag of a length-delimited field (bytes, string, message).
uint32_t length_delimited_tag(int field_number) {
  return static_cast<uint32_t>(field_number) << 3 | 2;
}

bool is_checkpoint_name(const std::string& name) {
  const size_t p = sizeof kPrefix - 1, s = sizeof kCheckpointSuffix - 1;
  if (name.size() <= p + s || name.compare(0, p, kPrefix) != 0 ||
      name.compare(name.size() - s, s, kCheckpointSuffix) != 0)
    return false;
  return std::all_of(name.begin() + p, name.end() - s, [](char c) { return c >= '0' && c <= '9'; });
}

// Record files are regular files of at most kMaxCheckpointBytes, refused before any read.
constexpr FileSizeLimit kRecordFileLimit{kMaxCheckpointBytes, "checkpoint size limit"};

// Bytes of the occurrence of a float field from level `depth` of its path on: tag, length and
// contents.
size_t float_field_bytes(const FloatField& field, size_t depth) {
  using google::protobuf::io::CodedOutputStream;
  const size_t inner = depth + 1 == field.path.size() ? field.count * sizeof(float)
                                                      : float_field_bytes(field, depth + 1);
  return CodedOutputStream::VarintSize32(length_delimited_tag(field.path[depth])) +
         CodedOutputStream::VarintSize64(inner) + inner;
}

void write_float_field(const FloatField& field, size_t depth,
                       google::protobuf::io::CodedOutputStream* out) {
  const bool innermost = depth + 1 == field.path.size();
  const size_t inner =
      innermost ? field.count * sizeof(float) : float_field_bytes(field, depth + 1);
  out->WriteTag(length_delimited_tag(field.path[depth]));
  out->WriteVarint64(inner);
  if (innermost)
    out->WriteRaw(field.values, static_cast<int>(inner));
  else
    write_float_field(field, depth + 1, out);
}

void write_float_fields(const std::vector<FloatField>& floats,
                        google::protobuf::io::CodedOutputStream* out) {
  for (const FloatField& field : floats) write_float_field(field, 0, out);
}

}  // namespace

void write_record_file(const std::string& path, const google::protobuf::MessageLite& message,
                       const std::vector<FloatField>& floats) {
  // Hands the serialized bytes to the file as protobuf produces them, CRC on the way.
  class CrcFileOutput : public google::protobuf::io::CopyingOutputStream {
   public:
    explicit CrcFileOutput(AtomicFileStream* file) : file_(file) {}
    bool Write(const void* buffer, int size) override {
      crc_ = crc32c(buffer, static_cast<size_t>(size), crc_);
      file_->write({static_cast<const char*>(buffer), static_cast<size_t>(size)});
      return true;
    }
    uint32_t crc() const { return crc_; }

   private:
    AtomicFileStream* file_;
    uint32_t crc_ = 0;
  };
  size_t length = message.ByteSizeLong();
  for (const FloatField& field : floats) length += float_field_bytes(field, 0);
  // No reader would take it (and a float field's bytes go to WriteRaw as an int).
  if (length > kMaxCheckpointBytes)
    fail(path + ": " + message.GetTypeName() + " of " + std::to_string(length) +
         " bytes is over the size limit of " + std::to_string(kMaxCheckpointBytes));
  AtomicFileStream file(path);
  file.write(record_header(length));
  CrcFileOutput output(&file);
  {
    google::protobuf::io::CopyingOutputStreamAdaptor stream(&output);
    bool written = false;
    {
      google::protobuf::io::CodedOutputStream coded(&stream);
      written = message.SerializeToCodedStream(&coded);
      write_float_fields(floats, &coded);
      written = written && !coded.HadError();
    }
    if (!written || !stream.Flush() || static_cast<size_t>(stream.ByteCount()) != length)
      fail(path + ": " + message.GetTypeName() + " does not serialize");
  }
  file.write(record_footer(output.crc()));
  file.commit();
}

void merge_float_fields(const std::vector<FloatField>& floats,
                        google::protobuf::MessageLite* message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    write_float_fields(floats, &coded);
  }
  if (!message->MergeFromString(bytes))
    throw std::logic_error("float fields do not merge into " + message->GetTypeName());
}

std::string read_record_file(const std::string& path, const std::string& kind) {
  std::string bytes, why;
  if (!read_whole_file(path, &bytes, &why, &kRecordFileLimit)) fail(path + ": " + why);
  if (bytes.empty()) fail(path + ": empty file, not a " + kind);
  size_t offset = 0;
  size_t length = 0;
  try {
    length = read_record_view(bytes, &offset, kMaxCheckpointBytes).size();
  } catch (const std::runtime_error& e) {
    fail(path + ": not a valid " + kind + ": " + e.what());
  }
  if (offset != bytes.size())
    fail(path + ": " + std::to_string(bytes.size() - offset) + " unexpected bytes after the " +
         kind + " record");
  // The payload moved to the front in place: a copy would double the memory of reading.
  bytes.resize(12 + length);
  bytes.erase(0, 12);
  return bytes;
}

void verify_record_file(const std::string& path, const std::string& kind) {
  InputFile file(path, &kRecordFileLimit);
  if (!file.ok()) fail(path + ": " + file.why());
  const uint64_t size = file.size();
  if (size == 0) fail(path + ": empty file, not a " + kind);
  uint64_t used = 0;
  try {
    used = check_record_stream(
        [&](char* out, size_t n) {
          const size_t got = file.read(out, n);
          if (!file.ok()) fail(path + ": " + file.why());
          return got;
        },
        size, kMaxCheckpointBytes);
  } catch (const Error&) {
    throw;  // a failed read
  } catch (const std::runtime_error& e) {
    fail(path + ": not a valid " + kind + ": " + e.what());
  }
  if (used != size)
    fail(path + ": " + std::to_string(size - used) + " unexpected bytes after the " + kind +
         " record");
}

void write_checkpoint(const std::string& path, const pb::Checkpoint& checkpoint) {
  write_record_file(path, checkpoint);
}

pb::Checkpoint read_checkpoint(const std::string& path) {
  const std::string payload = read_record_file(path, "checkpoint");
  pb::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(payload))
    fail(path + ": CRC is valid but the payload is not a Checkpoint message");
  if (!checkpoint.has_format_version())
    fail(path + ": no format version; not a checkpoint of this program");
  if (checkpoint.format_version() > kCheckpointFormatVersion)
    fail(path + ": format version " + std::to_string(checkpoint.format_version()) +
         " is newer than this program reads (" + std::to_string(kCheckpointFormatVersion) +
         "); use a newer trainer");
  return checkpoint;
}

std::string checkpoint_path(const std::string& dir, int64_t global_step) {
  char name[48];
  std::snprintf(name, sizeof name, "%s%012lld%s", kPrefix, static_cast<long long>(global_step),
                kCheckpointSuffix);
  return dir + "/" + name;
}

std::vector<std::string> list_checkpoints(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (is_checkpoint_name(name)) names.push_back(name);
  }
  // Fixed-width step numbers sort in step order.
  std::sort(names.begin(), names.end());
  for (std::string& name : names) name = dir + "/" + name;
  return names;
}

void prune_checkpoints(const std::string& dir, int keep) {
  const std::vector<std::string> all = list_checkpoints(dir);
  for (size_t i = 0; i + static_cast<size_t>(std::max(keep, 1)) < all.size(); ++i)
    std::filesystem::remove(all[i]);
}

void remove_stale_temp_files(const std::string& dir) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0 &&
        is_checkpoint_name(name.substr(0, name.size() - 4)))
      std::filesystem::remove(entry.path(), error);
  }
}

std::string newest_valid_checkpoint(const std::string& dir, std::vector<std::string>* warnings) {
  const std::vector<std::string> all = list_checkpoints(dir);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      read_checkpoint(*it);
      return *it;
    } catch (const Error& e) {
      if (warnings)
        warnings->push_back(std::string(e.what()) + "; falling back to an older checkpoint");
    }
  }
  return "";
}

}  // namespace mlp
