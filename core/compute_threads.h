// One compute thread per process: ranks are laid out one per core, and OpenBLAS (Debian's
// default build is threaded) would otherwise start a thread per core in every rank.
#pragma once

namespace mlp {

// Call once at start-up, before the first matrix product.
void use_one_compute_thread();

}  // namespace mlp
