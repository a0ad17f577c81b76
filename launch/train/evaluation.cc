// Evaluation over ranks; see evaluation.h.
#include "launch/train/evaluation.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "dist/shard.h"

namespace mlp {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kEvalChunk = 1024;

}  // namespace

Sums Sums::reduced(Communicator& comm) const {
  double v[3] = {loss, correct, count};
  comm.allreduce_sum(v, 3);
  return {v[0], v[1], v[2]};
}

double Sums::mean_loss() const { return count > 0 ? loss / count : kNan; }

double Sums::accuracy(bool classifies) const {
  return classifies && count > 0 ? correct / count : kNan;
}

Sums evaluate(Model<float>& model, const Loss<float>& loss, const Dataset& data, Communicator& comm,
              BatchBuffers* buffers,
              const std::function<void(const Matrix<float>&, const BatchBuffers&)>& each_chunk) {
  Sums sums;
  const Shard shard = shard_of(data.size(), comm.rank(), comm.size());
  std::vector<int64_t> ids;
  for (int64_t begin = shard.begin; begin < shard.end; begin += kEvalChunk) {
    const int64_t n = std::min(kEvalChunk, shard.end - begin);
    ids.resize(n);
    std::iota(ids.begin(), ids.end(), begin);
    gather(data, ids.data(), n, &buffers->x, &buffers->labels, &buffers->targets);
    const Matrix<float>& outputs = model.forward(buffers->x, ForwardContext{});
    sums.loss += loss.evaluate(outputs, buffers->view(), 1.0f, nullptr);
    sums.correct += static_cast<double>(loss.count_correct(outputs, buffers->view()));
    sums.count += static_cast<double>(n);
    if (each_chunk) each_chunk(outputs, *buffers);
  }
  comm.set_activity({"reducing evaluation metrics"});
  return sums.reduced(comm);
}

}  // namespace mlp
