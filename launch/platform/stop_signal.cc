// Async-signal-safe stop flag; see stop_signal.h.
#include "launch/platform/stop_signal.h"

#include <csignal>

namespace mlp {
namespace {

volatile std::sig_atomic_t stop_signal = 0;

extern "C" void on_stop_signal(int signal_number) { stop_signal = signal_number; }

void set_stop_action(void (*handler)(int), int flags) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = flags;
  sigaction(SIGUSR1, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace

// Restart interrupted system calls so file and MPI I/O are not cut short by the signal.
void install_stop_signal_handlers() { set_stop_action(on_stop_signal, SA_RESTART); }

void install_stop_signal_handlers_at_exec(int, char**, char**) { install_stop_signal_handlers(); }

void restore_default_stop_signals() {
  set_stop_action(SIG_DFL, 0);
  if (stop_signal != 0) std::raise(stop_signal);
}

bool stop_requested() { return stop_signal != 0; }

int stop_signal_number() { return stop_signal; }

}  // namespace mlp
