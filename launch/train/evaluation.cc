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
  // The chunks, their products' shapes and so their sums are the same at every rank count; each
  // chunk's sums reach the other ranks whole (they add zeros), and every rank adds them in chunk
  // order, so the totals are too.
  const int64_t chunks = (data.size() + kEvalChunk - 1) / kEvalChunk;
  const Shard mine = shard_of(chunks, comm.rank(), comm.size());
  std::vector<double> chunk_sums(3 * static_cast<size_t>(chunks), 0.0);  // loss, correct, count
  std::vector<int64_t> ids;
  for (int64_t c = mine.begin; c < mine.end; ++c) {
    const int64_t begin = c * kEvalChunk;
    const int64_t n = std::min(kEvalChunk, data.size() - begin);
    ids.resize(n);
    std::iota(ids.begin(), ids.end(), begin);
    gather(data, ids.data(), n, &buffers->x, &buffers->labels, &buffers->targets);
    const Matrix<float>& outputs = model.forward(buffers->x, ForwardContext{});
    double* sums = chunk_sums.data() + 3 * c;
    sums[0] = loss.evaluate(outputs, buffers->view(), 1.0f, nullptr);
    sums[1] = static_cast<double>(loss.count_correct(outputs, buffers->view()));
    sums[2] = static_cast<double>(n);
    if (each_chunk) each_chunk(outputs, *buffers);
  }
  comm.set_activity({"reducing evaluation metrics"});
  comm.allreduce_sum(chunk_sums.data(), chunk_sums.size());
  Sums total;
  for (int64_t c = 0; c < chunks; ++c)
    total += {chunk_sums[3 * c], chunk_sums[3 * c + 1], chunk_sums[3 * c + 2]};
  return total;
}

}  // namespace mlp
