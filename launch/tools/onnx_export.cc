// `trainer export --format onnx`: a model as an ONNX graph (opset 13) built with the ONNX
// library's own protobuf classes and checked by onnx::checker before it is written atomically:
// standardization as Sub and Div, one Gemm per layer, the hidden activation, and for
// classifiers the probabilities by the loss's link (Softmax, or 1 - p and p from a Sigmoid) and
// their ArgMax. Input "input" (N, I) float; outputs "probabilities" (N, C) and "predicted" (N)
// int64, or "output" (N, O).
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <string>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/loss.h"
#include "core/model_file.h"
#include "launch/tools/subcommands.h"

namespace mlp {
namespace {

namespace po = boost::program_options;

constexpr int kOpset = 13;

class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* graph) : graph_(graph) {}

  // A float initializer with the given dims whose row-major elements are data[0..).
  std::string constant(const std::string& name, std::vector<int64_t> dims, const float* data) {
    onnx::TensorProto* t = graph_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t count = 1;
    for (const int64_t d : dims) {
      t->add_dims(d);
      count *= d;
    }
    t->set_raw_data(std::string(reinterpret_cast<const char*>(data),
                                static_cast<size_t>(count) * sizeof(float)));
    return name;
  }

  std::string node(const std::string& op, std::vector<std::string> inputs,
                   const std::string& output) {
    onnx::NodeProto* n = graph_->add_node();
    n->set_op_type(op);
    n->set_name(output);
    for (const std::string& in : inputs) n->add_input(in);
    n->add_output(output);
    last_ = n;
    return output;
  }

  void int_attribute(const std::string& name, int64_t value) {
    onnx::AttributeProto* a = last_->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }

  // A graph input or output of the given element type and shape (a 0 dim: the batch "N").
  static void describe(onnx::ValueInfoProto* v, const std::string& name, int elem_type,
                       std::vector<int64_t> dims) {
    v->set_name(name);
    auto* tensor = v->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(elem_type);
    auto* shape = tensor->mutable_shape();
    for (const int64_t d : dims) {
      auto* dim = shape->add_dim();
      if (d == 0)
        dim->set_dim_param("N");
      else
        dim->set_dim_value(d);
    }
  }

 private:
  onnx::GraphProto* graph_;
  onnx::NodeProto* last_ = nullptr;
};

const char* activation_op(pb::Activation a) {
  switch (a) {
    case pb::RELU:
      return "Relu";
    case pb::TANH:
      return "Tanh";
    case pb::SIGMOID:
      return "Sigmoid";
    case pb::IDENTITY:
      return "Identity";
  }
  throw std::invalid_argument("unknown activation");
}

onnx::ModelProto onnx_model(const TrainedModel& model) {
  onnx::ModelProto m;
  m.set_ir_version(onnx::IR_VERSION);
  m.set_producer_name("mlp-trainer");
  m.set_producer_version(MLP_VERSION);
  m.add_opset_import()->set_version(kOpset);
  onnx::GraphProto* graph = m.mutable_graph();
  graph->set_name("mlp");
  GraphBuilder g(graph);
  GraphBuilder::describe(graph->add_input(), "input", onnx::TensorProto::FLOAT,
                         {0, model.inputs()});

  std::string x = "input";
  if (model.standardized) {
    x = g.node("Sub", {x, g.constant("mean", {model.inputs()}, model.standardizer.mean.data())},
               "centered");
    x = g.node("Div", {x, g.constant("std", {model.inputs()}, model.standardizer.std.data())},
               "standardized");
  }
  // The flat buffer holds per layer W (O, I) column-major, which read row-major is W^T (I, O):
  // Gemm without transposition computes x W^T + b.
  const std::unique_ptr<Model<float>> network = model.build(/*for_products=*/false);
  const ParamStore<float>& store = network->store();
  const auto& layout = store.layout();
  const size_t layers = layout.size() / 2;
  for (size_t l = 0; l < layers; ++l) {
    const ParamBlock& w = layout[2 * l];
    const ParamBlock& b = layout[2 * l + 1];
    const std::string name = "dense" + std::to_string(l);
    x = g.node("Gemm",
               {x, g.constant(name + ".weight", {w.cols, w.rows}, store.values() + w.offset),
                g.constant(name + ".bias", {b.rows}, store.values() + b.offset)},
               name);
    if (l + 1 < layers) x = g.node(activation_op(model.config.activation()), {x}, name + ".act");
  }

  switch (make_loss<float>(model.config.loss())->link()) {
    case ProbabilityLink::kNone:
      g.node("Identity", {x}, "output");
      GraphBuilder::describe(graph->add_output(), "output", onnx::TensorProto::FLOAT,
                             {0, model.outputs()});
      return m;
    case ProbabilityLink::kSigmoidPair: {
      const float one = 1.0f;
      const std::string p1 = g.node("Sigmoid", {x}, "p1");
      const std::string p0 = g.node("Sub", {g.constant("one", {}, &one), p1}, "p0");
      g.node("Concat", {p0, p1}, "probabilities");
      break;
    }
    case ProbabilityLink::kSoftmax:
      g.node("Softmax", {x}, "probabilities");
      break;
  }
  g.int_attribute("axis", 1);
  g.node("ArgMax", {"probabilities"}, "predicted");
  g.int_attribute("axis", 1);
  g.int_attribute("keepdims", 0);
  GraphBuilder::describe(graph->add_output(), "probabilities", onnx::TensorProto::FLOAT,
                         {0, model.num_classes});
  GraphBuilder::describe(graph->add_output(), "predicted", onnx::TensorProto::INT64, {0});
  return m;
}

}  // namespace

int export_command(int argc, char** argv) {
  std::string model_path, format, output;
  po::options_description options("trainer export options");
  options.add_options()("model", po::value(&model_path)->required()->value_name("FILE"),
                        "model file (OUT/model.pb) or checkpoint")(
      "format", po::value(&format)->required()->value_name("onnx"), "output format: onnx")(
      "output", po::value(&output)->required()->value_name("FILE"), "file written");
  po::variables_map vm;
  if (!parse_subcommand_flags(
          argc, argv, "trainer export --model FILE --format onnx --output F.onnx", options, &vm))
    return 0;
  if (format != "onnx") throw UsageError("--format: \"" + format + "\" is not known; use onnx");
  const onnx::ModelProto m = onnx_model(load_trained_model(model_path));
  try {
    onnx::checker::check_model(m);
  } catch (const std::exception& e) {
    throw Error(ExitCode::kCheckpoint,
                "the ONNX checker refuses the exported graph: " + one_line(e.what()));
  }
  std::string bytes;
  if (!m.SerializeToString(&bytes))
    throw Error(ExitCode::kCheckpoint, "the ONNX model does not serialize");
  AtomicFileStream out(output, ExitCode::kUsage);
  out.write(bytes);
  out.commit();
  return 0;
}

}  // namespace mlp
