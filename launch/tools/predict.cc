// `trainer predict`: a model applied to a CSV of features or an IDX image file, streamed in
// chunks so memory stays bounded whatever the input's size. Writes a CSV with a header line: the
// predicted class and one probability per class, or the raw outputs, or (--layer K) hidden
// layer K's activations.
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "core/atomic_file.h"
#include "core/csv_reader.h"
#include "core/errors.h"
#include "core/idx_reader.h"
#include "core/model_file.h"
#include "core/loss.h"
#include "launch/tools/subcommands.h"

namespace mlp {
namespace {

namespace po = boost::program_options;

constexpr int64_t kChunk = 4096;

// Chunks of (I, n) features from a CSV (targets skipped) or an IDX images file.
class FeatureSource {
 public:
  virtual ~FeatureSource() = default;
  // OVERWRITES x (I, n) with up to max_n samples; returns n, 0 at the end.
  virtual int64_t read(int64_t max_n, Matrix<float>* x) = 0;
};

class CsvSource : public FeatureSource {
 public:
  CsvSource(const std::string& path, bool header, int skip, int features)
      : reader_(path, header, skip), skip_(static_cast<size_t>(skip)), features_(features) {}
  int64_t read(int64_t max_n, Matrix<float>* x) override {
    x->resize(features_, max_n);
    int64_t n = 0;
    while (n < max_n && reader_.next()) {
      const std::vector<float>& row = reader_.values();
      if (row.size() - skip_ != static_cast<size_t>(features_))
        throw DataError(reader_.path() + ":" + std::to_string(reader_.line()) + ": " +
                        std::to_string(row.size() - skip_) + " feature columns" +
                        (skip_ ? " after " + std::to_string(skip_) + " skipped" : "") +
                        ", but the model takes " + std::to_string(features_) +
                        (skip_ ? "" : "; --csv-targets K skips K leading target columns"));
      x->col(n) = ConstVectorMap<float>(row.data() + skip_, features_);
      ++n;
    }
    x->conservativeResize(Eigen::NoChange, n);
    return n;
  }

 private:
  CsvRowReader reader_;
  size_t skip_;
  int features_;
};

class IdxSource : public FeatureSource {
 public:
  IdxSource(const std::string& path, int features) : reader_(path) {
    if (reader_.features() != features)
      throw DataError(path + ": images of " + std::to_string(reader_.features()) +
                      " pixels, but the model takes " + std::to_string(features) + " inputs");
  }
  int64_t read(int64_t max_n, Matrix<float>* x) override { return reader_.read(max_n, x); }

 private:
  IdxImageReader reader_;
};

// IDX files start with two zero bytes, gzip with 1F 8B; neither begins a CSV text. Anything but
// a regular file (a pipe, /dev/stdin) is read as CSV: peeking would consume its first bytes.
bool looks_like_idx(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return false;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;  // the CSV reader reports why it cannot be opened
  unsigned char magic[2] = {1, 1};
  const size_t got = std::fread(magic, 1, 2, f);
  std::fclose(f);
  return got == 2 && ((magic[0] == 0 && magic[1] == 0) || (magic[0] == 0x1f && magic[1] == 0x8b));
}

void append_number(float value, std::string* line) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, value);
  line->append(text, result.ptr);
}

// What each row of the output holds.
class RowWriter {
 public:
  RowWriter(const TrainedModel& model, const Loss<float>& loss, int layer)
      : model_(model), loss_(loss), layer_(layer) {}

  std::string header(int columns) const {
    std::string line;
    const bool predicted = layer_ == 0 && model_.classifies();
    if (predicted) line = "predicted";
    const char* prefix = layer_ > 0                      ? "unit_"
                         : loss_.gives_probabilities() ? "prob_"
                                                       : "output_";
    for (int k = 0; k < columns; ++k)
      line += (k || predicted ? "," : "") + std::string(prefix) + std::to_string(k);
    return line + "\n";
  }

  // values (C, n): probabilities, outputs or activations; outputs (O, n) for the class.
  void rows(const Matrix<float>& values, const Matrix<float>& outputs, std::string* text) const {
    const bool predicted = layer_ == 0 && model_.classifies();
    for (Eigen::Index j = 0; j < values.cols(); ++j) {
      if (predicted) *text += std::to_string(loss_.predicted_class(outputs, j));
      for (Eigen::Index k = 0; k < values.rows(); ++k) {
        if (k || predicted) *text += ',';
        append_number(values(k, j), text);
      }
      *text += '\n';
    }
  }

 private:
  const TrainedModel& model_;
  const Loss<float>& loss_;
  int layer_;
};

}  // namespace

int predict_command(int argc, char** argv) {
  std::string model_path, input, output;
  bool header = false;
  int skip = 0, layer = 0;
  po::options_description options("trainer predict options");
  options.add_options()("model", po::value(&model_path)->required()->value_name("FILE"),
                        "model file (OUT/model.pb) or checkpoint")(
      "input", po::value(&input)->required()->value_name("FILE"),
      "CSV of features (one sample per line) or an IDX images file (raw or .gz)")(
      "output", po::value(&output)->required()->value_name("FILE"), "CSV written")(
      "csv-header", po::bool_switch(&header), "the input CSV starts with a header line")(
      "csv-targets", po::value(&skip)->value_name("K")->default_value(0),
      "skip K leading target columns of each CSV row")(
      "layer", po::value(&layer)->value_name("K")->default_value(0),
      "write hidden layer K's activations (1 = first hidden layer) instead");
  po::variables_map vm;
  if (!parse_subcommand_flags(argc, argv,
                              "trainer predict --model FILE --input FILE --output OUT.csv "
                              "[options]",
                              options, &vm))
    return 0;
  if (skip < 0) throw UsageError("--csv-targets: must be non-negative");
  const TrainedModel model = load_trained_model(model_path);
  if (layer < 0 || layer > model.hidden_layers())
    throw UsageError("--layer: " + std::to_string(layer) + " is not a hidden layer of the model (" +
                     std::to_string(model.hidden_layers()) + " hidden layer(s), numbered from 1)");

  std::unique_ptr<FeatureSource> source;
  if (looks_like_idx(input))
    source = std::make_unique<IdxSource>(input, model.inputs());
  else
    source = std::make_unique<CsvSource>(input, header, skip, model.inputs());
  const std::unique_ptr<Model<float>> network = model.build();
  const std::unique_ptr<Loss<float>> loss = make_loss<float>(model.config.loss());
  const RowWriter writer(model, *loss, layer);
  const bool probabilities = layer == 0 && loss->gives_probabilities();
  AtomicFileStream out(output, ExitCode::kUsage);
  Matrix<float> x, probs;  // (I, n), (C, n)
  std::string text;
  bool first = true;
  while (source->read(kChunk, &x) > 0) {
    model.prepare(&x);
    const Matrix<float>& outputs = network->forward(x, ForwardContext{});  // (O, n)
    const Matrix<float>* values = &outputs;
    if (layer > 0) {
      values = &network->hidden_activations(layer);
    } else if (probabilities) {
      loss->probabilities(outputs, &probs);
      values = &probs;
    }
    text.clear();
    if (first) text = writer.header(static_cast<int>(values->rows()));
    first = false;
    writer.rows(*values, outputs, &text);
    out.write(text);
  }
  out.commit();
  return 0;
}

}  // namespace mlp
