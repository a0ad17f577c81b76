// The world communicator of the MPI test binaries (dist_mpi_tests, launch_mpi_tests), opened
// once by their main and shared by every test, which must issue the same collectives in the
// same order on every rank.
#pragma once

#include "dist/communicator.h"

namespace mlp {

Communicator& test_world();

}  // namespace mlp
