// Checkpoint files: atomic round trip, files of earlier versions, every kind of bad file refused
// with its reason, fallback to the newest valid checkpoint, pruning, and kill -9 during writes
// never losing a checkpoint.
#include "core/checkpoint_file.h"

#include <google/protobuf/unknown_field_set.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/errors.h"
#include "core/packed_floats.h"
#include "core/record_io.h"

namespace mlp {
namespace {

std::string fresh_dir(const std::string& name) {
  const std::string dir = testing::TempDir() + "/ckpt_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

pb::Checkpoint sample_checkpoint(int64_t step, size_t floats = 1000) {
  pb::Checkpoint c;
  c.set_format_version(kCheckpointFormatVersion);
  c.set_global_step(step);
  std::vector<float> params(floats);
  for (size_t i = 0; i < floats; ++i)
    params[i] = static_cast<float>(i) * 0.5f + static_cast<float>(step);
  c.set_params(pack_floats(params.data(), params.size()));
  return c;
}

std::string read_error(const std::string& path) {
  try {
    read_checkpoint(path);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kCheckpoint);
    return e.what();
  }
  return "no error";
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CheckpointFile, RoundTripsAndLeavesNoTempFile) {
  const std::string dir = fresh_dir("round_trip");
  const std::string path = checkpoint_path(dir, 42);
  EXPECT_EQ(path, dir + "/ckpt-000000000042.pb");
  write_checkpoint(path, sample_checkpoint(42));
  const pb::Checkpoint back = read_checkpoint(path);
  EXPECT_EQ(back.global_step(), 42);
  std::vector<float> params(1000);
  unpack_floats(back.params(), params.data(), params.size(), "params");
  EXPECT_EQ(params[3], 43.5f);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

// Float vectors written from memory, at the top level and nested (repeated and singular), read
// back as if they had been set in the message, and merge into a message the same way.
TEST(CheckpointFile, FloatFieldsReadAsSetInTheMessage) {
  const std::string path = checkpoint_path(fresh_dir("float_fields"), 3);
  pb::Checkpoint c;
  c.set_format_version(kCheckpointFormatVersion);
  c.set_global_step(3);
  c.mutable_optimizer()->set_kind(pb::ADAM);
  c.mutable_optimizer()->add_slot_names("m");
  c.mutable_optimizer()->add_slot_names("v");
  c.mutable_early_stopping()->set_best_epoch(2);
  std::vector<std::vector<float>> vectors(4, std::vector<float>(1000));
  for (size_t k = 0; k < vectors.size(); ++k)
    for (size_t i = 0; i < 1000; ++i) vectors[k][i] = static_cast<float>(k) - 0.25f * i;
  const int optimizer = pb::Checkpoint::kOptimizerFieldNumber;
  const int slots = pb::OptimizerState::kSlotsFieldNumber;
  const std::vector<FloatField> floats = {
      {{pb::Checkpoint::kParamsFieldNumber}, vectors[0].data(), 1000},
      {{optimizer, slots}, vectors[1].data(), 1000},
      {{optimizer, slots}, vectors[2].data(), 1000},
      {{pb::Checkpoint::kEarlyStoppingFieldNumber, pb::EarlyStoppingState::kBestParamsFieldNumber},
       vectors[3].data(),
       1000}};
  pb::Checkpoint expected = c;
  expected.set_params(pack_floats(vectors[0].data(), 1000));
  expected.mutable_optimizer()->add_slots(pack_floats(vectors[1].data(), 1000));
  expected.mutable_optimizer()->add_slots(pack_floats(vectors[2].data(), 1000));
  expected.mutable_early_stopping()->set_best_params(pack_floats(vectors[3].data(), 1000));

  write_record_file(path, c, floats);
  EXPECT_EQ(read_checkpoint(path).SerializeAsString(), expected.SerializeAsString());
  verify_record_file(path, "checkpoint");
  pb::Checkpoint merged = c;
  merge_float_fields(floats, &merged);
  EXPECT_EQ(merged.SerializeAsString(), expected.SerializeAsString());
}

// Earlier versions wrote a block's is_bias in field 5 of its layout entry; such files still
// read, the old field kept aside as an unknown one.
TEST(CheckpointFile, LayoutEntriesOfEarlierVersionsStillRead) {
  const std::string path = checkpoint_path(fresh_dir("earlier_layout"), 1);
  pb::Checkpoint c = sample_checkpoint(1);
  pb::ParamBlockInfo* block = c.add_layout();
  block->set_name("dense0.bias");
  block->GetReflection()->MutableUnknownFields(block)->AddVarint(5, 1);
  write_checkpoint(path, c);
  const pb::Checkpoint back = read_checkpoint(path);
  ASSERT_EQ(back.layout_size(), 1);
  EXPECT_EQ(back.layout(0).name(), "dense0.bias");
  EXPECT_FALSE(back.layout(0).has_decayed());
  EXPECT_EQ(back.layout(0).GetReflection()->GetUnknownFields(back.layout(0)).field_count(), 1);
}

TEST(CheckpointFile, BadFilesAreRefusedWithTheirReason) {
  const std::string dir = fresh_dir("bad");
  const std::string good_path = checkpoint_path(dir, 1);
  write_checkpoint(good_path, sample_checkpoint(1));
  const std::string good = file_bytes(good_path);
  const std::string bad = dir + "/bad.pb";

  write_bytes(bad, "");
  EXPECT_EQ(read_error(bad), bad + ": empty file, not a checkpoint");
  write_bytes(bad, good.substr(0, good.size() / 2));
  EXPECT_NE(read_error(bad).find(": not a valid checkpoint: record at byte 0: truncated"),
            std::string::npos);
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  write_bytes(bad, flipped);
  EXPECT_EQ(read_error(bad),
            bad + ": not a valid checkpoint: record at byte 0: payload CRC mismatch");
  write_bytes(bad, good + "x");
  EXPECT_EQ(read_error(bad), bad + ": 1 unexpected bytes after the checkpoint record");
  write_bytes(bad, "\x1f\x8b\x08\x08 this is a gzip file, not a checkpoint");
  EXPECT_EQ(read_error(bad),
            bad + ": not a valid checkpoint: record at byte 0: length CRC mismatch");
  EXPECT_EQ(read_error(dir + "/missing.pb"),
            dir + "/missing.pb: cannot open: No such file or directory");
  EXPECT_EQ(read_error(dir), dir + ": not a regular file");

  // A sparse file over the cap is refused from its size, without reading it.
  const std::string huge = dir + "/huge.pb";
  write_bytes(huge, "x");
  std::filesystem::resize_file(huge, kMaxCheckpointBytes + 1);
  EXPECT_EQ(read_error(huge), huge + ": " + std::to_string(kMaxCheckpointBytes + 1) +
                                  " bytes is over the checkpoint size limit of " +
                                  std::to_string(kMaxCheckpointBytes));
  // Protobuf cannot parse 2 GiB or more: a 3 GB file with valid CRCs would only cost memory.
  std::filesystem::resize_file(huge, uint64_t{3} << 30);
  EXPECT_NE(read_error(huge).find(" bytes is over the checkpoint size limit of 2147483647"),
            std::string::npos);

  pb::Checkpoint newer = sample_checkpoint(2);
  newer.set_format_version(kCheckpointFormatVersion + 1);
  write_checkpoint(bad, newer);
  EXPECT_EQ(read_error(bad),
            bad + ": format version 2 is newer than this program reads (1); use a newer trainer");
  pb::Checkpoint versionless = sample_checkpoint(3);
  versionless.clear_format_version();
  write_checkpoint(bad, versionless);
  EXPECT_EQ(read_error(bad), bad + ": no format version; not a checkpoint of this program");
  std::string not_a_message;
  append_record(std::string("\xff\xff\xff", 3), &not_a_message);
  write_bytes(bad, not_a_message);
  EXPECT_EQ(read_error(bad), bad + ": CRC is valid but the payload is not a Checkpoint message");
}

// Verifying a file piece by piece (after writing a checkpoint) finds what reading it whole
// finds, with the same message, on a payload of several read chunks.
TEST(CheckpointFile, VerifyingPieceByPieceRefusesWhatReadingRefuses) {
  const std::string dir = fresh_dir("verify");
  const std::string good_path = checkpoint_path(dir, 1);
  write_checkpoint(good_path, sample_checkpoint(1, 700000));  // 2.8 MB
  EXPECT_NO_THROW(verify_record_file(good_path, "checkpoint"));
  const std::string good = file_bytes(good_path);
  std::string flipped = good;
  flipped[good.size() - 100] ^= 0x10;
  const std::string bad = dir + "/bad.pb";
  for (const std::string& bytes :
       {std::string(), good.substr(0, 5), good.substr(0, good.size() / 2), flipped, good + "x",
        std::string("\x1f\x8b\x08\x08 this is a gzip file, not a checkpoint")}) {
    write_bytes(bad, bytes);
    std::string verify_error = "no error", read_error = "no error";
    try {
      verify_record_file(bad, "checkpoint");
    } catch (const Error& e) {
      verify_error = e.what();
    }
    try {
      read_record_file(bad, "checkpoint");
    } catch (const Error& e) {
      read_error = e.what();
    }
    EXPECT_NE(verify_error, "no error");
    EXPECT_EQ(verify_error, read_error);
  }
}

TEST(CheckpointFile, NewestValidFallsBackPastCorruptOnesAndPruneKeepsTheNewest) {
  const std::string dir = fresh_dir("fallback");
  for (int64_t step : {10, 20, 30})
    write_checkpoint(checkpoint_path(dir, step), sample_checkpoint(step));
  std::string newest = file_bytes(checkpoint_path(dir, 30));
  newest.resize(newest.size() - 3);
  write_bytes(checkpoint_path(dir, 30), newest);
  std::vector<std::string> warnings;
  EXPECT_EQ(newest_valid_checkpoint(dir, &warnings), checkpoint_path(dir, 20));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("ckpt-000000000030.pb: not a valid checkpoint"), std::string::npos);

  prune_checkpoints(dir, 2);
  EXPECT_EQ(list_checkpoints(dir),
            (std::vector<std::string>{checkpoint_path(dir, 20), checkpoint_path(dir, 30)}));
  write_bytes(checkpoint_path(dir, 40) + ".tmp", "partial");
  remove_stale_temp_files(dir);
  EXPECT_FALSE(std::filesystem::exists(checkpoint_path(dir, 40) + ".tmp"));
  EXPECT_EQ(newest_valid_checkpoint(fresh_dir("empty"), nullptr), "");
}

// A child writes checkpoints in a loop and is killed with SIGKILL at a random moment, often
// mid-write. The newest valid checkpoint must always load, and it is never older than the
// last one the child finished before the kill window opened.
TEST(CheckpointFile, KillNineDuringWritesNeverLosesTheLastCheckpoint) {
  std::mt19937 random(12345);
  for (int trial = 0; trial < 24; ++trial) {
    const std::string dir = fresh_dir("kill_" + std::to_string(trial));
    write_checkpoint(checkpoint_path(dir, 0), sample_checkpoint(0, 2000));
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int64_t step = 1;; ++step) {
        write_checkpoint(checkpoint_path(dir, step),
                         sample_checkpoint(step, 200000 + (step % 7) * 1000));
        prune_checkpoints(dir, 2);
      }
    }
    usleep(std::uniform_int_distribution<int>(500, 40000)(random));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    std::vector<std::string> warnings;
    const std::string newest = newest_valid_checkpoint(dir, &warnings);
    ASSERT_FALSE(newest.empty()) << "trial " << trial;
    const pb::Checkpoint loaded = read_checkpoint(newest);
    std::vector<float> params(loaded.params().size() / sizeof(float));
    unpack_floats(loaded.params(), params.data(), params.size(), "params");
    EXPECT_EQ(params[1], 0.5f + static_cast<float>(loaded.global_step()));
    // Committed files are complete: only a *.tmp can be partial, and it is cleaned away.
    EXPECT_TRUE(warnings.empty()) << warnings[0];
    remove_stale_temp_files(dir);
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      EXPECT_EQ(entry.path().extension(), ".pb");
  }
}

}  // namespace
}  // namespace mlp
