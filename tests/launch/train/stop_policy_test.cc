// Stop signals: a signal sets the flag that the ranks agree on after the next step, with its
// number. Each case runs in a child process: the flag cannot be cleared once set.
#include "launch/train/stop_policy.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>

#include "launch/platform/stop_signal.h"

namespace mlp {
namespace {

// Exits 0 when the policy reports `expected_signal` (0: no stop) after `sent` was raised.
void check_in_child(int sent, int expected_signal) {
  install_stop_signal_handlers();
  if (sent != 0) std::raise(sent);
  const std::unique_ptr<Communicator> comm = make_local_communicator();
  StopPolicy stops(*comm);
  const bool ok =
      stops.requested(1) == (expected_signal != 0) && stops.signal_number() == expected_signal;
  std::exit(ok ? 0 : 1);
}

TEST(StopPolicy, NoSignalNoStop) {
  EXPECT_EXIT(check_in_child(0, 0), testing::ExitedWithCode(0), "");
}

TEST(StopPolicy, SigusrOneAsksToStop) {
  EXPECT_EXIT(check_in_child(SIGUSR1, SIGUSR1), testing::ExitedWithCode(0), "");
}

TEST(StopPolicy, SigtermAsksToStopInsteadOfEndingTheProcess) {
  EXPECT_EXIT(check_in_child(SIGTERM, SIGTERM), testing::ExitedWithCode(0), "");
}

// Programs with nothing to save (the trainer's subcommands) give the signals back their default
// action; one that came while the handlers were installed still ends the process.
void restore_in_child(int before, int after) {
  install_stop_signal_handlers();
  if (before != 0) std::raise(before);
  restore_default_stop_signals();
  if (after != 0) std::raise(after);
  std::exit(0);
}

TEST(StopPolicy, DefaultActionRestoredEndsTheProcess) {
  EXPECT_EXIT(restore_in_child(0, SIGTERM), testing::KilledBySignal(SIGTERM), "");
  EXPECT_EXIT(restore_in_child(0, SIGUSR1), testing::KilledBySignal(SIGUSR1), "");
}

TEST(StopPolicy, SignalThatCameBeforeTheRestoreEndsTheProcess) {
  EXPECT_EXIT(restore_in_child(SIGTERM, 0), testing::KilledBySignal(SIGTERM), "");
}

}  // namespace
}  // namespace mlp
