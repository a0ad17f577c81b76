// The max-norm constraint (Srivastava et al. 2014): after each update, every unit's incoming
// weight vector (a row of a dense weight matrix) is rescaled to norm at most c. Only blocks whose
// roles include max_normed are touched (a dense layer's weights, not its biases).
#pragma once

#include "core/param_store.h"

namespace mlp {

// Rescales in place each row of every max-normed block whose L2 norm exceeds max_norm (> 0).
void apply_max_norm(ParamStore<float>& store, float max_norm);

}  // namespace mlp
