// Memory every rank of a world on one host maps (HostSharedFloats), as an MPI shared-memory
// window; used by the MPI communicator's share_on_host.
#pragma once

#include <cstddef>
#include <memory>

#include "dist/communicator.h"

namespace mlp {

// Collective: whether every rank of MPI_COMM_WORLD shares this host's memory (else the world spans
// hosts).
bool world_on_one_host();

// Collective over MPI_COMM_WORLD, whose ranks must all run on this host: `count` floats a rank,
// 64-byte aligned. Throws Error (kRankFailure) when MPI cannot allocate them.
std::unique_ptr<HostSharedFloats> make_mpi_host_shared(Communicator& comm, size_t count);

}  // namespace mlp
