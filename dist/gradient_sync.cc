// What every gradient synchronization shares (range order, buckets) and
// the table from config value to algorithm; see gradient_sync.h.
#include "dist/gradient_sync.h"

#include <stdexcept>
#include <string>

#include "core/errors.h"

namespace mlp {

// Each algorithm's file defines its maker.
std::unique_ptr<GradientSync> make_blocking_sync(Communicator& comm, float* grads,
                                                 const std::vector<ParamBlock>& layout,
                                                 size_t min_bucket_elements);
std::unique_ptr<GradientSync> make_overlap_sync(Communicator& comm, float* grads,
                                                const std::vector<ParamBlock>& layout,
                                                size_t min_bucket_elements);
std::unique_ptr<GradientSync> make_sharded_sync(Communicator& comm, float* grads,
                                                const std::vector<ParamBlock>& layout,
                                                const HostBuffers* host);

std::unique_ptr<GradientSync> make_gradient_sync(pb::GradSync kind, Communicator& comm,
                                                 float* grads,
                                                 const std::vector<ParamBlock>& layout,
                                                 size_t min_bucket_elements,
                                                 const HostBuffers* host) {
  switch (kind) {
    case pb::BLOCKING:
      return make_blocking_sync(comm, grads, layout, min_bucket_elements);
    case pb::OVERLAP:
      return make_overlap_sync(comm, grads, layout, min_bucket_elements);
    case pb::SHARDED:
      return make_sharded_sync(comm, grads, layout, host);
  }
  const std::string name =
      pb::GradSync_IsValid(kind) ? pb::GradSync_Name(kind) : std::to_string(static_cast<int>(kind));
  throw UsageError("grad_sync: no gradient synchronization is built for " + name);
}

std::vector<GradientBucket> gradient_buckets(const std::vector<ParamBlock>& layout,
                                             size_t min_elements) {
  const size_t size = layout_size(layout);
  std::vector<GradientBucket> buckets;
  GradientBucket open{size, size};
  for (auto block = layout.rbegin(); block != layout.rend(); ++block) {
    open.begin = block->offset;
    if (open.end - open.begin >= min_elements) {
      buckets.push_back(open);
      open = GradientBucket{open.begin, open.begin};
    }
  }
  if (open.end > open.begin) buckets.push_back(open);
  return buckets;
}

GradientSync::GradientSync(Communicator& comm, float* grads, size_t size)
    : comm_(comm), grads_(grads), size_(size) {}

void GradientSync::begin_step() {
  ready_from_ = size_;
  locally_finite_ = true;
}

void GradientSync::on_ready(size_t begin, size_t end) {
  if (end != ready_from_ || begin > end)
    throw std::logic_error("GradientSync::on_ready: ranges must be contiguous and descending");
  ready_from_ = begin;
  ready_from(begin);
}

}  // namespace mlp
