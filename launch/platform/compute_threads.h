// One compute thread per process: ranks are laid out one per core, and the product libraries
// bring their own threads (OpenBLAS's pthreads pool, started when it is loaded, and the OpenMP
// team oneDNN runs in), which would otherwise put several threads of every rank on each core.
#pragma once

namespace mlp {

// Call once at start-up, before the first matrix product: limits OpenMP and OpenBLAS to one
// thread and stops the worker threads OpenBLAS started when it was loaded. Environment variables
// are not needed (OpenBLAS reads its own only when it is loaded, too late for the program).
void use_one_compute_thread();

// Threads of this process now (the entries of /proc/self/task); -1 when that cannot be read.
int process_thread_count();

}  // namespace mlp
