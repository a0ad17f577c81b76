// Checkpoint report; see inspect.h.
#include "launch/tools/inspect.h"

#include <google/protobuf/text_format.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <ostream>
#include <vector>

#include "core/atomic_file.h"
#include "core/checkpoint_file.h"
#include "core/config_fields.h"
#include "core/errors.h"
#include "core/model_file.h"
#include "core/packed_floats.h"
#include "launch/tools/subcommands.h"

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

// Where a layout entry's values lie in the parameter bytes; false when they do not lie there.
// Checked without overflow: offsets and sizes come from the file.
bool block_bytes(const pb::ParamBlockInfo& b, size_t params_bytes, size_t* begin, size_t* size) {
  const uint64_t floats = params_bytes / sizeof(float);
  if (b.rows() < 0 || b.cols() < 0 || b.offset() > floats) return false;
  const uint64_t count = static_cast<uint64_t>(b.rows()) * static_cast<uint64_t>(b.cols());
  if (count > floats - b.offset()) return false;
  *begin = static_cast<size_t>(b.offset()) * sizeof(float);
  *size = static_cast<size_t>(count) * sizeof(float);
  return true;
}

// A message in text format on one line.
std::string one_line(const google::protobuf::Message& m) {
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  std::string text;
  printer.PrintToString(m, &text);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
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
      << c.optimizer().step_count() << " steps taken\n";
  if (c.exact_exponents_size() > 0) {
    out << "exact sums: " << c.config().exact_blocks() << " blocks, exponents";
    for (int e : c.exact_exponents()) out << " " << e;
    out << "\n";
  }
  out << "parameters:\n";
  for (const pb::ParamBlockInfo& b : c.layout()) {
    size_t begin = 0, size = 0;
    if (!block_bytes(b, c.params().size(), &begin, &size)) {
      out << "  " << show_input(b.name()) << ": outside the parameter vector\n";
      continue;
    }
    describe_vector(show_input(b.name()) + " (" + std::to_string(b.rows()) + "x" +
                        std::to_string(b.cols()) + ")",
                    c.params().substr(begin, size), out);
  }
  describe_vector("all parameters", c.params(), out);
  const pb::OptimizerState& o = c.optimizer();
  if (o.slots_size() != o.slot_names_size())
    out << "  optimizer: " << o.slots_size() << " state vectors but " << o.slot_names_size()
        << " names\n";
  for (int i = 0; i < o.slots_size(); ++i)
    describe_vector(
        "optimizer " + (i < o.slot_names_size() ? show_input(o.slot_names(i)) : "(unnamed)"),
        o.slots(i), out);
  out << "config:\n" << to_text(c.config());
}

void inspect_model(const std::string& path, std::ostream& out) {
  const TrainedModel t = load_trained_model(path);
  const pb::Model& m = t.file;
  out << path << ": valid model file, format version " << m.format_version() << "\n"
      << "layers:";
  for (const int width : m.sizes()) out << " " << width;
  out << " (" << pb::Activation_Name(m.activation()) << " hidden units, "
      << pb::LossKind_Name(m.loss()) << ", " << t.num_classes << " classes)\n"
      << "standardization: " << (t.standardized ? "per-feature mean and std" : "none") << "\n";
  if (!m.feature_names().empty()) {
    out << "columns:";
    for (const std::string& name : m.target_names()) out << " " << name << " (target)";
    for (const std::string& name : m.feature_names()) out << " " << name;
    out << "\n";
  }
  out << "written by: trainer " << m.provenance().version() << " on " << m.provenance().host()
      << " at unix time " << m.provenance().unix_time() << "\n"
      << "command line: " << m.provenance().command_line() << "\n"
      << "metrics: " << (m.has_run_metrics() ? one_line(m.run_metrics()) : "none") << "\n"
      << "parameters:\n";
  describe_vector("all parameters", m.params(), out);
  if (m.has_config()) out << "config:\n" << to_text(m.config());
}

void write_weight_csvs(const std::string& path, const std::string& dir) {
  const TrainedModel t = load_trained_model(path);
  const std::unique_ptr<Model<float>> network = t.build(/*for_products=*/false);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw UsageError("--weights: cannot create " + dir + ": " + error.message());
  const ParamStore<float>& store = network->store();
  for (size_t i = 0; i < store.layout().size(); ++i) {
    const auto block = store.param(static_cast<int>(i));  // (rows, cols)
    std::string text;
    char number[32];
    for (Eigen::Index r = 0; r < block.rows(); ++r) {
      for (Eigen::Index c = 0; c < block.cols(); ++c) {
        if (c) text += ',';
        text.append(number, std::to_chars(number, number + sizeof number, block(r, c)).ptr);
      }
      text += '\n';
    }
    AtomicFileStream csv(dir + "/" + store.layout()[i].name + ".csv", ExitCode::kUsage);
    csv.write(text);
    csv.commit();
  }
}

int inspect_command(int argc, char** argv) {
  namespace po = boost::program_options;
  std::string path, weights;
  po::options_description options("trainer inspect options");
  options.add_options()("file", po::value(&path)->required()->value_name("FILE"),
                        "checkpoint or model file (also the first positional argument)")(
      "weights", po::value(&weights)->value_name("DIR"),
      "write every parameter block as DIR/<block>.csv");
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  if (!parse_subcommand_flags(argc, argv, "trainer inspect FILE [--weights DIR]", options, &vm,
                              positional))
    return 0;
  if (!weights.empty()) {
    write_weight_csvs(path, weights);
    return 0;
  }
  if (holds_checkpoint(path))
    inspect_checkpoint(path, std::cout);
  else
    inspect_model(path, std::cout);
  return 0;
}

}  // namespace mlp
