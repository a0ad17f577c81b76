// `trainer inspect` on crafted checkpoints: every field is outside input, so layout entries that
// wrap around or lie outside the parameters, and optimizer state vectors without names, are
// reported in the description instead of crashing it.
#include "launch/tools/inspect.h"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "core/checkpoint_file.h"
#include "core/packed_floats.h"
#include "tests/launch/process_run.h"

namespace mlp {
namespace {

pb::Checkpoint with_params(size_t floats) {
  pb::Checkpoint c;
  c.set_format_version(kCheckpointFormatVersion);
  const std::vector<float> params(floats, 0.5f);
  c.set_params(pack_floats(params.data(), params.size()));
  return c;
}

std::string inspected(const pb::Checkpoint& c) {
  const std::string path = test::fresh_test_dir("inspect") + "/ckpt.pb";
  write_checkpoint(path, c);
  std::ostringstream out;
  inspect_checkpoint(path, out);
  return out.str();
}

TEST(Inspect, LayoutOutsideTheParametersIsReported) {
  pb::Checkpoint c = with_params(6);
  pb::ParamBlockInfo* fits = c.add_layout();
  fits->set_name("dense0.w");
  fits->set_offset(0);
  fits->set_rows(2);
  fits->set_cols(2);
  // offset * 4 wraps around to 0 in 64 bits.
  pb::ParamBlockInfo* wraps = c.add_layout();
  wraps->set_name("wraps");
  wraps->set_offset(uint64_t{1} << 62);
  wraps->set_rows(1);
  wraps->set_cols(1);
  pb::ParamBlockInfo* negative = c.add_layout();
  negative->set_name("negative");
  negative->set_offset(4);
  negative->set_rows(-1);
  negative->set_cols(-2);
  pb::ParamBlockInfo* too_long = c.add_layout();
  too_long->set_name("too_long");
  too_long->set_offset(4);
  too_long->set_rows(1);
  too_long->set_cols(3);
  const std::string text = inspected(c);
  EXPECT_NE(text.find("dense0.w (2x2)"), std::string::npos) << text;
  for (const char* name : {"wraps", "negative", "too_long"})
    EXPECT_NE(text.find(std::string("  ") + name + ": outside the parameter vector\n"),
              std::string::npos)
        << text;
}

TEST(Inspect, StateVectorsWithoutNamesAreReported) {
  pb::Checkpoint c = with_params(3);
  const std::vector<float> slot(3, 1.0f);
  c.mutable_optimizer()->add_slots(pack_floats(slot.data(), slot.size()));
  c.mutable_optimizer()->add_slots(pack_floats(slot.data(), slot.size()));
  c.mutable_optimizer()->add_slot_names("m");
  const std::string text = inspected(c);
  EXPECT_NE(text.find("  optimizer: 2 state vectors but 1 names\n"), std::string::npos) << text;
  EXPECT_NE(text.find("optimizer m "), std::string::npos) << text;
  EXPECT_NE(text.find("optimizer (unnamed)"), std::string::npos) << text;
}

// A checkpoint of a model with no parameters at all describes empty vectors.
TEST(Inspect, NoParametersAtAll) {
  const std::string text = inspected(with_params(0));
  EXPECT_NE(text.find("all parameters"), std::string::npos) << text;
}

}  // namespace
}  // namespace mlp
