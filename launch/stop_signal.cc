// Async-signal-safe stop flag; see stop_signal.h.
#include "launch/stop_signal.h"

#include <csignal>

namespace mlp {
namespace {

volatile std::sig_atomic_t stop_signal = 0;

extern "C" void on_stop_signal(int signal_number) { stop_signal = signal_number; }

}  // namespace

void install_stop_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  // Restart interrupted system calls so file and MPI I/O are not cut short by the signal.
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() { return stop_signal != 0; }

int stop_signal_number() { return stop_signal; }

}  // namespace mlp
