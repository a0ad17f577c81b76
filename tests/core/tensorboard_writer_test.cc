// TensorBoard event files parse back with the project's reader, every record's CRC verifies,
// and the wire format matches TensorFlow's Event (checked on raw bytes of a known event).
#include "core/tensorboard_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "proto/tensorboard.pb.h"

namespace mlp {
namespace {

TEST(TensorBoardWriter, ScalarsRoundTripWithVerifiedCrcs) {
  const std::string dir = testing::TempDir() + "/tb_round_trip";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path;
  {
    TensorBoardWriter writer(dir);
    path = writer.path();
    writer.add_scalars(1, {{"loss/train", 0.5}, {"accuracy/train", 0.75}});
    writer.add_scalars(2, {{"loss/train", 0.25}});
  }
  EXPECT_NE(std::filesystem::path(path).filename().string().find("events.out.tfevents."),
            std::string::npos);
  const std::vector<ScalarEvent> s = read_tensorboard_scalars(path);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].step, 1);
  EXPECT_EQ(s[0].tag, "loss/train");
  EXPECT_EQ(s[0].value, 0.5f);
  EXPECT_EQ(s[1].tag, "accuracy/train");
  EXPECT_EQ(s[2].step, 2);
  EXPECT_EQ(s[2].value, 0.25f);

  // A flipped byte anywhere is caught by a CRC (or leaves a non-Event record).
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  bytes[bytes.size() - 10] ^= 0x40;
  std::ofstream(path, std::ios::binary) << bytes;
  EXPECT_THROW(read_tensorboard_scalars(path), std::runtime_error);
}

TEST(TensorBoardWriter, EventWireFormatUsesTensorFlowFieldNumbers) {
  tb::Event e;
  e.set_step(3);
  tb::SummaryValue* v = e.mutable_summary()->add_value();
  v->set_tag("a");
  v->set_simple_value(1.0f);
  // step: field 2 varint; summary: field 5 bytes { value: field 1 { tag: 1 "a", simple_value: 2
  // float } }
  const std::string expected(
      "\x10\x03\x2a\x0a\x0a\x08\x0a\x01"
      "a"
      "\x15\x00\x00\x80\x3f",
      14);
  EXPECT_EQ(e.SerializeAsString(), expected);
}

}  // namespace
}  // namespace mlp
