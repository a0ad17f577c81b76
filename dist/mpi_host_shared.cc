// The MPI shared-memory window behind HostSharedFloats; see mpi_host_shared.h.
#include "dist/mpi_host_shared.h"

#include <mpi.h>

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "core/errors.h"

namespace mlp {
namespace {

// An MPI shared-memory window of one segment a rank, each on its own pages (the info key
// alloc_shared_noncontig), open for the window's life in a passive epoch so that MPI_Win_sync
// orders a rank's loads and stores around the barrier of fence().
class MpiHostShared : public HostSharedFloats {
 public:
  MpiHostShared(Communicator& comm, size_t count) : comm_(comm) {
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true");
    // MPI gives a segment that may start anywhere in its page; the extra floats let every rank
    // start at the next 64-byte boundary (the same offset in each segment, which begins at the
    // same place of a page in every process), aligned like the store's own buffers.
    float* base = nullptr;
    const int code = MPI_Win_allocate_shared(
        static_cast<MPI_Aint>((count + kAlignFloats) * sizeof(float)), sizeof(float), info,
        MPI_COMM_WORLD, &base, &window_);
    MPI_Info_free(&info);
    if (code != MPI_SUCCESS)
      throw Error(ExitCode::kRankFailure,
                  "rank " + std::to_string(comm.rank()) + ": MPI_Win_allocate_shared failed");
    MPI_Win_lock_all(MPI_MODE_NOCHECK, window_);
    mine_ = aligned(base);
    peers_.resize(static_cast<size_t>(comm.size()));
    for (int r = 0; r < comm.size(); ++r) {
      MPI_Aint bytes = 0;
      int unit = 0;
      float* peer = nullptr;
      MPI_Win_shared_query(window_, r, &bytes, &unit, &peer);
      peers_[static_cast<size_t>(r)] = aligned(peer);
    }
  }
  ~MpiHostShared() override {
    MPI_Win_unlock_all(window_);
    if (std::uncaught_exceptions() == 0) MPI_Win_free(&window_);
  }
  float* mine() override { return mine_; }
  const float* of(int rank) const override { return peers_[static_cast<size_t>(rank)]; }
  void fence() override {
    MPI_Win_sync(window_);
    comm_.barrier();
    MPI_Win_sync(window_);
  }

 private:
  static constexpr size_t kAlignFloats = 64 / sizeof(float);
  static float* aligned(float* p) {
    const auto address = reinterpret_cast<uintptr_t>(p);
    return reinterpret_cast<float*>((address + 63) / 64 * 64);
  }

  Communicator& comm_;
  MPI_Win window_ = MPI_WIN_NULL;
  float* mine_ = nullptr;
  std::vector<float*> peers_;
};

}  // namespace

bool world_on_one_host() {
  int rank = 0, size = 0, host_size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm host;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &host);
  MPI_Comm_size(host, &host_size);
  MPI_Comm_free(&host);
  return host_size == size;
}

std::unique_ptr<HostSharedFloats> make_mpi_host_shared(Communicator& comm, size_t count) {
  return std::make_unique<MpiHostShared>(comm, count);
}

}  // namespace mlp
