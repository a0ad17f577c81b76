// A stop signal after any phase of start-up ends the run before its first step: exit code 75's
// error naming the phase, no step taken, no checkpoint written. The signal is raised at the
// exact moment, so every phase is covered; tests/launch/train/stop_signal_mpi_test.sh sends real
// signals to mpirun's ranks at moments counted in seconds. Each case runs in a child process:
// the stop flag cannot be cleared once set.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/checkpoint_file.h"
#include "launch/platform/compute_threads.h"
#include "core/errors.h"
#include "dist/agreement.h"
#include "launch/platform/stop_signal.h"
#include "launch/train/train_loop.h"
#include "launch/train/trainer_options.h"
#include "tests/launch/process_run.h"
#include "tests/support/synthetic_data.h"

namespace mlp {
namespace {

pb::TrainConfig config_of(const std::string& dir, const std::vector<std::string>& more) {
  const std::string train = test::write_rows(dir + "/train.csv", test::blob_rows(200, 6, 1));
  std::vector<std::string> flags = {"trainer",      "--train-csv", train, "--hidden", "8",
                                    "--batch-size", "32",          "--out", dir + "/run",
                                    "--progress",   "none",        "--checkpoint-every-steps", "1"};
  flags.insert(flags.end(), more.begin(), more.end());
  std::vector<const char*> argv;
  for (const std::string& flag : flags) argv.push_back(flag.c_str());
  return parse_trainer_args(static_cast<int>(argv.size()), argv.data()).config;
}

// In a child: trains `config`, raising SIGUSR1 right after `phase`; exits 0 when the run ended
// before its first step as it must, with `checkpoints` files in its folder as before.
[[noreturn]] void stop_after(const pb::TrainConfig& config, const std::string& phase,
                             size_t checkpoints) {
  install_stop_signal_handlers();
  std::vector<std::string> phases;
  bool stepped = false;
  TrainingHooks hooks;
  hooks.after_start_phase = [&](const std::string& p) {
    phases.push_back(p);
    if (p == phase) std::raise(SIGUSR1);
  };
  hooks.on_step = [&](int64_t, const int64_t*, int64_t) { stepped = true; };
  const std::unique_ptr<Communicator> comm = make_local_communicator();
  try {
    run_training(config, *comm, hooks);
    std::fprintf(stderr, "the run went on after a stop signal (phases seen: %zu)\n", phases.size());
  } catch (const AgreedError& e) {
    const std::string expected = "stopped by a signal while " + phase +
                                 ", before the first step; nothing to save; continue with "
                                 "--resume auto";
    const size_t saved = list_checkpoints(config.out_dir() + "/checkpoints").size();
    if (e.code() == ExitCode::kStoppedBySignal && e.what() == expected && !stepped &&
        phases.back() == phase && saved == checkpoints)
      std::exit(0);
    std::fprintf(stderr, "code %d, stepped %d, %zu checkpoints: %s\n", static_cast<int>(e.code()),
                 stepped, saved, e.what());
  }
  std::exit(1);
}

class StopAfterPhase : public testing::TestWithParam<const char*> {};

// One compute thread, as in the trainer: OpenMP's thread pool does not survive the fork of a
// death test.
TEST_P(StopAfterPhase, EndsAFreshRunBeforeItsFirstStep) {
  use_one_compute_thread();
  const pb::TrainConfig config = config_of(test::fresh_test_dir("start_up_stop"), {});
  EXPECT_EXIT(stop_after(config, GetParam(), 0), testing::ExitedWithCode(0), "");
}

INSTANTIATE_TEST_SUITE_P(Phases, StopAfterPhase,
                         testing::Values("loading the data", "building the model",
                                         "looking for a checkpoint",
                                         "choosing the matrix-product backend",
                                         "writing the start of the run's outputs"));

// A resumed run: its newest checkpoint stays the newest, and nothing else is written.
TEST(StopAfterPhaseOfAResumedRun, EndsItBeforeItsFirstStep) {
  use_one_compute_thread();
  const std::string dir = test::fresh_test_dir("start_up_stop");
  const std::unique_ptr<Communicator> comm = make_local_communicator();
  run_training(config_of(dir, {"--max-steps", "3"}), *comm);
  ASSERT_EQ(list_checkpoints(dir + "/run/checkpoints").size(), 3u);
  const pb::TrainConfig resumed = config_of(dir, {"--max-steps", "6", "--resume", "auto"});
  for (const char* phase : {"resuming", "choosing the matrix-product backend",
                            "writing the start of the run's outputs"})
    EXPECT_EXIT(stop_after(resumed, phase, 3), testing::ExitedWithCode(0), "") << phase;
}

}  // namespace
}  // namespace mlp
