// What the tests of the trainer binary around checkpoints share: a small CSV workspace whose
// runs are kept side by side, the run's outputs read back (metrics.csv rows without timings,
// summary.json values), two runs' final states and numbers compared bit for bit, and the
// one-error-line check.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/checkpoint_file.h"
#include "core/record_csv.h"
#include "proto/epoch_metrics.pb.h"
#include "tests/launch/process_run.h"
#include "tests/support/synthetic_data.h"

namespace mlp::resume_test {

using mlp::test::slurp;
using Result = mlp::test::Run;

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

inline std::string test_dir() { return mlp::test::fresh_test_dir("resume"); }

// Runs the trainer with stdout and stderr kept under `dir` as <log>.stdout / <log>.stderr.
inline Result run_trainer(const std::string& dir, const std::string& log, const std::string& args) {
  return mlp::test::run_binary(MLP_TRAINER_PATH, args, dir + "/" + log);
}

// Small data: 540 training rows after the validation split, batch 32, so 17 steps per epoch.
struct Workspace {
  std::string dir, args;
  explicit Workspace(const std::string& flags) : dir(test_dir()) {
    const std::string train =
        mlp::test::write_rows(dir + "/train.csv", mlp::test::blob_rows(600, 20, 1));
    const std::string test =
        mlp::test::write_rows(dir + "/test.csv", mlp::test::blob_rows(150, 20, 2));
    args = "--train-csv " + train + " --test-csv " + test + " --batch-size 32 --progress none " +
           flags;
  }
  Result train(const std::string& run, const std::string& more = "") const {
    return run_trainer(dir, run, args + " --out " + dir + "/" + run + " " + more);
  }
  std::vector<std::string> checkpoints(const std::string& run) const {
    return list_checkpoints(dir + "/" + run + "/checkpoints");
  }
};

// Every 7 steps, so most checkpoints fall inside an epoch; none pruned.
inline const std::string kManyCheckpoints = " --checkpoint-every-steps 7 --keep-last 100 ";

inline void expect_one_error_line(const Result& r, int code, const std::string& text) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(r.err.rfind("trainer: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// The metrics.csv rows without the timing columns (samples_per_second, epoch_seconds).
inline std::vector<std::string> metrics_rows(const std::string& run) {
  std::vector<std::string> rows;
  for (pb::EpochMetrics m : read_csv_records<pb::EpochMetrics>(run + "/metrics.csv")) {
    m.clear_samples_per_second();
    m.clear_epoch_seconds();
    rows.push_back(csv_row(m, 6));
  }
  return rows;
}

// The value text of "key" in summary.json.
inline std::string summary_value(const std::string& run, const std::string& key) {
  const std::string summary = slurp(run + "/summary.json");
  const size_t at = summary.find("\"" + key + "\": ");
  if (at == std::string::npos) return "missing";
  const size_t begin = at + key.size() + 4;
  return summary.substr(begin, summary.find_first_of(",\n}", begin) - begin);
}

// Everything that decides the rest of the trajectory, compared bit for bit; timings and
// provenance may differ.
inline void expect_same_training_state(const pb::Checkpoint& a, const pb::Checkpoint& b) {
  EXPECT_EQ(a.global_step(), b.global_step());
  EXPECT_EQ(a.epoch(), b.epoch());
  EXPECT_EQ(a.step_in_epoch(), b.step_in_epoch());
  EXPECT_EQ(a.samples_consumed(), b.samples_consumed());
  // EXPECT_TRUE, not EXPECT_EQ: a failure should not print kilobytes of float bytes.
  EXPECT_TRUE(a.params() == b.params()) << "parameters differ";
  EXPECT_EQ(a.optimizer().step_count(), b.optimizer().step_count());
  ASSERT_EQ(a.optimizer().slots_size(), b.optimizer().slots_size());
  for (int i = 0; i < a.optimizer().slots_size(); ++i)
    EXPECT_TRUE(a.optimizer().slots(i) == b.optimizer().slots(i))
        << "optimizer " << a.optimizer().slot_names(i);
  const pb::EarlyStoppingState &ea = a.early_stopping(), &eb = b.early_stopping();
  EXPECT_EQ(ea.best_epoch(), eb.best_epoch());
  EXPECT_EQ(ea.wait(), eb.wait());
  EXPECT_EQ(ea.best_value(), eb.best_value());
  EXPECT_TRUE(ea.best_params() == eb.best_params()) << "best parameters differ";
  ASSERT_EQ(a.history_size(), b.history_size());
  for (int i = 0; i < a.history_size(); ++i) {
    pb::EpochMetrics ra = a.history(i), rb = b.history(i);
    for (pb::EpochMetrics* r : {&ra, &rb}) {
      r->clear_samples_per_second();
      r->clear_epoch_seconds();
    }
    EXPECT_TRUE(ra.SerializeAsString() == rb.SerializeAsString())
        << ra.ShortDebugString() << " vs " << rb.ShortDebugString();
  }
}

// Both runs end in the same state and report the same numbers.
inline void expect_same_run(const Workspace& w, const std::string& a, const std::string& b) {
  const std::vector<std::string> ca = w.checkpoints(a), cb = w.checkpoints(b);
  ASSERT_FALSE(ca.empty());
  ASSERT_FALSE(cb.empty());
  EXPECT_EQ(std::filesystem::path(ca.back()).filename(),
            std::filesystem::path(cb.back()).filename());
  expect_same_training_state(read_checkpoint(ca.back()), read_checkpoint(cb.back()));
  EXPECT_EQ(metrics_rows(w.dir + "/" + a), metrics_rows(w.dir + "/" + b));
  for (const char* key : {"test_loss", "test_acc", "epochs_run", "global_steps", "best_epoch",
                          "stopped_epoch", "restored_best"})
    EXPECT_EQ(summary_value(w.dir + "/" + a, key), summary_value(w.dir + "/" + b, key)) << key;
}

}  // namespace mlp::resume_test
