// The collectives the trainer uses, behind one interface with an Open MPI implementation and a
// local (world size 1) one, so the training loop is the same code alone and under mpirun.
// Every rank must issue the same collectives in the same order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace mlp {

// What a rank is doing, for the stall watchdog's message: a fixed description and, when there is
// one, the step ("gradient sync at step 12"). Setting it allocates nothing, so it can name every
// step: `what` is kept as a pointer and must be a string literal.
struct Activity {
  const char* what = "";
  int64_t step = -1;  // none when negative
};

// Memory that every rank of a world on one host maps: each rank's own floats, and every other
// rank's readable at of(rank). What a rank wrote before a fence() is what the others read after it.
class HostSharedFloats {
 public:
  virtual ~HostSharedFloats() = default;
  virtual float* mine() = 0;
  virtual const float* of(int rank) const = 0;
  // Collective: a barrier that also orders the ranks' writes to the memory before their reads.
  virtual void fence() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // In place: data[i] becomes the sum over ranks of data[i].
  virtual void allreduce_sum(float* data, size_t n) = 0;
  virtual void allreduce_sum(double* data, size_t n) = 0;
  // In place: data[i] becomes the maximum over ranks.
  virtual void allreduce_max(int64_t* data, size_t n) = 0;
  // Root's `bytes` bytes at data are copied to every rank.
  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  // out receives size() * bytes: rank r's `bytes` bytes of `in` at offset r * bytes.
  virtual void allgather(const void* in, size_t bytes, void* out) = 0;
  virtual void barrier() = 0;
  // In place, split by rank: afterwards rank r's data[offset_r, offset_r + counts[r]) holds the
  // sum over ranks of that range, where offset_r is the sum of the counts before r; the rest of
  // data is left unspecified. data holds the sum of the counts. Whether values were finite comes
  // from the passes that add them (see SumCheck), so a caller needs no pass of its own.
  struct SumCheck {
    bool sums_finite = true;  // every sum this rank formed, its own slice's included
    bool own_finite = true;   // every value of this rank's that went into a sum it formed
    // This rank's values that went to another rank unread (slice rank - 1 with several ranks):
    // own_finite says nothing of them.
    size_t unread_begin = 0, unread_end = 0;
  };
  virtual SumCheck reduce_scatter_sum(float* data, const std::vector<size_t>& counts) = 0;
  // In place: each rank's data[offset_r, offset_r + counts[r]) (as above) is copied to every rank.
  virtual void allgather_in_place(float* data, const std::vector<size_t>& counts) = 0;

  // Integer sums for the exact mode (dist/exact_sum.h): exact, so any order of adds gives them.
  // In place: data[i] becomes the sum over ranks.
  virtual void allreduce_sum(int64_t* data, size_t n) = 0;
  // In place, split by rank as reduce_scatter_sum of floats: rank r's slice becomes the sum over
  // ranks. on_final(begin, end) is called for consecutive pieces of this rank's slice (offsets
  // into data) as each piece's sum completes, so the caller reads it while it is in cache.
  virtual void reduce_scatter_sum(int64_t* data, const std::vector<size_t>& counts,
                                  const std::function<void(size_t, size_t)>& on_final) = 0;

  // Non-blocking sum in place; the buffer must not be touched until wait_all() returns.
  // Requests complete in the order they were started on every rank.
  virtual void start_allreduce_sum(float* data, size_t n) = 0;
  virtual void wait_all() = 0;
  // Lets started requests advance (Open MPI moves a non-blocking collective forward only inside
  // MPI calls) without waiting; true when all of them have completed.
  virtual bool test_all() = 0;

  // `count` floats a rank, 64-byte aligned, that every rank can read (HostSharedFloats), when
  // every rank of a world of several runs on this host; null otherwise. Collective. The memory
  // lives as long as the object, whose destruction is collective too, except while an exception
  // unwinds (the job is ending then, and MPI's end frees it).
  virtual std::unique_ptr<HostSharedFloats> share_on_host(size_t count) {
    (void)count;
    return nullptr;
  }

  // What this rank is doing from now on, for the stall watchdog's message. Cheap: called around
  // every collective.
  virtual void set_activity(Activity activity) = 0;

  // Ends every rank of the job now with `code` (after a failure only this rank saw, where the
  // others would otherwise wait in their next collective).
  [[noreturn]] virtual void abort(int code) = 0;
};

// Under mpirun (Open MPI's environment names a world size): an MPI communicator, initialized
// once and finalized at destruction. Otherwise a local one, and MPI is not touched.
// stall_timeout_seconds > 0 arms a watchdog: a collective that has not completed after that
// long ends the process with exit code 6 and a message naming the rank and its activity.
std::unique_ptr<Communicator> make_communicator(int* argc, char*** argv,
                                                double stall_timeout_seconds);

// A world of one rank, whatever the environment: for single-process reference runs.
std::unique_ptr<Communicator> make_local_communicator();

// True when Open MPI's launcher started this process (OMPI_COMM_WORLD_SIZE is set).
bool launched_by_mpirun();

}  // namespace mlp
