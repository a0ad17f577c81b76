// SIGUSR1 and SIGTERM (what SLURM and mpirun send before a job is ended) ask the run to stop:
// the handler only sets a flag; the training loop agrees on it across ranks at the next step
// boundary, writes a checkpoint and exits with code 75.
#pragma once

namespace mlp {

// Installs the handlers (idempotent).
void install_stop_signal_handlers();

// True once SIGUSR1 or SIGTERM arrived in this process.
bool stop_requested();

// The number of the signal that asked to stop (0 when none).
int stop_signal_number();

}  // namespace mlp
