// SIGUSR1 and SIGTERM (what SLURM and mpirun send before a job is ended) ask the run to stop:
// the handler only sets a flag; the training loop agrees on it across ranks at the next step
// boundary (or between the phases of start-up), writes a checkpoint where there is something to
// save, and exits with code 75.
#pragma once

namespace mlp {

// Installs the handlers (idempotent). stop_signal.cc is built for baseline x86-64, like
// cpu_check.cc: the trainer installs them before its instruction-set check runs.
void install_stop_signal_handlers();

// install_stop_signal_handlers as an ELF .preinit_array entry, which the dynamic loader calls
// with (argc, argv, envp) before the initializers of any shared library.
void install_stop_signal_handlers_at_exec(int argc, char** argv, char** envp);

// Gives SIGUSR1 and SIGTERM back their default action (programs with nothing to save); a stop
// asked for while the handlers were installed is raised again, now with that action.
void restore_default_stop_signals();

// True once SIGUSR1 or SIGTERM arrived in this process.
bool stop_requested();

// The number of the signal that asked to stop (0 when none).
int stop_signal_number();

}  // namespace mlp
