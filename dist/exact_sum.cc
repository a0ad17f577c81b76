// The exact mode's sum over ranks; see exact_sum.h.
#include "dist/exact_sum.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "core/fixed_point.h"

namespace mlp {
namespace {

// A block entry no rank has written yet: the maximum over ranks is the one rank's value, whose
// bits (of a double or an integer) are never below it.
constexpr int64_t kAbsent = std::numeric_limits<int64_t>::min();

int64_t bits_of(double value) {
  int64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

double double_of(int64_t bits) {
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

}  // namespace

ExactSum::ExactSum(Communicator& comm, const std::vector<ParamBlock>& layout, int blocks,
                   FlatRange owned, bool split)
    : comm_(comm),
      layout_(layout),
      blocks_(blocks),
      owned_(owned),
      split_(split),
      exponents_(layout.size(), kNoExponent),
      shifts_(layout.size()),
      largest_(layout.size()),
      size_(layout_size(layout)),
      agreement_(layout.size() + 2 * static_cast<size_t>(blocks)),
      on_final_([this](size_t begin, size_t end) { convert(begin, end); }) {
  refresh_shifts();
  // Two floats hold one int64; the memory is 64-byte aligned.
  if (split_) host_ = comm.share_on_host(2 * size_);
  if (host_ != nullptr) {
    sums_ = reinterpret_cast<int64_t*>(host_->mine());
    for (int r = 0; r < comm.size(); ++r)
      sources_.push_back(reinterpret_cast<const int64_t*>(host_->of(r)));
  } else {
    own_sums_.resize(size_);
    sums_ = own_sums_.data();
    sources_.push_back(sums_);
  }
  at_.resize(sources_.size());
  if (!split_) return;
  const uint64_t mine[2] = {owned.begin, owned.end};
  std::vector<uint64_t> all(2 * static_cast<size_t>(comm.size()));
  comm.allgather(mine, sizeof mine, all.data());
  size_t next = 0;
  for (int r = 0; r < comm.size(); ++r) {
    if (all[2 * r] != next || all[2 * r + 1] < next)
      throw std::logic_error("ExactSum: the ranks' slices do not tile the buffer in rank order");
    counts_.push_back(all[2 * r + 1] - all[2 * r]);
    next = all[2 * r + 1];
  }
  if (next != size_) throw std::logic_error("ExactSum: the slices do not cover the buffer");
}

void ExactSum::refresh_shifts() {
  for (size_t t = 0; t < exponents_.size(); ++t) shifts_[t] = fixed_shift(exponents_[t], blocks_);
}

void ExactSum::set_exponents(const std::vector<int>& exponents) {
  if (exponents.size() != exponents_.size())
    throw std::invalid_argument("ExactSum: one exponent per tensor");
  for (int e : exponents)
    if (e != kNoExponent && (e < 0 || e > 254))
      throw std::invalid_argument("ExactSum: an exponent field is 0..254");
  exponents_ = exponents;
  refresh_shifts();
}

ExactSum::Outcome ExactSum::agree(const std::vector<BlockScalars>& mine, int first_block,
                                  bool losses_finite, std::vector<BlockScalars>* all) {
  const size_t tensors = layout_.size();
  const auto blocks = static_cast<size_t>(blocks_);
  bool gradients_finite = true;
  for (size_t t = 0; t < tensors; ++t) {
    agreement_[t] = largest_[t];
    gradients_finite = gradients_finite && largest_[t] != kNonFiniteExponent;
  }
  locally_finite_ = losses_finite && gradients_finite;
  std::fill(agreement_.begin() + static_cast<std::ptrdiff_t>(tensors), agreement_.end(), kAbsent);
  for (size_t k = 0; k < mine.size(); ++k) {
    const size_t b = static_cast<size_t>(first_block) + k;
    agreement_[tensors + b] = bits_of(mine[k].loss);
    agreement_[tensors + blocks + b] = mine[k].correct;
  }
  comm_.allreduce_max(agreement_.data(), agreement_.size());

  all->resize(blocks);
  bool finite = true;
  for (size_t b = 0; b < blocks; ++b) {
    (*all)[b] = {double_of(agreement_[tensors + b]), agreement_[tensors + blocks + b]};
    finite = finite && std::isfinite((*all)[b].loss);
  }
  bool fits = true;
  for (size_t t = 0; t < tensors; ++t) {
    const int seen = static_cast<int>(agreement_[t]);
    finite = finite && seen != static_cast<int>(kNonFiniteExponent) &&
             !sum_may_overflow_float(seen, blocks_);
    fits = fits && exponent_fits(exponents_[t], seen);
  }
  if (!finite) return Outcome::kNonFinite;
  for (size_t t = 0; t < tensors; ++t) exponents_[t] = static_cast<int>(agreement_[t]);
  // The sums of this step convert at the shifts they were made with; the new ones apply to the
  // next backward, which is this step's again when recomputing.
  if (fits) return Outcome::kSum;
  refresh_shifts();
  return Outcome::kRecompute;
}

void ExactSum::convert(size_t begin, size_t end) {
  for (size_t t = 0; t < layout_.size(); ++t) {
    const size_t from = std::max(begin, layout_[t].offset);
    const size_t to = std::min(end, layout_[t].offset + layout_[t].size());
    if (from >= to) continue;
    for (size_t k = 0; k < sources_.size(); ++k) at_[k] = sources_[k] + from;
    fixed_sum_to_float(at_.data(), at_.size(), to - from, shifts_[t], grads_ + from);
  }
}

void ExactSum::sum(float* grads) {
  grads_ = grads;
  if (host_ != nullptr) {
    // The fence makes every rank's sums final before they are read. A rank writes its sums again
    // only in the next step's backward, after the parameters' sharing (TrainStep), a collective
    // no rank passes before every rank has finished this sum.
    host_->fence();
    convert(owned_.begin, owned_.end);
  } else if (split_) {
    comm_.reduce_scatter_sum(sums_, counts_, on_final_);
  } else {
    comm_.allreduce_sum(sums_, size_);
    convert(0, size_);
  }
  grads_ = nullptr;
  refresh_shifts();
}

}  // namespace mlp
