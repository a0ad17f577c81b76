// Config reflection: setting fields by dotted path from text (the sweep's axes and the trainer's
// flags), the exact refusal of each bad value, reading a field back as text, an enum field's
// choices, explicit defaults and the config hash, and text files with their error position.
#include "core/config_fields.h"

#include <gtest/gtest.h>

#include <string>

#include "core/errors.h"
#include "proto/config.pb.h"
#include "tests/core/test_files.h"

namespace mlp {
namespace {

std::string set_error(const std::string& path, const std::string& text) {
  pb::TrainConfig c;
  try {
    set_field_from_text(&c, path, text, "--flag");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ConfigFields, SetsNestedFieldsOfEveryKindFromText) {
  pb::TrainConfig c;
  set_field_from_text(&c, "optimizer.lr", "0.25", "--lr");
  set_field_from_text(&c, "optimizer.kind", "Momentum", "--optimizer");
  set_field_from_text(&c, "early_stopping.restore_best", "off", "--restore-best");
  set_field_from_text(&c, "seed", "18446744073709551", "--seed");
  set_field_from_text(&c, "model.hidden", "8,4", "--hidden");
  set_field_from_text(&c, "max_steps", "-0", "--max-steps");
  EXPECT_FLOAT_EQ(c.optimizer().lr(), 0.25f);
  EXPECT_EQ(c.optimizer().kind(), pb::MOMENTUM);
  EXPECT_TRUE(c.early_stopping().has_restore_best());
  EXPECT_FALSE(c.early_stopping().restore_best());
  EXPECT_EQ(c.seed(), 18446744073709551ULL);
  EXPECT_EQ(c.model().hidden(), "8,4");
  EXPECT_TRUE(c.has_max_steps());
  EXPECT_FALSE(c.has_epochs());  // only what was set
}

TEST(ConfigFields, EachBadValueIsOneLineNamingTheLabel) {
  EXPECT_EQ(set_error("model.droput", "0.1"), "no config field named \"model.droput\"");
  EXPECT_EQ(set_error("seed.x", "1"), "config field \"seed.x\" does not name a scalar field");
  EXPECT_EQ(set_error("model", "1"), "--flag: config field \"model\" is a message, not a value");
  EXPECT_EQ(set_error("batch_size", "3000000000"),
            "--flag: 3000000000 is out of range [-2147483648, 2147483647]");
  EXPECT_EQ(set_error("batch_size", " 3"), "--flag: \" 3\" is not an integer");
  EXPECT_EQ(set_error("seed", "-1"), "--flag: -1 is out of range [0, 9223372036854775807]");
  EXPECT_EQ(set_error("optimizer.lr", "1e39"), "--flag: 1e39 does not fit a float");
  EXPECT_EQ(set_error("optimizer.lr", "inf"), "--flag: \"inf\" is not a finite number");
  EXPECT_EQ(set_error("data.standardize", "maybe"), "--flag: \"maybe\" is not true or false");
  EXPECT_EQ(set_error("grad_sync", "ring"), "--flag: \"ring\" is not one of blocking|overlap|sharded");
}

TEST(ConfigFields, FieldTextReadsBackWhatSetAcceptsAndDefaultsWhenUnset) {
  pb::TrainConfig c;
  EXPECT_EQ(field_text(c, "optimizer.kind"), "adam");
  EXPECT_EQ(field_text(c, "optimizer.lr"), "0.001");
  EXPECT_EQ(field_text(c, "data.train_csv"), "");
  EXPECT_EQ(field_text(c, "checkpoint_every_epoch"), "true");
  EXPECT_FALSE(c.has_optimizer());  // reading does not create sub-messages
  for (const auto& [path, text] : {std::pair<std::string, std::string>{"progress", "none"},
                                   {"optimizer.lr", "0.5"},
                                   {"batch_size", "7"}}) {
    set_field_from_text(&c, path, text, path);
    EXPECT_EQ(field_text(c, path), text);
  }
}

TEST(ConfigFields, ChoicesComeFromTheEnumsValueNames) {
  const auto& type = *pb::TrainConfig::descriptor();
  EXPECT_EQ(field_choices(type, "optimizer.kind"), "sgd|momentum|adam");
  EXPECT_EQ(field_choices(type, "model.activation"), "relu|tanh|sigmoid|identity");
  EXPECT_EQ(field_choices(type, "optimizer.lr"), "");
  EXPECT_THROW(field_choices(type, "optimizer.rate"), UsageError);
  EXPECT_THROW(field_choices(type, "seed.x"), UsageError);
}

TEST(ConfigFields, FilledDefaultsMakeEqualConfigsHashEqual) {
  pb::TrainConfig implicit, explicit_lr;
  explicit_lr.mutable_optimizer()->set_lr(0.001f);
  EXPECT_NE(message_hash(implicit), message_hash(explicit_lr));
  fill_defaults(&implicit);
  fill_defaults(&explicit_lr);
  EXPECT_TRUE(implicit.has_batch_size());
  EXPECT_TRUE(implicit.early_stopping().has_patience());
  EXPECT_EQ(to_text(implicit), to_text(explicit_lr));
  EXPECT_EQ(message_hash(implicit), message_hash(explicit_lr));
  explicit_lr.set_seed(2);
  EXPECT_NE(message_hash(implicit), message_hash(explicit_lr));
}

TEST(ConfigFields, TextFilesRoundTripAndErrorsNameTheirPosition) {
  test_files::TempDir dir;
  pb::TrainConfig c;
  c.set_epochs(3);
  c.mutable_model()->set_hidden("5");
  const std::string good = test_files::write_text(dir.file("good.txt"), to_text(c));
  pb::TrainConfig back;
  read_text_file(good, &back);
  EXPECT_EQ(to_text(back), to_text(c));

  const std::string bad =
      test_files::write_text(dir.file("bad.txt"), "epochs: 3\nmodel { x: 1 }\n");
  try {
    read_text_file(bad, &back);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.what(),
              bad + ":2:10: Message type \"mlp.pb.ModelConfig\" has no field named \"x\".");
  }
  EXPECT_THROW(read_text_file(dir.file("missing.txt"), &back), UsageError);
  // A folder opens but does not read: refused, not taken for an empty config.
  try {
    read_text_file(dir.path(), &back);
    FAIL() << "no error for a folder";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.what(), "--config: cannot open " + dir.path());
  }
}

}  // namespace
}  // namespace mlp
