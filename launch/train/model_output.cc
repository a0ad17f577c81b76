// The run's model file; see model_output.h.
#include "launch/train/model_output.h"

#include <cmath>

#include "core/model_file.h"
#include "launch/train/run_summary.h"

namespace mlp {

void write_run_model(const pb::TrainConfig& config, const Model<float>& model,
                     const TrainingData& data, const pb::Provenance& provenance,
                     const TrainingResult& result) {
  pb::Model m = make_model_message(
      config.model(), model_classes(config.model(), config.data().train_csv().empty()));
  if (data.standardized) *m.mutable_standardization() = standardization_message(data.standardizer);
  for (const std::string& name : data.header.features) m.add_feature_names(name);
  for (const std::string& name : data.header.targets) m.add_target_names(name);
  *m.mutable_config() = config;
  // The backend the run resolved (auto: the one measured fastest), so applying the model
  // reproduces the run's numbers bit for bit.
  m.mutable_config()->set_gemm(gemm_backend_name(model.products().backend));
  *m.mutable_provenance() = provenance;
  pb::RunMetrics& metrics = *m.mutable_run_metrics();
  if (!result.history.empty()) *metrics.mutable_kept_epoch() = kept_epoch(result);
  // NaN: no test set, or no accuracy of a regression.
  if (std::isfinite(result.test_loss)) metrics.set_test_loss(result.test_loss);
  if (std::isfinite(result.test_acc)) metrics.set_test_acc(result.test_acc);
  if (result.best_epoch > 0) metrics.set_best_epoch(result.best_epoch);
  metrics.set_epochs_run(result.epochs_run);
  metrics.set_restored_best(result.restored_best);
  const ParamStore<float>& store = model.store();
  write_model_file(model_path(config), m, {model_params_field(store.values(), store.size())});
}

std::string model_path(const pb::TrainConfig& config) { return config.out_dir() + "/model.pb"; }

}  // namespace mlp
