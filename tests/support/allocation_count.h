// Counting a test binary's allocations through operator new, for tests of code that must allocate
// nothing in a loop (the training step). Linking allocation_count.cc replaces the global
// operator new and delete of the whole binary; the count only grows.
#pragma once

#include <cstdint>

namespace mlp::test {

// Calls of operator new so far in this process, from any thread, of any form (plain, array,
// aligned). Allocations made with malloc (Eigen's buffers, the MPI library's) are not counted.
int64_t allocation_count();

}  // namespace mlp::test
