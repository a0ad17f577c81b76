// Start-up check that this CPU has every instruction set the build was compiled for (from the
// compiler's predefined macros, captured at configure time: cmake/cpu_features.cmake). A binary
// built with -march=native on one node and started on an older one would otherwise die with
// SIGILL and no message. This file is compiled for baseline x86-64, and its constructor runs
// before the C++ static initializers of the program, so before any code built for the newer sets
// and before MPI starts; it ends the process with one line and exit code 2 (usage error).
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace {

[[noreturn]] void missing(const char* feature) {
  std::fprintf(stderr,
               "%s: error: this CPU lacks %s, an instruction set this build was compiled for; "
               "rebuild on this host, or for all nodes of a mixed cluster with -DMLP_NATIVE=OFF "
               "or -DMLP_ARCH=<the oldest node's CPU>\n",
               program_invocation_short_name, feature);
  std::fflush(stderr);
  _exit(2);
}

// Priority 101: before every constructor and static initializer of default priority.
__attribute__((constructor(101))) void check_cpu_features() {
#if defined(__x86_64__)
  __builtin_cpu_init();
#define MLP_REQUIRE_FEATURE(name) \
  if (!__builtin_cpu_supports(name)) missing(name);
#include MLP_CPU_FEATURES
#undef MLP_REQUIRE_FEATURE
#endif
}

}  // namespace
