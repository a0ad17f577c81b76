// Checkpoint report; see inspect.h.
#include "launch/inspect.h"

#include <cmath>
#include <iomanip>
#include <ostream>
#include <vector>

#include "core/checkpoint_file.h"
#include "core/packed_floats.h"
#include "launch/config_fields.h"

namespace mlp {
namespace {

void describe_vector(const std::string& name, const std::string& bytes, std::ostream& out) {
  std::vector<float> v(bytes.size() / sizeof(float));
  unpack_floats(bytes, v.data(), v.size(), name);
  double sum_sq = 0, max_abs = 0;
  size_t non_finite = 0;
  for (float x : v) {
    if (!std::isfinite(x)) {
      ++non_finite;
      continue;
    }
    sum_sq += static_cast<double>(x) * x;
    max_abs = std::max(max_abs, static_cast<double>(std::fabs(x)));
  }
  out << "  " << std::left << std::setw(22) << name << std::right << std::setw(10) << v.size()
      << " values  rms " << std::setprecision(6) << (v.empty() ? 0.0 : std::sqrt(sum_sq / v.size()))
      << "  max|x| " << max_abs << (non_finite ? "  NON-FINITE: " + std::to_string(non_finite) : "")
      << "\n";
}

}  // namespace

void inspect_checkpoint(const std::string& path, std::ostream& out) {
  const pb::Checkpoint c = read_checkpoint(path);
  out << path << ": valid checkpoint, format version " << c.format_version() << "\n"
      << "position: epoch " << c.epoch() << ", step " << c.step_in_epoch()
      << " of that epoch, global step " << c.global_step() << ", " << c.samples_consumed()
      << " samples consumed, " << c.elapsed_seconds() << " s of wall time\n"
      << "written by: trainer " << c.provenance().version() << " on " << c.provenance().host()
      << " at unix time " << c.provenance().unix_time() << ", " << c.world_size() << " rank(s)\n"
      << "command line: " << c.provenance().command_line() << "\n"
      << "optimizer: " << pb::OptimizerKind_Name(c.optimizer().kind()) << ", "
      << c.optimizer().step_count() << " steps taken\n"
      << "parameters:\n";
  for (const pb::ParamBlockInfo& b : c.layout()) {
    const size_t begin = b.offset() * sizeof(float);
    const size_t size = static_cast<size_t>(b.rows()) * b.cols() * sizeof(float);
    if (begin + size > c.params().size()) {
      out << "  " << b.name() << ": outside the parameter vector\n";
      continue;
    }
    describe_vector(
        b.name() + " (" + std::to_string(b.rows()) + "x" + std::to_string(b.cols()) + ")",
        c.params().substr(begin, size), out);
  }
  describe_vector("all parameters", c.params(), out);
  for (int i = 0; i < c.optimizer().slots_size(); ++i)
    describe_vector("optimizer " + c.optimizer().slot_names(i), c.optimizer().slots(i), out);
  out << "config:\n" << to_text(c.config());
}

}  // namespace mlp
