// The start and resume events of a run under mpirun list every rank, in rank order, with its host
// name, CPU model and the matrix-product backend the run chose; each rank finds its own host and
// CPU in its entry.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/config_fields.h"
#include "launch/platform/host_info.h"
#include "launch/train/train_loop.h"
#include "launch/train/trainer_options.h"
#include "tests/launch/run_records.h"
#include "tests/support/mpi_test_env.h"
#include "tests/support/synthetic_data.h"

namespace mlp {
namespace {

const std::string kDir = testing::TempDir() + "rank_hosts_mpi";

pb::TrainConfig config(int epochs, const std::string& resume) {
  pb::TrainConfig c;
  c.mutable_data()->set_train_csv(kDir + "/train.csv");
  c.mutable_model()->set_hidden("16");
  c.set_batch_size(32);
  c.set_epochs(epochs);
  c.set_resume(resume);
  c.set_out_dir(kDir + "/run");
  c.set_progress(pb::NONE);
  fill_defaults(&c);
  validate_config(c);
  return c;
}

// The events of rank 0's events.jsonl named `name`.
std::vector<pb::Event> events_named(const std::string& name) {
  std::vector<pb::Event> found;
  for (const pb::Event& e : test::read_events(kDir + "/run"))
    if (e.event() == name) found.push_back(e);
  return found;
}

void expect_every_rank_listed(const pb::Event& event, const std::string& backend) {
  const Communicator& world = test_world();
  ASSERT_EQ(event.ranks_size(), world.size()) << event.DebugString();
  EXPECT_FALSE(backend.empty());
  EXPECT_EQ(event.gemm_backend(), backend);
  for (int r = 0; r < world.size(); ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    const pb::RankHost& entry = event.ranks(r);
    EXPECT_EQ(entry.rank(), r);
    EXPECT_FALSE(entry.host().empty());
    EXPECT_FALSE(entry.cpu().empty());
    EXPECT_NE(entry.cpu(), "unknown");
    EXPECT_EQ(entry.gemm_backend(), backend);
  }
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const pb::RankHost& mine = event.ranks(world.rank());
  EXPECT_EQ(mine.host(), host);
  EXPECT_EQ(mine.cpu(), cpu_model_name());
}

TEST(RankHosts, StartAndResumeEventsListEveryRank) {
  if (test_world().rank() == 0) {
    std::filesystem::remove_all(kDir);
    std::filesystem::create_directories(kDir);
    test::write_rows(kDir + "/train.csv", test::blob_rows(300, 6, 1));
  }
  test_world().barrier();
  run_training(config(1, ""), test_world());
  run_training(config(2, "auto"), test_world());
  test_world().barrier();  // rank 0 has written every event
  // The backend --gemm auto chose, as the summary reports it.
  const std::string backend = test::read_summary(kDir + "/run").gemm_backend();
  const std::vector<pb::Event> starts = events_named("start"), resumes = events_named("resume");
  ASSERT_EQ(starts.size(), 1u);
  ASSERT_EQ(resumes.size(), 1u);
  {
    SCOPED_TRACE("start");
    expect_every_rank_listed(starts[0], backend);
  }
  {
    SCOPED_TRACE("resume");
    expect_every_rank_listed(resumes[0], backend);
  }
  test_world().barrier();  // no rank removes the folder while another reads it
}

}  // namespace
}  // namespace mlp
