// Main of the MPI test binaries (dist_mpi_tests, launch_mpi_tests), run under mpirun at several
// rank counts: every rank runs every test; rank 0 prints GoogleTest's report, other ranks print
// only their failures; the exit code is agreed, so the job passes or fails as one.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "launch/platform/compute_threads.h"
#include "dist/agreement.h"
#include "tests/support/mpi_test_env.h"

namespace mlp {
namespace {

std::unique_ptr<Communicator> world;

// Failed assertions of a rank other than 0, tagged with the rank (rank 0 has the full report).
class RankFailurePrinter : public testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "rank %d: %s:%d: %s\n", rank_,
                 result.file_name() ? result.file_name() : "?", result.line_number(),
                 result.summary());
  }

 private:
  int rank_;
};

// A test that failed on any rank fails on rank 0 too, so its report names every failure.
class AgreeOnEachTest : public testing::EmptyTestEventListener {
 public:
  void OnTestEnd(const testing::TestInfo& info) override {
    const bool failed_here = info.result()->Failed();
    std::vector<int32_t> failed(world->size());
    const int32_t mine = failed_here ? 1 : 0;
    world->allgather(&mine, sizeof mine, failed.data());
    if (world->rank() != 0 || failed_here) return;
    for (int r = 0; r < world->size(); ++r)
      if (failed[r])
        std::printf("[  FAILED  ] %s.%s on rank %d\n", info.test_suite_name(), info.name(), r);
  }
};

}  // namespace

Communicator& test_world() { return *world; }

}  // namespace mlp

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  // As in the trainer: one rank per core, so a threaded BLAS must not start threads of its own.
  mlp::use_one_compute_thread();
  // A test that leaves a collective unmatched would hang; the watchdog ends it instead.
  mlp::world = mlp::make_communicator(&argc, &argv, 60);
  testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
  if (mlp::world->rank() != 0) {
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new mlp::RankFailurePrinter(mlp::world->rank()));
    // run_training prints progress on the rank that is root of its own world: keep rank 0's.
    std::freopen("/dev/null", "w", stdout);
  }
  listeners.Append(new mlp::AgreeOnEachTest);
  const int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  const bool any_failed = mlp::any_rank(*mlp::world, failed);
  mlp::world.reset();
  return any_failed ? 1 : 0;
}
