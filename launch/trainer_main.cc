// Entry point of `trainer`: parse flags, open the communicator, train, and turn every error
// into one line on stderr and its documented exit code.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "launch/platform/compute_threads.h"
#include "core/errors.h"
#include "dist/agreement.h"
#include "dist/communicator.h"
#include "launch/tools/subcommands.h"
#include "launch/platform/stop_signal.h"
#include "launch/train/train_loop.h"
#include "launch/train/trainer_options.h"

namespace {

int env_rank() {
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  return rank ? std::atoi(rank) : 0;
}

void report(const std::exception& e) {
  // A stop by signal is an orderly end (exit 75), not an error.
  const auto* error = dynamic_cast<const mlp::Error*>(&e);
  const bool stopped = error && error->code() == mlp::ExitCode::kStoppedBySignal;
  std::fprintf(stderr, "trainer: %s%s\n", stopped ? "" : "error: ", e.what());
  std::fflush(stderr);
}

std::string joined(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) line += (i ? " " : "") + std::string(argv[i]);
  return line;
}

// `trainer NAME ...`: flags are the same on every rank, so every rank fails alike and rank 0
// speaks for all.
int run_subcommand(const mlp::Subcommand& command, int argc, char** argv) {
  // They write their outputs atomically and have nothing to save: ending at once is their stop.
  mlp::restore_default_stop_signals();
  mlp::use_one_compute_thread();
  try {
    return command.run(argc, argv);
  } catch (const mlp::Error& e) {
    if (env_rank() == 0) report(e);
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    report(e);
    return 1;
  }
}

// Before any other work of a training run: the dynamic loader calls this before the
// initializers of the shared libraries (MPI, protobuf, oneDNN...) and of the program itself, so
// from the start SIGUSR1 and SIGTERM only ask the run to stop, which it does with exit 75 at any
// moment, never by the default action that kills the rank.
[[gnu::section(".preinit_array"), gnu::used]] void (*const install_stop_handlers)(
    int, char**, char**) = mlp::install_stop_signal_handlers_at_exec;

}  // namespace

int main(int argc, char** argv) {
  for (const mlp::Subcommand& command : mlp::subcommands())
    if (argc >= 2 && std::strcmp(argv[1], command.name) == 0)
      return run_subcommand(command, argc, argv);
  mlp::use_one_compute_thread();
  const std::string command_line = joined(argc, argv);
  mlp::TrainerArgs args;
  try {
    // Flags are the same on every rank, so every rank fails alike; rank 0 speaks for all.
    args = mlp::parse_trainer_args(argc, argv);
  } catch (const mlp::Error& e) {
    if (env_rank() == 0) report(e);
    return static_cast<int>(e.code());
  }
  if (args.help) {
    if (env_rank() == 0)
      std::fputs((args.help_text + "\n" + mlp::subcommands_text()).c_str(), stdout);
    return 0;
  }

  std::unique_ptr<mlp::Communicator> comm =
      mlp::make_communicator(&argc, &argv, args.config.stall_timeout());
  try {
    mlp::run_training(args.config, *comm, {}, command_line);
  } catch (const mlp::AgreedError& e) {
    if (comm->rank() == 0) report(e);
    return static_cast<int>(e.code());
  } catch (const mlp::Error& e) {
    // Only this rank failed: the others would wait for it in their next collective.
    report(e);
    if (comm->size() > 1) comm->abort(static_cast<int>(e.code()));
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    report(e);
    if (comm->size() > 1) comm->abort(1);
    return 1;
  }
  return 0;
}
