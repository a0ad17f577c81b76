// Small config builders shared by the model tests and the lecture examples.
#pragma once

#include <string>

#include "proto/config.pb.h"

namespace mlp {

inline pb::ModelConfig model_config(const std::string& hidden, pb::Activation activation,
                                    pb::LossKind loss, int inputs, int outputs) {
  pb::ModelConfig cfg;
  cfg.set_hidden(hidden);
  cfg.set_activation(activation);
  cfg.set_loss(loss);
  cfg.set_inputs(inputs);
  cfg.set_outputs(outputs);
  return cfg;
}

}  // namespace mlp
