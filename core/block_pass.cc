// The exact mode's per-block forward and backward; see block_pass.h.
#include "core/block_pass.h"

#include <algorithm>
#include <cstring>

#include "core/dropout.h"
#include "core/fixed_point.h"

namespace mlp {
namespace {

// Rows of the weights per forward product: a panel of 256 rows of a 1024-wide layer is 1 MB,
// which the blocks reuse from cache. At B = 128 in 8 blocks, oneDNN's per-block products of the
// whole weights took 1.4 times the shard's product; in panels, the same time (AMD EPYC Zen 4).
constexpr Eigen::Index kPanelRows = 256;

}  // namespace

BlockPass::BlockPass(Model<float>& model) : model_(model), stages_(model.layer_blocks().size()) {}

const Matrix<float>& BlockPass::input_of(size_t stage, size_t b) const {
  return stage == 0 ? inputs_[b] : output_of(stage - 1, b);
}

const Matrix<float>& BlockPass::output_of(size_t stage, size_t b) const {
  const auto& block = model_.layer_blocks()[stage];
  return block.dense == nullptr || block.dropout != nullptr ? stages_[stage].y[b]
                                                            : stages_[stage].a[b];
}

void BlockPass::forward(const Matrix<float>& x, const std::vector<int64_t>& sizes,
                        const ForwardContext& ctx) {
  const size_t blocks = sizes.size();
  sizes_ = sizes;
  firsts_.assign(blocks, 0);
  for (size_t b = 1; b < blocks; ++b) firsts_[b] = firsts_[b - 1] + sizes[b - 1];
  inputs_.resize(blocks);
  doutputs_.resize(blocks);
  for (Stage& stage : stages_) {
    for (auto* buffers : {&stage.a, &stage.y, &stage.dz, &stage.dx}) buffers->resize(blocks);
    stage.db.resize(blocks);
  }
  // Each block's own copy, so that its columns sit where they sit on any rank.
  for (size_t b = 0; b < blocks; ++b) inputs_[b] = x.middleCols(firsts_[b], sizes_[b]);
  const int64_t n = x.cols();
  for (size_t s = 0; s < stages_.size(); ++s) {
    const auto& block = model_.layer_blocks()[s];
    if (block.dense != nullptr) {
      forward_dense(s, ctx);
      continue;
    }
    // The input dropout, drawn once for the rank's columns.
    const bool masked = block.dropout->begin_forward(n, ctx);
    for (size_t b = 0; b < blocks; ++b) {
      const Matrix<float>& in = input_of(s, b);
      Matrix<float>& out = stages_[s].y[b];
      out.resize(in.rows(), in.cols());
      for (Eigen::Index j = 0; j < in.cols(); ++j) {
        if (masked)
          block.dropout->apply_mask(firsts_[b] + j, in.col(j).data(), out.col(j).data());
        else
          out.col(j) = in.col(j);
      }
    }
  }
}

void BlockPass::forward_dense(size_t s, const ForwardContext& ctx) {
  const auto& block = model_.layer_blocks()[s];
  Stage& stage = stages_[s];
  const Dense<float>& dense = *block.dense;
  const auto w = model_.store().param(dense.weight_block());  // (O, I)
  const size_t blocks = sizes_.size();
  for (size_t b = 0; b < blocks; ++b) stage.a[b].resize(dense.outputs(), sizes_[b]);
  for (Eigen::Index p = 0; p < w.rows(); p += kPanelRows) {
    const Eigen::Index rows = std::min(kPanelRows, w.rows() - p);
    for (size_t b = 0; b < blocks; ++b) {
      if (sizes_[b] == 0) continue;
      gemm<float>(model_.products(), w.middleRows(p, rows), false, input_of(s, b), false,
                  stage.a[b].middleRows(p, rows), Accumulate::kOverwrite);
    }
  }
  int64_t n = 0;
  for (int64_t size : sizes_) n += size;
  const bool masked = block.dropout != nullptr && block.dropout->begin_forward(n, ctx);
  for (size_t b = 0; b < blocks; ++b)
    dense.activate_columns(block.activation, block.dropout, masked, firsts_[b], stage.a[b],
                           block.dropout != nullptr ? &stage.y[b] : nullptr);
}

void BlockPass::backward(const int* shifts, int64_t* sums, uint32_t* largest) {
  const auto& blocks = model_.layer_blocks();
  size_t first_dense = 0;
  while (blocks[first_dense].dense == nullptr) ++first_dense;
  for (size_t s = stages_.size(); s-- > first_dense;) backward_dense(s, shifts, sums, largest);
}

void BlockPass::backward_dense(size_t s, const int* shifts, int64_t* sums, uint32_t* largest) {
  const auto& block = model_.layer_blocks()[s];
  const Dense<float>& dense = *block.dense;
  Stage& stage = stages_[s];
  const bool last = s + 1 == stages_.size();
  const bool masked = block.dropout != nullptr && block.dropout->masked();
  const size_t blocks = sizes_.size();
  factors_.clear();
  for (size_t b = 0; b < blocks; ++b) {
    const Matrix<float>& dy = last ? doutputs_[b] : stages_[s + 1].dx[b];
    stage.db[b].resize(static_cast<size_t>(dense.outputs()));
    dense.delta_columns(block.activation, block.dropout, masked, firsts_[b], stage.a[b], dy,
                        stage.dz[b], stage.db[b].data());
    const Matrix<float>& x = input_of(s, b);
    factors_.push_back({stage.dz[b].data(), x.data(), static_cast<int>(sizes_[b])});
  }
  const bool first_dense = s == 0 || model_.layer_blocks()[s - 1].dense == nullptr;
  if (!first_dense) {
    columns_.clear();
    for (size_t b = 0; b < blocks; ++b) {
      stage.dx[b].resize(dense.inputs(), sizes_[b]);
      columns_.push_back({stage.dz[b].data(), stage.dx[b].data(), static_cast<int>(sizes_[b])});
    }
    const auto w = model_.store().param(dense.weight_block());  // (O, I)
    input_gradient_.compute(dense.outputs(), dense.inputs(), w.data(), columns_);
  }
  const std::vector<ParamBlock>& layout = model_.store().layout();
  const auto weight = static_cast<size_t>(dense.weight_block());
  const auto bias = static_cast<size_t>(dense.bias_block());
  largest[weight] = weight_gradient_.compute(dense.outputs(), dense.inputs(), factors_,
                                             shifts[weight], sums + layout[weight].offset);
  int64_t* bias_sums = sums + layout[bias].offset;
  if (blocks == 0) std::fill(bias_sums, bias_sums + layout[bias].size(), 0);
  largest[bias] = 0;
  for (size_t b = 0; b < blocks; ++b)
    largest[bias] = std::max(largest[bias], add_fixed(stage.db[b].data(), stage.db[b].size(),
                                                      shifts[bias], b == 0, bias_sums));
}

}  // namespace mlp
