// The exact mode's per-block pass: its gradient, summed in fixed point, is the model's own
// backward's within float rounding (dropout on inputs and hidden layers, under every product
// backend), and a batch's blocks split between two passes, as ranks split them, give bitwise the
// same outputs per block and integer sums that add up to the whole pass's.
#include "core/block_pass.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "core/fixed_point.h"
#include "core/loss.h"
#include "tests/core/gradient_check.h"
#include "tests/core/model_configs.h"

namespace mlp {
namespace {

pb::ModelConfig dropout_model() {
  pb::ModelConfig cfg = model_config("33,70", pb::RELU, pb::SOFTMAX_CROSS_ENTROPY, 20, 5);
  cfg.set_input_dropout(0.2f);
  cfg.set_dropout(0.3f);
  return cfg;
}

struct Batch {
  Matrix<float> x;  // (I, n)
  std::vector<int32_t> labels;
  std::vector<int64_t> ids;
  explicit Batch(int n) : x(test_matrix(20, n, 3, 0, 1).cast<float>()), labels(n), ids(n) {
    for (int j = 0; j < n; ++j) labels[j] = j % 5, ids[j] = 100 + 7 * j;
  }
};

// The loss gradient of every block of the last forward, scaled by 1/batch.
void loss_gradients(BlockPass& pass, const Loss<float>& loss, const Batch& batch,
                    const std::vector<int64_t>& sizes, int64_t first, int64_t batch_size) {
  int64_t column = first;
  for (size_t b = 0; b < sizes.size(); ++b) {
    loss.evaluate(pass.outputs(b), {batch.labels.data() + column, nullptr},
                  1.0f / static_cast<float>(batch_size), &pass.doutputs(b));
    column += sizes[b];
  }
}

// Shifts for the model's tensors from exponents of gradients near 1e-2.
std::vector<int> shifts_for(const Model<float>& model, int blocks) {
  return std::vector<int>(model.store().layout().size(),
                          fixed_shift(static_cast<int>(exponent_field(0.02f)), blocks));
}

}  // namespace

TEST(BlockPass, GradientIsTheModelsBackwardWithinFloatRounding) {
  for (GemmBackend backend : available_gemm_backends()) {
    SCOPED_TRACE(gemm_backend_name(backend));
    Model<float> model(dropout_model(), {backend});
    model.initialize(5);
    const auto loss = make_loss<float>(pb::SOFTMAX_CROSS_ENTROPY);
    const Batch batch(23);
    const ForwardContext ctx{true, 9, 4, batch.ids.data()};
    Matrix<float> dout;
    loss->evaluate(model.forward(batch.x, ctx), {batch.labels.data(), nullptr}, 1.0f / 23, &dout);
    model.backward(batch.x, dout);
    const std::vector<float> expected(model.store().grads(),
                                      model.store().grads() + model.store().size());

    const std::vector<int64_t> sizes = {6, 6, 6, 5};
    BlockPass pass(model);
    pass.forward(batch.x, sizes, ctx);
    loss_gradients(pass, *loss, batch, sizes, 0, 23);
    const std::vector<int> shifts = shifts_for(model, 4);
    std::vector<int64_t> sums(model.store().size());
    std::vector<uint32_t> largest(shifts.size());
    pass.backward(shifts.data(), sums.data(), largest.data());
    for (size_t t = 0; t < shifts.size(); ++t) {
      const ParamBlock& block = model.store().layout()[t];
      EXPECT_LE(largest[t], exponent_field(0.02f) + static_cast<uint32_t>(kFixedHeadroomBits));
      std::vector<float> got(block.size());
      fixed_to_float(sums.data() + block.offset, block.size(), shifts[t], got.data());
      for (size_t i = 0; i < block.size(); ++i)
        ASSERT_NEAR(got[i], expected[block.offset + i], 1e-6 + 1e-4 * std::abs(got[i]))
            << block.name << " " << i;
    }
  }
}

TEST(BlockPass, BlocksSplitBetweenPassesGiveTheSameBitsAndIntegers) {
  Model<float> model(dropout_model());
  model.initialize(5);
  const auto loss = make_loss<float>(pb::SOFTMAX_CROSS_ENTROPY);
  const Batch batch(23);
  const std::vector<int64_t> all = {6, 6, 6, 5};
  const std::vector<int> shifts = shifts_for(model, 4);
  const size_t size = model.store().size();
  std::vector<uint32_t> largest(shifts.size());

  BlockPass whole(model);
  whole.forward(batch.x, all, ForwardContext{true, 9, 4, batch.ids.data()});
  loss_gradients(whole, *loss, batch, all, 0, 23);
  std::vector<int64_t> together(size);
  whole.backward(shifts.data(), together.data(), largest.data());

  // Blocks 0 and 1 on one "rank", 2 and 3 on another: their columns and ids only.
  std::vector<int64_t> parts(size, 0);
  for (const auto& [first_block, count] : {std::pair<size_t, size_t>{0, 2}, {2, 2}}) {
    const std::vector<int64_t> sizes(all.begin() + first_block, all.begin() + first_block + count);
    const int64_t first = std::accumulate(all.begin(), all.begin() + first_block, int64_t{0});
    const int64_t n = std::accumulate(sizes.begin(), sizes.end(), int64_t{0});
    const Matrix<float> x = batch.x.middleCols(first, n);
    BlockPass pass(model);
    pass.forward(x, sizes, ForwardContext{true, 9, 4, batch.ids.data() + first});
    for (size_t b = 0; b < sizes.size(); ++b)
      ASSERT_TRUE(pass.outputs(b) == whole.outputs(first_block + b)) << "block " << first_block + b;
    loss_gradients(pass, *loss, batch, sizes, first, 23);
    std::vector<int64_t> sums(size);
    pass.backward(shifts.data(), sums.data(), largest.data());
    for (size_t i = 0; i < size; ++i) parts[i] += sums[i];
  }
  EXPECT_EQ(parts, together);
}

}  // namespace mlp
