// Fuzzes resuming as the trainer does it: a checkpoint file read (size, frame, CRC, parse) and
// checked field by field against a run set up from a fixed config and data set (data loaded,
// model built, optimizer made, as in launch/train/train_loop.cc), then restored into them. A
// checkpoint that is accepted must be written by the trainer's own writer and resume again to
// the same state, and its position, history and early-stopping state must be ones the training
// loop can use.
//
// The seeds (corpus/checkpoint_resume) are checkpoints of this run, written by
//   trainer <kFlags> --out DIR --epochs 4 --checkpoint-every-steps 3 --keep-last 100
// each as the file (first byte 1) and as its payload (first byte 0; fuzz_input.h).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/checkpoint_file.h"
#include "core/errors.h"
#include "launch/train/early_stop_policy.h"
#include "launch/train/run_setup.h"
#include "launch/train/run_state.h"
#include "launch/train/trainer_options.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

const char* const kFlags[] = {
    "trainer", "--train-csv", MLP_FUZZ_DATA_DIR "/resume_train.csv", "--data-cache", "off",
    "--hidden", "6,5", "--optimizer", "adam", "--batch-size", "16", "--val-fraction", "0.25",
    "--early-stopping-patience", "3", "--restore-best", "true", "--seed", "11"};

struct Run {
  mlp::pb::TrainConfig config;
  mlp::TrainingData data;
  uint64_t fingerprint = 0;
  std::unique_ptr<mlp::Model<float>> model;
  std::unique_ptr<mlp::Optimizer> optimizer;
  std::unique_ptr<mlp::BatchPlan> plan;
  std::string dir;  // where accepted checkpoints are written again; removed at exit

  mlp::RunIdentity identity() const { return {config, *plan, fingerprint, 1, "", nullptr}; }
};

Run& fixed_run() {
  static Run* run = [] {
    auto* r = new Run;
    r->config = mlp::parse_trainer_args(std::size(kFlags), kFlags).config;
    const std::unique_ptr<mlp::Communicator> comm = mlp::make_local_communicator();
    r->fingerprint = mlp::load_agreed_data(*comm, &r->config, &r->data);
    r->model = mlp::build_agreed_model(*comm, r->config);
    r->optimizer = mlp::make_optimizer(r->config.optimizer(), r->model->store().layout());
    r->plan = std::make_unique<mlp::BatchPlan>(r->data.train.size(), r->config.batch_size(),
                                               r->config.seed());
    char dir[] = "/tmp/checkpoint_resume_fuzz.XXXXXX";
    if (::mkdtemp(dir) == nullptr) std::abort();
    r->dir = dir;
    std::atexit([] { std::filesystem::remove_all(fixed_run().dir); });
    return r;
  }();
  return *run;
}

[[noreturn]] void accepted_badly(const char* what) {
  std::fprintf(stderr, "an accepted checkpoint %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Run& run = fixed_run();
  const std::string file = mlp::fuzz::file_of_records(data, size, false);
  const std::string path =
      mlp::fuzz::as_file(reinterpret_cast<const uint8_t*>(file.data()), file.size());
  mlp::ParamStore<float>& store = run.model->store();
  mlp::RunState state;
  try {
    state = mlp::from_checkpoint(mlp::read_checkpoint(path), run.identity(), path, &store,
                                 run.optimizer.get());
  } catch (const mlp::Error& e) {
    mlp::fuzz::check_error_line(e.what());
    return 0;
  }
  if (state.early_stopping.best_epoch < 0 ||
      state.early_stopping.best_epoch > static_cast<int>(state.history.size()))
    accepted_badly("names a best epoch outside its history");
  if (state.step_in_epoch < 0 || state.step_in_epoch > run.plan->steps_per_epoch())
    accepted_badly("stands outside the epoch's steps");
  const mlp::EarlyStopPolicy early_stop(run.config.early_stopping());
  early_stop.restore_best(state, &store);
  const std::string saved = run.dir + "/ckpt.pb";
  try {
    mlp::write_run_checkpoint(saved, state, store, *run.optimizer, run.identity());
    const mlp::RunState again = mlp::from_checkpoint(mlp::read_checkpoint(saved), run.identity(),
                                                     saved, &store, run.optimizer.get());
    if (again.global_step != state.global_step || again.history.size() != state.history.size())
      accepted_badly("resumes to another position after a save");
  } catch (const mlp::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    accepted_badly("cannot be written and resumed again");
  }
  return 0;
}
