// Checkpoints across ranks, at one rank: saving writes a verified file and prunes the oldest (a
// file that does not verify fails the save), loading finds the newest valid one (or says there is
// none), and the folder default.
#include "launch/train/checkpointing.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "core/checkpoint_file.h"
#include "core/errors.h"
#include "tests/launch/process_run.h"

namespace mlp {
namespace {

pb::Checkpoint checkpoint_at(int64_t global_step) {
  pb::Checkpoint c;
  c.set_format_version(kCheckpointFormatVersion);
  c.set_global_step(global_step);
  return c;
}

TEST(Checkpointing, FolderIsCheckpointDirOrUnderTheRunFolder) {
  pb::TrainConfig c;
  c.set_out_dir("runs/a");
  EXPECT_EQ(checkpoint_folder(c), "runs/a/checkpoints");
  c.set_checkpoint_dir("/scratch/ck");
  EXPECT_EQ(checkpoint_folder(c), "/scratch/ck");
}

TEST(Checkpointing, SaveWritesVerifiesAndKeepsTheNewest) {
  const std::string dir = test::fresh_test_dir("checkpointing");
  const std::unique_ptr<Communicator> comm = make_local_communicator();
  for (int64_t step : {2, 4, 6}) {
    const std::string path = save_checkpoint_everywhere(
        *comm, dir, step, 2,
        [step](const std::string& to) { write_checkpoint(to, checkpoint_at(step)); });
    EXPECT_EQ(path, checkpoint_path(dir, step));
    EXPECT_EQ(read_checkpoint(path).global_step(), step);
  }
  EXPECT_EQ(list_checkpoints(dir),
            (std::vector<std::string>{checkpoint_path(dir, 4), checkpoint_path(dir, 6)}));
}

// A file that does not verify (a byte changed after writing) fails the save, and the older
// checkpoints are kept.
TEST(Checkpointing, SaveFailsOnAFileThatDoesNotVerify) {
  const std::string dir = test::fresh_test_dir("checkpointing");
  const std::unique_ptr<Communicator> comm = make_local_communicator();
  for (int64_t step : {2, 4})
    save_checkpoint_everywhere(*comm, dir, step, 1, [step](const std::string& to) {
      write_checkpoint(to, checkpoint_at(step));
    });
  const auto write_damaged = [](const std::string& to) {
    write_checkpoint(to, checkpoint_at(6));
    std::fstream file(to, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(14);
    file.put('\x7f');
  };
  try {
    save_checkpoint_everywhere(*comm, dir, 6, 1, write_damaged);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kCheckpoint);
    EXPECT_NE(std::string(e.what()).find(checkpoint_path(dir, 6) + ": not a valid checkpoint"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(list_checkpoints(dir),
            (std::vector<std::string>{checkpoint_path(dir, 4), checkpoint_path(dir, 6)}));
}

TEST(Checkpointing, LoadAutoTakesTheNewestValidAndNothingFromAnEmptyFolder) {
  const std::string dir = test::fresh_test_dir("checkpointing");
  const std::unique_ptr<Communicator> comm = make_local_communicator();
  pb::Checkpoint loaded;
  std::string source;
  EXPECT_FALSE(load_checkpoint_everywhere(*comm, "auto", dir, &loaded, &source));
  write_checkpoint(checkpoint_path(dir, 3), checkpoint_at(3));
  std::ofstream(checkpoint_path(dir, 5)) << "not a checkpoint";
  ASSERT_TRUE(load_checkpoint_everywhere(*comm, "auto", dir, &loaded, &source));
  EXPECT_EQ(source, checkpoint_path(dir, 3));
  EXPECT_EQ(loaded.global_step(), 3);
  EXPECT_THROW(load_checkpoint_everywhere(*comm, checkpoint_path(dir, 5), dir, &loaded, &source),
               Error);
}

}  // namespace
}  // namespace mlp
