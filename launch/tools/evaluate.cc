// `trainer evaluate`: a model file's (or checkpoint's) loss, accuracy, per-class precision,
// recall and F1 and confusion matrix on labelled data, alone or under mpirun. The set is read and
// standardized as a run reads its test set and evaluated in the same chunks with the same loss
// code, so on a run's own test set at the run's rank count the numbers are the run's bit for bit.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/config_fields.h"
#include "core/errors.h"
#include "core/loss.h"
#include "core/model_file.h"
#include "core/prediction.h"
#include "dist/agreement.h"
#include "dist/communicator.h"
#include "launch/tools/subcommands.h"
#include "launch/train/data_loading.h"
#include "launch/train/evaluation.h"
#include "launch/train/run_output.h"
#include "launch/train/trainer_options.h"
#include "proto/run_records.pb.h"

namespace mlp {
namespace {

namespace po = boost::program_options;

struct Evaluation {
  Sums sums;
  ConfusionMatrix confusion{0};
};

// The training loop's evaluation (same chunks, same loss code, so the same bits), with the
// predicted classes counted against the labels.
Evaluation evaluate_model(const TrainedModel& trained, const Dataset& set, Communicator& comm) {
  const std::unique_ptr<Model<float>> model = trained.build();
  const std::unique_ptr<Loss<float>> loss = make_loss<float>(trained.config.loss());
  Evaluation e;
  e.confusion = ConfusionMatrix(trained.num_classes);
  BatchBuffers buffers;
  e.sums =
      evaluate(*model, *loss, set, comm, &buffers,
               [&](const Matrix<float>& outputs, const BatchBuffers& chunk) {
                 for (size_t j = 0; j < chunk.labels.size(); ++j)
                   e.confusion.add(chunk.labels[j],
                                   loss->predicted_class(outputs, static_cast<Eigen::Index>(j)));
               });
  if (!e.confusion.counts().empty())
    comm.allreduce_sum(e.confusion.counts().data(), e.confusion.counts().size());
  return e;
}

// What --json writes, the numbers print_report prints.
pb::EvaluationReport report_record(const Evaluation& e, bool classifies) {
  pb::EvaluationReport r;
  r.set_samples(e.sums.count);
  *r.mutable_loss() = number_or_null(e.sums.mean_loss());
  *r.mutable_accuracy() = number_or_null(e.sums.accuracy(classifies));
  const ConfusionMatrix& c = e.confusion;
  for (int k = 0; k < c.classes(); ++k) {
    pb::ClassMetrics* m = r.add_per_class();
    m->set_class_(k);
    m->set_precision(c.precision(k));
    m->set_recall(c.recall(k));
    m->set_f1(c.f1(k));
    m->set_support(c.support(k));
  }
  for (int label = 0; label < c.classes(); ++label) {
    google::protobuf::ListValue* row = r.add_confusion();
    for (int p = 0; p < c.classes(); ++p) row->add_values()->set_number_value(c.count(label, p));
  }
  return r;
}

void print_report(const Evaluation& e, const TrainedModel& model, const std::string& path) {
  std::printf("%s: %lld samples\nloss %.6f", path.c_str(), static_cast<long long>(e.sums.count),
              e.sums.mean_loss());
  if (model.classifies()) std::printf("  accuracy %.6f", e.sums.accuracy(true));
  std::printf("\n");
  const pb::RunMetrics& run = model.file.run_metrics();
  if (run.has_test_loss()) {
    const bool same = run.test_loss() == e.sums.mean_loss() &&
                      (!run.has_test_acc() || run.test_acc() == e.sums.accuracy(true));
    std::printf("the run reported test loss %.6f", run.test_loss());
    if (run.has_test_acc()) std::printf(", accuracy %.6f", run.test_acc());
    std::printf(" on its test set%s\n", same ? ": equal to the last bit" : "");
  }
  const ConfusionMatrix& c = e.confusion;
  if (c.classes() == 0) return;
  std::printf("\nclass  precision  recall     f1  support\n");
  for (int k = 0; k < c.classes(); ++k)
    std::printf("%5d  %9.4f  %6.4f  %6.4f  %7.0f\n", k, c.precision(k), c.recall(k), c.f1(k),
                c.support(k));
  std::printf("\nconfusion (rows: label, columns: predicted)\n      ");
  for (int p = 0; p < c.classes(); ++p) std::printf(" %6d", p);
  std::printf("\n");
  for (int label = 0; label < c.classes(); ++label) {
    std::printf("%5d ", label);
    for (int p = 0; p < c.classes(); ++p) std::printf(" %6.0f", c.count(label, p));
    std::printf("\n");
  }
}

}  // namespace

int evaluate_command(int argc, char** argv) {
  // The trainer's flags, as a run reads its test set and waits in collectives.
  const std::vector<SharedFlag> data_flags = {
      {"data-dir", "IDX folder; its t10k-* pair is evaluated"},
      {"test-csv", "labelled CSV (target column(s) first) instead of the IDX folder"},
      {"csv-header", "the CSV starts with a header line"},
      {"csv-targets",
       "leading target columns of a CSV row (a regression model reads its outputs' count)"},
      {"test-limit", "only the first N samples (0: all)"}};
  const std::vector<SharedFlag> run_flags = {{"stall-timeout"}};
  std::string model_path, json_path;
  po::options_description options("trainer evaluate options");
  options.add_options()("model", po::value(&model_path)->required()->value_name("FILE"),
                        "model file (OUT/model.pb) or checkpoint");
  add_trainer_flags(data_flags, &options);
  options.add_options()("json", po::value(&json_path)->value_name("FILE"),
                        "also write loss, accuracy, per_class, confusion");
  add_trainer_flags(run_flags, &options);
  po::variables_map vm;
  if (!parse_subcommand_flags(argc, argv,
                              "trainer evaluate --model FILE [--data-dir DIR | --test-csv FILE] "
                              "[options]   (or under mpirun)",
                              options, &vm))
    return 0;
  pb::TrainConfig config;
  fill_defaults(&config);
  set_trainer_flags(data_flags, vm, &config);
  set_trainer_flags(run_flags, vm, &config);
  validate_data_config(config.data());
  const pb::DataConfig& data = config.data();

  std::unique_ptr<Communicator> comm = make_communicator(&argc, &argv, config.stall_timeout());
  TrainedModel model;
  Dataset set;
  std::unique_ptr<AtomicFileStream> json;
  run_on_all_or_fail_together(*comm, [&] {
    // Opened first: an unwritable --json path fails before any work, not after the report.
    if (comm->rank() == 0 && !json_path.empty())
      json = std::make_unique<AtomicFileStream>(json_path, ExitCode::kUsage);
    model = load_trained_model(model_path);
    set = load_labelled_set(data, model.config.loss(), model.num_classes, model.outputs());
    if (set.features() != model.inputs())
      throw DataError((data.test_csv().empty() ? data.data_dir() : data.test_csv()) + ": " +
                      std::to_string(set.features()) +
                      " features per sample, but the model takes " +
                      std::to_string(model.inputs()));
    if (model.standardized) model.standardizer.apply(set);
  });
  const Evaluation e = evaluate_model(model, set, *comm);
  if (comm->rank() != 0) return 0;
  print_report(e, model, model_path);
  if (json) {
    json->write(record_json(report_record(e, model.classifies()), true));
    json->commit();
  }
  return 0;
}

}  // namespace mlp
