// Model files; see model_file.h. The checks run in the order a reader depends on them: shapes
// first (they size everything else), then the byte lengths against the shapes, then values.
#include "core/model_file.h"

#include <cmath>
#include <cstring>

#include "core/checkpoint_file.h"
#include "core/errors.h"
#include "core/gemm.h"
#include "core/hidden_sizes.h"
#include "core/loss.h"
#include "core/packed_floats.h"
#include "core/sample_table.h"

namespace mlp {
namespace {

// Bounds that no model of this program reaches, so a corrupt or hostile header cannot make the
// reader build an absurd network: the byte-length check below bounds the total as well.
constexpr int kMaxLayers = 64;
constexpr int kMaxWidth = 1 << 24;

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw Error(ExitCode::kCheckpoint, source + ": " + what);
}

std::string join_hidden(const pb::Model& m) {
  std::string hidden;
  for (int i = 1; i + 1 < m.sizes_size(); ++i)
    hidden += (i > 1 ? "," : "") + std::to_string(m.sizes(i));
  return hidden;
}

// A packed float vector of exactly n finite values (positive too when asked).
std::vector<float> checked_floats(const std::string& bytes, size_t n, const std::string& source,
                                  const std::string& what, bool positive) {
  if (bytes.size() != n * sizeof(float))
    fail(source, what + " has " + std::to_string(bytes.size()) + " bytes, expected " +
                     std::to_string(n * sizeof(float)) + " (" + std::to_string(n) + " floats)");
  std::vector<float> v(n);
  if (n > 0) std::memcpy(v.data(), bytes.data(), bytes.size());
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i]) || (positive && !(v[i] > 0)))
      fail(source, what + " value " + std::to_string(i) + " is " + std::to_string(v[i]) +
                       (positive ? ", not a positive finite number" : ", not finite"));
  }
  return v;
}

void check_names(const google::protobuf::RepeatedPtrField<std::string>& names, int expected,
                 const std::string& source, const std::string& what) {
  if (!names.empty() && names.size() != expected)
    fail(source, std::to_string(names.size()) + " " + what + " names for " +
                     std::to_string(expected) + " columns");
}

}  // namespace

int model_classes(const pb::ModelConfig& model, bool one_hot_labels) {
  if (loss_classifies(model.loss())) return model.outputs() == 1 ? 2 : model.outputs();
  return one_hot_labels ? model.outputs() : 0;
}

pb::Model make_model_message(const pb::ModelConfig& model, int num_classes) {
  pb::Model m;
  m.set_format_version(kModelFormatVersion);
  m.add_sizes(model.inputs());
  for (const int width : parse_hidden_sizes(model.hidden())) m.add_sizes(width);
  m.add_sizes(model.outputs());
  m.set_activation(model.activation());
  m.set_loss(model.loss());
  m.set_num_classes(num_classes);
  return m;
}

FloatField model_params_field(const float* params, size_t n) {
  return {{pb::Model::kParamsFieldNumber}, params, n};
}

pb::Standardization standardization_message(const Standardizer& standardizer) {
  pb::Standardization s;
  s.set_mean(pack_floats(standardizer.mean.data(), static_cast<size_t>(standardizer.mean.size())));
  s.set_std(pack_floats(standardizer.std.data(), static_cast<size_t>(standardizer.std.size())));
  return s;
}

void write_model_file(const std::string& path, const pb::Model& model,
                      const std::vector<FloatField>& floats) {
  write_record_file(path, model, floats);
}

int TrainedModel::hidden_layers() const {
  return static_cast<int>(parse_hidden_sizes(config.hidden()).size());
}

std::unique_ptr<Model<float>> TrainedModel::build(bool for_products) const {
  ProductSettings products;
  for (GemmBackend b : available_gemm_backends())
    if (file.config().gemm() == gemm_backend_name(b)) products.backend = b;
  // The model's own precision, so its numbers are the run's; a bf16 model needs a bf16 CPU.
  if (for_products && file.config().precision() == pb::BF16) products.precision = Precision::kBf16;
  auto model = std::make_unique<Model<float>>(config, products);
  std::copy(params.begin(), params.end(), model->store().values());
  return model;
}

void TrainedModel::prepare(Matrix<float>* x) const {
  if (standardized) standardizer.apply(*x);
}

TrainedModel check_model(const pb::Model& m, const std::string& source) {
  if (!m.has_format_version()) fail(source, "no format version; not a model file of this program");
  if (m.format_version() < 1 || m.format_version() > kModelFormatVersion)
    fail(source, "format version " + std::to_string(m.format_version()) +
                     " is not one this program reads (1.." + std::to_string(kModelFormatVersion) +
                     "); use a newer trainer");
  if (m.sizes_size() < 2 || m.sizes_size() > kMaxLayers + 1)
    fail(source, std::to_string(m.sizes_size()) + " layer widths; a model has 2 to " +
                     std::to_string(kMaxLayers + 1) + " (inputs, hidden..., outputs)");
  uint64_t count = 0;
  for (int i = 0; i < m.sizes_size(); ++i) {
    if (m.sizes(i) < 1 || m.sizes(i) > kMaxWidth)
      fail(source, "layer width " + std::to_string(i) + " is " + std::to_string(m.sizes(i)) +
                       ", outside 1.." + std::to_string(kMaxWidth));
    if (i > 0) count += static_cast<uint64_t>(m.sizes(i)) * (m.sizes(i - 1) + 1);
  }
  // Unknown enum numbers land in the unknown fields, so presence is the validity check.
  if (!m.has_activation()) fail(source, "no (known) hidden activation");
  if (!m.has_loss()) fail(source, "no (known) loss kind");

  TrainedModel t;
  t.file = m;
  t.config.set_inputs(m.sizes(0));
  t.config.set_hidden(join_hidden(m));
  t.config.set_outputs(m.sizes(m.sizes_size() - 1));
  t.config.set_activation(m.activation());
  t.config.set_loss(m.loss());
  t.config.set_input_dropout(0);
  t.config.set_dropout(0);

  const int outputs = t.outputs();
  const std::string outputs_problem = make_loss<float>(m.loss())->outputs_problem(outputs);
  if (!outputs_problem.empty()) fail(source, outputs_problem);
  const int expected_classes = model_classes(t.config, m.num_classes() > 0);
  if (!m.has_num_classes() || m.num_classes() != expected_classes || m.num_classes() > kMaxClasses)
    fail(source, "class count " + std::to_string(m.num_classes()) + " does not fit " +
                     pb::LossKind_Name(m.loss()) + " with " + std::to_string(outputs) +
                     " output(s) (expected " + std::to_string(expected_classes) + ")");
  t.num_classes = m.num_classes();

  t.params = checked_floats(m.params(), count, source, "the parameter vector", false);
  if (m.has_standardization()) {
    const auto inputs = static_cast<size_t>(t.inputs());
    const std::vector<float> mean = checked_floats(m.standardization().mean(), inputs, source,
                                                   "the standardization mean", false);
    const std::vector<float> std_dev =
        checked_floats(m.standardization().std(), inputs, source, "the standardization std", true);
    t.standardized = true;
    t.standardizer.mean = ConstVectorMap<float>(mean.data(), t.inputs());
    t.standardizer.std = ConstVectorMap<float>(std_dev.data(), t.inputs());
  }
  check_names(m.feature_names(), t.inputs(), source, "feature");
  check_names(m.target_names(), t.classifies() ? 1 : outputs, source, "target");
  return t;
}

pb::Model model_from_checkpoint(const pb::Checkpoint& c) {
  const pb::ModelConfig& model = c.config().model();
  pb::Model m;
  m.set_format_version(kModelFormatVersion);
  m.add_sizes(model.inputs());
  try {
    for (const int width : parse_hidden_sizes(model.hidden())) m.add_sizes(width);
  } catch (const UsageError&) {
    m.clear_sizes();  // refused by check_model
  }
  m.add_sizes(model.outputs());
  if (model.has_activation()) m.set_activation(model.activation());
  if (model.has_loss()) m.set_loss(model.loss());
  m.set_num_classes(model_classes(model, c.config().data().train_csv().empty()));
  m.set_params(c.params());
  if (c.has_standardization()) *m.mutable_standardization() = c.standardization();
  *m.mutable_config() = c.config();
  *m.mutable_provenance() = c.provenance();
  return m;
}

namespace {

bool is_checkpoint_payload(const std::string& payload) {
  pb::Checkpoint checkpoint;
  return checkpoint.ParseFromString(payload) && checkpoint.has_optimizer() &&
         checkpoint.layout_size() > 0;
}

}  // namespace

bool holds_checkpoint(const std::string& path) {
  return is_checkpoint_payload(read_record_file(path, "checkpoint or model file"));
}

TrainedModel load_trained_model(const std::string& path) {
  const std::string payload = read_record_file(path, "checkpoint or model file");
  if (is_checkpoint_payload(payload))
    return check_model(model_from_checkpoint(read_checkpoint(path)), path + " (checkpoint)");
  pb::Model model;
  if (!model.ParseFromString(payload))
    fail(path, "CRC is valid but the payload is neither a Model nor a Checkpoint message");
  return check_model(model, path);
}

}  // namespace mlp
