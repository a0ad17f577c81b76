// The trained model file (OUT/model.pb, proto/model.proto): its message built from a trained
// parameter buffer, written framed and atomically like checkpoints, and read back with every
// field checked before use, since the file is outside input. A checkpoint converts to the same
// checked form, so evaluate, predict, export and inspect take either.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/checkpoint_file.h"
#include "core/dataset.h"
#include "core/model.h"
#include "proto/checkpoint.pb.h"
#include "proto/model.pb.h"

namespace mlp {

constexpr uint32_t kModelFormatVersion = 1;

// Classes a model's labels index: the outputs of softmax, 2 for the single-output losses, the
// outputs of squared error on one-hot labels (IDX data), 0 for regression on real targets.
int model_classes(const pb::ModelConfig& model, bool one_hot_labels);

// The architecture of a trained network. Its parameters, the flat buffer of Model<float> built
// from `model`, go in as model_params_field (written from memory by write_model_file, or set
// with merge_float_fields). Standardization, names, config, provenance and metrics are added by
// the caller.
pb::Model make_model_message(const pb::ModelConfig& model, int num_classes);

// Model.params as a float field of n floats.
FloatField model_params_field(const float* params, size_t n);

pb::Standardization standardization_message(const Standardizer& standardizer);

// Frames and writes atomically the model with the float fields (write_record_file). Throws
// Error(kCheckpoint) naming the path.
void write_model_file(const std::string& path, const pb::Model& model,
                      const std::vector<FloatField>& floats = {});

// A checked model, ready to apply.
struct TrainedModel {
  pb::Model file;          // as read: names, config, provenance, metrics
  pb::ModelConfig config;  // inputs, hidden, outputs, activation, loss; no dropout
  std::vector<float> params;
  bool standardized = false;
  Standardizer standardizer;  // (I) each, when standardized
  int num_classes = 0;        // 0: regression on real targets

  int inputs() const { return config.inputs(); }
  int outputs() const { return config.outputs(); }
  int hidden_layers() const;
  bool classifies() const { return num_classes > 0; }
  // The network with these parameters; forward with ForwardContext{} applies it. Its products
  // run on the backend that trained it (the file's config.gemm) when this build has it, else on
  // Eigen, and in its precision (config.precision), so that evaluation reproduces the run's
  // bits; a bf16 model on a CPU without bf16 instructions throws UsageError. With
  // `for_products` false the network only lays out the parameters (inspect, export: float32
  // products, whatever the CPU).
  std::unique_ptr<Model<float>> build(bool for_products = true) const;
  // Raw features x (I, N) to what the network was trained on (the standardization, if any),
  // computed exactly as training computed it.
  void prepare(Matrix<float>* x) const;
};

// Checks every field of m: format version, layer widths and count (bounded), activation and
// loss known, class count consistent with the loss and outputs, parameter bytes of exactly the
// layout's length and finite, standardization of the input width with finite means and positive
// finite deviations, names of the right counts. Throws Error(kCheckpoint) "source: what".
TrainedModel check_model(const pb::Model& m, const std::string& source);

// The model a checkpoint holds (its current parameters, its standardization), as a model
// message; check_model still applies.
pb::Model model_from_checkpoint(const pb::Checkpoint& checkpoint);

// True when the file holds a checkpoint (a framed Checkpoint message with optimizer state and a
// parameter layout, which a model file never has). Throws Error(kCheckpoint) when it holds no
// valid record at all.
bool holds_checkpoint(const std::string& path);

// Reads a model file or a checkpoint (told apart by the checkpoint's optimizer state and
// layout) and checks it. Throws Error(kCheckpoint) "path: what is wrong".
TrainedModel load_trained_model(const std::string& path);

}  // namespace mlp
