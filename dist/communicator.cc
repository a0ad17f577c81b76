// The local and Open MPI communicators, and the stall watchdog that turns a hung collective
// into an exit with a message instead of a job that never ends.
#include "dist/communicator.h"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include "core/errors.h"
#include "dist/finite.h"
#include "dist/mpi_host_shared.h"

namespace mlp {
namespace {

class LocalCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum(float*, size_t) override {}
  void allreduce_sum(double*, size_t) override {}
  void allreduce_max(int64_t*, size_t) override {}
  void broadcast(void*, size_t, int) override {}
  void allgather(const void* in, size_t bytes, void* out) override { std::memcpy(out, in, bytes); }
  void barrier() override {}
  // One rank: the sum is its own values, all of them read here.
  SumCheck reduce_scatter_sum(float* data, const std::vector<size_t>& counts) override {
    const bool finite = all_finite(data, counts.empty() ? 0 : counts[0]);
    return {finite, finite};
  }
  void allgather_in_place(float*, const std::vector<size_t>&) override {}
  void allreduce_sum(int64_t*, size_t) override {}
  void reduce_scatter_sum(int64_t*, const std::vector<size_t>& counts,
                          const std::function<void(size_t, size_t)>& on_final) override {
    if (!counts.empty() && counts[0] > 0) on_final(0, counts[0]);
  }
  void start_allreduce_sum(float*, size_t) override {}
  void wait_all() override {}
  bool test_all() override { return true; }
  void set_activity(Activity) override {}
  [[noreturn]] void abort(int code) override { std::exit(code); }
};

// Watches one "collective in progress" window at a time. The training thread marks entry and
// exit; this thread sleeps on a condition variable and only wakes to check deadlines.
class StallWatchdog {
 public:
  StallWatchdog(int rank, double timeout_seconds)
      : rank_(rank), timeout_(std::chrono::duration<double>(timeout_seconds)) {
    thread_ = std::thread([this] { watch(); });
  }
  ~StallWatchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  void enter(const char* call) {
    std::lock_guard<std::mutex> lock(mutex_);
    call_ = call;
    since_ = std::chrono::steady_clock::now();
    busy_ = true;
    wake_.notify_all();
  }
  void leave() {
    std::lock_guard<std::mutex> lock(mutex_);
    busy_ = false;
  }
  void set_activity(Activity activity) {
    std::lock_guard<std::mutex> lock(mutex_);
    activity_ = activity;
  }

 private:
  void watch() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      if (!busy_) {
        wake_.wait(lock);
        continue;
      }
      const auto deadline =
          since_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout_);
      if (std::chrono::steady_clock::now() >= deadline) {
        // The step goes into the message only here, when it is printed.
        char step[32] = "";
        if (activity_.step >= 0)
          std::snprintf(step, sizeof step, " at step %lld", static_cast<long long>(activity_.step));
        std::fprintf(stderr,
                     "trainer: error: rank %d waited %.0f s in %s (%s%s): another rank died or "
                     "stalled; raise --stall-timeout if steps are legitimately this slow\n",
                     rank_, timeout_.count(), call_, activity_.what, step);
        std::fflush(stderr);
        std::_Exit(static_cast<int>(ExitCode::kRankFailure));
      }
      wake_.wait_until(lock, deadline);
    }
  }

  int rank_;
  std::chrono::duration<double> timeout_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool busy_ = false;
  const char* call_ = "";
  Activity activity_{"starting up"};
  std::chrono::steady_clock::time_point since_;
  std::thread thread_;
};

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator(int* argc, char*** argv, double stall_timeout_seconds) {
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    // Failures come back as codes and become exceptions naming the rank and the call.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    if (stall_timeout_seconds > 0)
      watchdog_ = std::make_unique<StallWatchdog>(rank_, stall_timeout_seconds);
    one_host_ = world_on_one_host();
  }
  ~MpiCommunicator() override {
    watchdog_.reset();
    MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void allreduce_sum(float* data, size_t n) override {
    Guard g(this, "MPI_Allreduce");
    check(MPI_Allreduce(MPI_IN_PLACE, data, count(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }
  void allreduce_sum(double* data, size_t n) override {
    Guard g(this, "MPI_Allreduce");
    check(MPI_Allreduce(MPI_IN_PLACE, data, count(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }
  void allreduce_max(int64_t* data, size_t n) override {
    Guard g(this, "MPI_Allreduce");
    check(MPI_Allreduce(MPI_IN_PLACE, data, count(n), MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }
  void broadcast(void* data, size_t bytes, int root) override {
    Guard g(this, "MPI_Bcast");
    check(MPI_Bcast(data, count(bytes), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
  }
  void allgather(const void* in, size_t bytes, void* out) override {
    Guard g(this, "MPI_Allgather");
    check(MPI_Allgather(in, count(bytes), MPI_BYTE, out, count(bytes), MPI_BYTE, MPI_COMM_WORLD),
          "MPI_Allgather");
  }
  void barrier() override {
    Guard g(this, "MPI_Barrier");
    check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
  }
  // Rings of MPI_Sendrecv: in each of the size - 1 steps a rank sends one slice to the next rank
  // and receives one from the previous, so every rank moves (size - 1) / size of the buffer and
  // adds only the slices it passes on. In experiments/bench_dist.sh (2 ranks, 7.45 MB) Open MPI
  // 4.1's own MPI_Reduce_scatter and MPI_Allgatherv exposed 3.3 ms per step, these rings 2.4.
  SumCheck reduce_scatter_sum(float* data, const std::vector<size_t>& counts) override {
    check_counts(counts);
    const Slices slices(counts);
    Guard g(this, "MPI_Sendrecv (reduce-scatter)");
    // The adds read every partial sum and this rank's values of every slice but the one it
    // sends first; the largest exponents they see say whether any was infinite or NaN.
    uint32_t largest_sum = 0, largest_own = 0;
    // Step k sends the partial sum of slice rank - k - 1 and receives that of slice rank - k - 2,
    // which this rank adds to its own values there, in place; the last step's slice is this
    // rank's own. A slice goes in pieces of at most kRingPiece values, so the only buffer is
    // one piece; every rank cuts the same number of pieces (those of the largest slice), some
    // of them empty, so that the calls pair up.
    ring_piece_.resize(kRingPiece);
    const int pieces = (slices.largest() + kRingPiece - 1) / kRingPiece;
    for (int k = 0; k + 1 < size_; ++k) {
      const int send_slice = rank_ - k - 1, receive_slice = rank_ - k - 2;
      for (int p = 0; p < pieces; ++p) {
        const int send_count = piece_count(slices.count(send_slice), p);
        const int receive_count = piece_count(slices.count(receive_slice), p);
        const size_t piece_offset = static_cast<size_t>(p) * kRingPiece;
        check(MPI_Sendrecv(data + slices.offset(send_slice) + piece_offset, send_count, MPI_FLOAT,
                           next(), kRingTag, ring_piece_.data(), receive_count, MPI_FLOAT,
                           previous(), kRingTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
              "MPI_Sendrecv");
        float* sum = data + slices.offset(receive_slice) + piece_offset;
        const float* received = ring_piece_.data();
        for (int i = 0; i < receive_count; ++i) {
          largest_own = std::max(largest_own, exponent_bits(sum[i]));
          sum[i] = received[i] + sum[i];
          largest_sum = std::max(largest_sum, exponent_bits(sum[i]));
        }
      }
    }
    // Alone, the ring has no step: the sum is this rank's own values, read here.
    if (size_ == 1) return LocalCommunicator().reduce_scatter_sum(data, counts);
    SumCheck check{exponents_finite(largest_sum), exponents_finite(largest_own)};
    check.unread_begin = slices.offset(rank_ - 1);
    check.unread_end = check.unread_begin + static_cast<size_t>(slices.count(rank_ - 1));
    return check;
  }
  void allgather_in_place(float* data, const std::vector<size_t>& counts) override {
    check_counts(counts);
    const Slices slices(counts);
    Guard g(this, "MPI_Sendrecv (allgather)");
    // Step k passes on slice rank - k, received in the step before (this rank's own first).
    for (int k = 0; k + 1 < size_; ++k) {
      const int send_slice = rank_ - k, receive_slice = rank_ - k - 1;
      check(MPI_Sendrecv(data + slices.offset(send_slice), slices.count(send_slice), MPI_FLOAT,
                         next(), kRingTag, data + slices.offset(receive_slice),
                         slices.count(receive_slice), MPI_FLOAT, previous(), kRingTag,
                         MPI_COMM_WORLD, MPI_STATUS_IGNORE),
            "MPI_Sendrecv");
    }
  }

  void allreduce_sum(int64_t* data, size_t n) override {
    Guard g(this, "MPI_Allreduce");
    check(MPI_Allreduce(MPI_IN_PLACE, data, count(n), MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }
  // The ring of the float reduce-scatter, in pieces the same way, with integer adds; the last
  // step's adds complete this rank's slice piece by piece, and each piece goes to on_final.
  void reduce_scatter_sum(int64_t* data, const std::vector<size_t>& counts,
                          const std::function<void(size_t, size_t)>& on_final) override {
    check_counts(counts);
    const Slices slices(counts);
    Guard g(this, "MPI_Sendrecv (exact reduce-scatter)");
    if (size_ == 1) {
      if (counts[0] > 0) on_final(0, counts[0]);
      return;
    }
    exact_piece_.resize(kRingPiece);
    const int pieces = (slices.largest() + kRingPiece - 1) / kRingPiece;
    for (int k = 0; k + 1 < size_; ++k) {
      const int send_slice = rank_ - k - 1, receive_slice = rank_ - k - 2;
      const bool own = k + 2 == size_;
      for (int p = 0; p < pieces; ++p) {
        const int send_count = piece_count(slices.count(send_slice), p);
        const int receive_count = piece_count(slices.count(receive_slice), p);
        const size_t piece_offset = static_cast<size_t>(p) * kRingPiece;
        check(MPI_Sendrecv(data + slices.offset(send_slice) + piece_offset, send_count, MPI_INT64_T,
                           next(), kRingTag, exact_piece_.data(), receive_count, MPI_INT64_T,
                           previous(), kRingTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
              "MPI_Sendrecv");
        const size_t begin = slices.offset(receive_slice) + piece_offset;
        int64_t* sum = data + begin;
        const int64_t* received = exact_piece_.data();
        for (int i = 0; i < receive_count; ++i) sum[i] += received[i];
        if (own && receive_count > 0) on_final(begin, begin + static_cast<size_t>(receive_count));
      }
    }
  }

  void start_allreduce_sum(float* data, size_t n) override {
    MPI_Request request;
    check(
        MPI_Iallreduce(MPI_IN_PLACE, data, count(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request),
        "MPI_Iallreduce");
    requests_.push_back(request);
  }
  void wait_all() override {
    if (requests_.empty()) return;
    Guard g(this, "MPI_Waitall");
    check(MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE),
          "MPI_Waitall");
    requests_.clear();
  }
  bool test_all() override {
    if (requests_.empty()) return true;
    int done = 0;
    check(MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &done,
                      MPI_STATUSES_IGNORE),
          "MPI_Testall");
    // Completed requests become MPI_REQUEST_NULL, which later Testall and Waitall calls skip.
    if (done) requests_.clear();
    return done != 0;
  }
  std::unique_ptr<HostSharedFloats> share_on_host(size_t count) override;
  void set_activity(Activity activity) override {
    if (watchdog_) watchdog_->set_activity(activity);
  }
  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  struct Guard {
    Guard(MpiCommunicator* c, const char* call) : c_(c) {
      if (c_->watchdog_) c_->watchdog_->enter(call);
    }
    ~Guard() {
      if (c_->watchdog_) c_->watchdog_->leave();
    }
    MpiCommunicator* c_;
  };

  int count(size_t n) const {
    if (n > static_cast<size_t>(INT32_MAX))
      throw Error(ExitCode::kRankFailure,
                  "a collective of " + std::to_string(n) + " elements exceeds MPI's int count");
    return static_cast<int>(n);
  }
  // Slice r of a buffer cut by per-rank counts (checked by check_counts); slice numbers wrap
  // around the ring. A view of the counts that allocates nothing, as the sharded gradient sync
  // runs a reduce-scatter and an allgather every step.
  class Slices {
   public:
    explicit Slices(const std::vector<size_t>& counts) : counts_(counts) {}
    int count(int slice) const { return static_cast<int>(counts_[index(slice)]); }
    size_t offset(int slice) const {
      size_t begin = 0;
      for (size_t r = 0; r < index(slice); ++r) begin += counts_[r];
      return begin;
    }
    int largest() const {
      return static_cast<int>(*std::max_element(counts_.begin(), counts_.end()));
    }

   private:
    size_t index(int slice) const {
      const int n = static_cast<int>(counts_.size());
      return static_cast<size_t>((slice % n + n) % n);
    }
    const std::vector<size_t>& counts_;
  };
  // The values of piece p of a slice of `count` values.
  static int piece_count(int count, int p) {
    return std::max(0, std::min(kRingPiece, count - p * kRingPiece));
  }
  int next() const { return (rank_ + 1) % size_; }
  int previous() const { return (rank_ + size_ - 1) % size_; }

  // One count per rank, each an MPI int, and their sum too, as it is an offset.
  void check_counts(const std::vector<size_t>& counts) const {
    if (counts.size() != static_cast<size_t>(size_))
      throw std::logic_error("a split collective needs one count per rank");
    size_t total = 0;
    for (size_t n : counts) total += n;
    count(total);
  }
  void check(int code, const char* call) const {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw Error(ExitCode::kRankFailure, "rank " + std::to_string(rank_) + ": " + call +
                                            " failed: " + std::string(text, length));
  }

  int rank_ = 0;
  int size_ = 1;
  std::vector<MPI_Request> requests_;
  static constexpr int kRingTag = 7;
  static constexpr int kRingPiece = 1 << 16;  // values: 256 KB, well inside L2
  std::vector<float> ring_piece_;             // one piece of a reduce-scatter in flight
  std::vector<int64_t> exact_piece_;          // the same for the integer reduce-scatter
  std::unique_ptr<StallWatchdog> watchdog_;
  bool one_host_ = false;  // every rank runs on this host
};

std::unique_ptr<HostSharedFloats> MpiCommunicator::share_on_host(size_t count) {
  if (!one_host_ || size_ == 1) return nullptr;
  return make_mpi_host_shared(*this, count);
}

}  // namespace

bool launched_by_mpirun() { return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr; }

std::unique_ptr<Communicator> make_local_communicator() {
  return std::make_unique<LocalCommunicator>();
}

std::unique_ptr<Communicator> make_communicator(int* argc, char*** argv,
                                                double stall_timeout_seconds) {
  if (!launched_by_mpirun()) return make_local_communicator();
  return std::make_unique<MpiCommunicator>(argc, argv, stall_timeout_seconds);
}

}  // namespace mlp
