// Model files: a trained network written and read back applies exactly as before (with its
// standardization), a checkpoint reads as the same kind of model, and every field that does not
// fit is refused with one line naming the file and the field.
#include "core/model_file.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/checkpoint_file.h"
#include "core/errors.h"
#include "core/packed_floats.h"
#include "tests/core/gathered.h"
#include "tests/core/model_configs.h"
#include "tests/core/test_files.h"

namespace mlp {
namespace {

using test_files::TempDir;

class ModelFile : public ::testing::Test {
 protected:
  ModelFile() : network_(model_config("5,4", pb::TANH, pb::SOFTMAX_CROSS_ENTROPY, 3, 3)) {
    network_.initialize(7);
  }

  // The network's model message without its parameters, and its parameters as a float field.
  static pb::Model architecture() {
    return make_model_message(model_config("5,4", pb::TANH, pb::SOFTMAX_CROSS_ENTROPY, 3, 3), 3);
  }
  FloatField params_field() const {
    return model_params_field(network_.store().values(), network_.store().size());
  }
  // The network's model message, parameters included.
  pb::Model message() const {
    pb::Model m = architecture();
    merge_float_fields({params_field()}, &m);
    return m;
  }

  // The one-line message check_model gives for m ("" when it accepts it).
  static std::string refusal(const pb::Model& m) {
    try {
      check_model(m, "m.pb");
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kCheckpoint);
      return e.what();
    }
    return "";
  }

  Model<float> network_;
  TempDir dir_;
};

TEST_F(ModelFile, RoundTripAppliesExactlyAsTheTrainedNetwork) {
  Standardizer s;
  s.mean = Vector<float>::LinSpaced(3, -1, 1);
  s.std = Vector<float>::LinSpaced(3, 0.5f, 2);
  pb::Model m = architecture();
  *m.mutable_standardization() = standardization_message(s);
  m.add_feature_names("a");
  m.add_feature_names("b");
  m.add_feature_names("c");
  const std::string path = dir_.file("model.pb");
  write_model_file(path, m, {params_field()});  // the parameters straight from the network
  EXPECT_FALSE(holds_checkpoint(path));
  const TrainedModel t = load_trained_model(path);
  EXPECT_EQ(t.inputs(), 3);
  EXPECT_EQ(t.outputs(), 3);
  EXPECT_EQ(t.hidden_layers(), 2);
  EXPECT_EQ(t.config.hidden(), "5,4");
  EXPECT_EQ(t.num_classes, 3);
  ASSERT_TRUE(t.standardized);

  Matrix<float> x = Matrix<float>::Random(3, 6);  // (I, N) raw features
  Dataset d = whole_table(SampleTable::of_floats(x, std::vector<int32_t>(6, 0), {}, 3));
  s.apply(d);
  const Matrix<float> standardized = gather_all(d).x;
  const Matrix<float> expected = network_.forward(standardized, {});
  t.prepare(&x);
  EXPECT_EQ(x, standardized);
  EXPECT_EQ(t.build()->forward(x, {}), expected);
}

TEST_F(ModelFile, ACheckpointReadsAsItsCurrentModel) {
  pb::Checkpoint c;
  c.set_format_version(kCheckpointFormatVersion);
  *c.mutable_config()->mutable_model() =
      model_config("5,4", pb::TANH, pb::SOFTMAX_CROSS_ENTROPY, 3, 3);
  const ParamStore<float>& store = network_.store();
  for (const ParamBlock& b : store.layout()) c.add_layout()->set_name(b.name);
  c.set_params(pack_floats(store.values(), store.size()));
  c.mutable_optimizer()->set_kind(pb::SGD);
  const std::string path = dir_.file("ckpt.pb");
  write_checkpoint(path, c);
  EXPECT_TRUE(holds_checkpoint(path));
  const TrainedModel t = load_trained_model(path);
  EXPECT_EQ(t.params, std::vector<float>(store.values(), store.values() + store.size()));
  EXPECT_FALSE(t.standardized);
  c.mutable_config()->mutable_model()->set_hidden("5,x");
  write_checkpoint(path, c);
  EXPECT_THROW(load_trained_model(path), Error);
}

// Model files of earlier versions held the run's numbers in a map by name, field 12 (now
// reserved): they load as before, without run_metrics.
TEST_F(ModelFile, AMetricsMapOfAnEarlierVersionIsSkipped) {
  std::string entry;  // map<string, double> entry "test_acc" -> 0.75
  google::protobuf::io::StringOutputStream stream(&entry);
  {
    google::protobuf::io::CodedOutputStream out(&stream);
    const std::string key = "test_acc";
    const double value = 0.75;
    out.WriteTag(1 << 3 | 2);
    out.WriteVarint32(static_cast<uint32_t>(key.size()));
    out.WriteString(key);
    out.WriteTag(2 << 3 | 1);
    out.WriteLittleEndian64(google::protobuf::internal::WireFormatLite::EncodeDouble(value));
  }
  std::string field12;
  google::protobuf::io::StringOutputStream field_stream(&field12);
  {
    google::protobuf::io::CodedOutputStream out(&field_stream);
    out.WriteTag(12 << 3 | 2);
    out.WriteVarint32(static_cast<uint32_t>(entry.size()));
    out.WriteString(entry);
  }
  pb::Model earlier;
  ASSERT_TRUE(earlier.ParseFromString(message().SerializeAsString() + field12));
  const std::string path = dir_.file("earlier.pb");
  write_model_file(path, earlier);
  const TrainedModel t = load_trained_model(path);
  EXPECT_EQ(t.file.GetReflection()->GetUnknownFields(t.file).field_count(), 1);  // the map
  EXPECT_FALSE(t.file.has_run_metrics());
  EXPECT_EQ(t.params.size(), network_.store().size());
}

TEST_F(ModelFile, CorruptBytesAreRefusedByTheFrame) {
  const std::string path = dir_.file("model.pb");
  write_model_file(path, message());
  std::vector<uint8_t> bytes = test_files::read_bytes(path);
  bytes[40] ^= 1;
  test_files::write_raw(path, bytes);
  try {
    load_trained_model(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(
        std::string(e.what()),
        path + ": not a valid checkpoint or model file: record at byte 0: payload CRC mismatch");
  }
}

TEST_F(ModelFile, EveryFieldIsChecked) {
  EXPECT_EQ(refusal(message()), "");
  pb::Model m = message();
  m.clear_format_version();
  EXPECT_EQ(refusal(m), "m.pb: no format version; not a model file of this program");
  m = message();
  m.set_format_version(2);
  EXPECT_EQ(refusal(m),
            "m.pb: format version 2 is not one this program reads (1..1); use a newer trainer");
  m = message();
  m.clear_sizes();
  m.add_sizes(3);
  EXPECT_EQ(refusal(m), "m.pb: 1 layer widths; a model has 2 to 65 (inputs, hidden..., outputs)");
  m = message();
  m.set_sizes(1, 0);
  EXPECT_EQ(refusal(m), "m.pb: layer width 1 is 0, outside 1..16777216");
  m = message();
  m.set_sizes(2, 1 << 30);
  EXPECT_EQ(refusal(m), "m.pb: layer width 2 is 1073741824, outside 1..16777216");
  m = message();
  m.clear_activation();
  EXPECT_EQ(refusal(m), "m.pb: no (known) hidden activation");
  m = message();
  m.clear_loss();
  EXPECT_EQ(refusal(m), "m.pb: no (known) loss kind");
  m = message();
  m.set_num_classes(4);
  EXPECT_EQ(refusal(m),
            "m.pb: class count 4 does not fit SOFTMAX_CROSS_ENTROPY with 3 output(s) (expected 3)");
  m = message();
  m.set_loss(pb::LOGISTIC);
  EXPECT_EQ(refusal(m), "m.pb: LOGISTIC needs 1 output, the model has 3");
  m = message();
  m.mutable_params()->pop_back();
  EXPECT_EQ(refusal(m), "m.pb: the parameter vector has 235 bytes, expected 236 (59 floats)");
  m = message();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  m.mutable_params()->replace(8, 4, reinterpret_cast<const char*>(&nan), 4);
  EXPECT_EQ(refusal(m), "m.pb: the parameter vector value 2 is nan, not finite");
  Standardizer s;
  s.mean = Vector<float>::Zero(3);
  s.std = Vector<float>::Ones(3);
  s.std(1) = 0;
  m = message();
  *m.mutable_standardization() = standardization_message(s);
  EXPECT_EQ(refusal(m),
            "m.pb: the standardization std value 1 is 0.000000, not a positive finite number");
  m.mutable_standardization()->set_mean("");
  EXPECT_EQ(refusal(m), "m.pb: the standardization mean has 0 bytes, expected 12 (3 floats)");
  m = message();
  m.add_feature_names("only one");
  EXPECT_EQ(refusal(m), "m.pb: 1 feature names for 3 columns");
  m = message();
  m.add_target_names("y");
  m.add_target_names("z");
  EXPECT_EQ(refusal(m), "m.pb: 2 target names for 1 columns");
}

}  // namespace
}  // namespace mlp
