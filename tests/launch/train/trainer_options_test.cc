// Flag parsing: precedence (defaults < --config < flags), every default explicit, one clear
// error naming the flag for each kind of bad value, and the flags another command shares.
#include "launch/train/trainer_options.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config_fields.h"
#include "core/errors.h"

namespace mlp {
namespace {

TrainerArgs parse(std::vector<const char*> args) {
  args.insert(args.begin(), "trainer");
  return parse_trainer_args(static_cast<int>(args.size()), args.data());
}

std::string parse_error(std::vector<const char*> args) {
  try {
    parse(std::move(args));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

TEST(TrainerOptions, DefaultsComeFromTheProtoAndAreExplicit) {
  const pb::TrainConfig c = parse({}).config;
  EXPECT_TRUE(c.has_batch_size());
  EXPECT_EQ(c.batch_size(), 128);
  EXPECT_EQ(c.model().hidden(), "256,128");
  EXPECT_EQ(c.optimizer().kind(), pb::ADAM);
  EXPECT_FLOAT_EQ(c.optimizer().lr(), 0.001f);
  EXPECT_TRUE(c.data().has_val_fraction());
}

TEST(TrainerOptions, FlagsSetTheirFields) {
  const pb::TrainConfig c =
      parse({"--hidden", "", "--optimizer", "momentum", "--nesterov", "--lr", "0.5", "--batch-size",
             "7", "--activation", "TANH", "--loss", "perceptron", "--seed", "42"})
          .config;
  EXPECT_EQ(c.model().hidden(), "");
  EXPECT_EQ(c.optimizer().kind(), pb::MOMENTUM);
  EXPECT_TRUE(c.optimizer().nesterov());
  EXPECT_FLOAT_EQ(c.optimizer().lr(), 0.5f);
  EXPECT_EQ(c.batch_size(), 7);
  EXPECT_EQ(c.model().activation(), pb::TANH);
  EXPECT_EQ(c.model().loss(), pb::PERCEPTRON);
  EXPECT_EQ(c.seed(), 42u);
}

TEST(TrainerOptions, FlagsOverrideTheConfigFileWhichOverridesDefaults) {
  const std::string path = testing::TempDir() + "/precedence.txt";
  std::ofstream(path) << "batch_size: 64\nepochs: 3\noptimizer { lr: 0.01 kind: SGD }\n";
  const pb::TrainConfig c = parse({"--config", path.c_str(), "--epochs", "5"}).config;
  EXPECT_EQ(c.batch_size(), 64);
  EXPECT_EQ(c.epochs(), 5);
  EXPECT_EQ(c.optimizer().kind(), pb::SGD);
  EXPECT_FLOAT_EQ(c.optimizer().lr(), 0.01f);
  EXPECT_FLOAT_EQ(c.optimizer().beta1(), 0.9f);
}

TEST(TrainerOptions, HelpListsEveryFlagDefaultAndExitCode) {
  const TrainerArgs a = parse({"--help"});
  ASSERT_TRUE(a.help);
  for (const char* text : {"--batch-size", "(=128)", "--lr", "(=0.001)", "--hidden", "(=256,128)",
                           "--data-dir", "--train-csv", "75  stopped by SIGUSR1",
                           "update rule: sgd|momentum|adam", "blocking|overlap|sharded"})
    EXPECT_NE(a.help_text.find(text), std::string::npos) << text;
}

TEST(TrainerOptions, BadValuesNameTheFlag) {
  EXPECT_EQ(parse_error({"--lr", "abc"}), "--lr: \"abc\" is not a number");
  EXPECT_EQ(parse_error({"--lr", "nan"}), "--lr: \"nan\" is not a finite number");
  EXPECT_EQ(parse_error({"--lr", "-1"}), "--lr: must be a positive number");
  EXPECT_EQ(parse_error({"--batch-size", "0"}), "--batch-size: must be a positive integer, got 0");
  EXPECT_EQ(parse_error({"--batch-size", "-3"}),
            "--batch-size: must be a positive integer, got -3");
  EXPECT_EQ(parse_error({"--batch-size", "1.5"}), "--batch-size: \"1.5\" is not an integer");
  EXPECT_EQ(parse_error({"--epochs", "99999999999"}),
            "--epochs: 99999999999 is out of range [-2147483648, 2147483647]");
  EXPECT_EQ(parse_error({"--activation", "swish"}),
            "--activation: \"swish\" is not one of relu|tanh|sigmoid|identity");
  EXPECT_EQ(parse_error({"--optimizer", "rmsprop"}),
            "--optimizer: \"rmsprop\" is not one of sgd|momentum|adam");
  EXPECT_EQ(parse_error({"--val-fraction", "1"}), "--val-fraction: must be in [0, 1)");
  EXPECT_EQ(parse_error({"--momentum", "1.5"}), "--momentum: must be in [0, 1)");
  EXPECT_EQ(parse_error({"--nesterov", "maybe"}), "--nesterov: \"maybe\" is not true or false");
  EXPECT_EQ(parse_error({"--test-csv", "t.csv"}), "--test-csv: needs --train-csv as well");
  EXPECT_EQ(parse_error({"--exact-blocks", "-1"}),
            "--exact-blocks: must be in [0, --batch-size 128], got -1");
  EXPECT_EQ(parse_error({"--exact-blocks", "9", "--batch-size", "8"}),
            "--exact-blocks: must be in [0, --batch-size 8], got 9");
  EXPECT_NE(parse_error({"--hidden", "12,x"}).find("--hidden: "), std::string::npos);
  EXPECT_NE(parse_error({"--hidden", "12,0"}).find("--hidden: "), std::string::npos);
  EXPECT_EQ(parse_error({"--bogus"}), "unrecognised option '--bogus' (see --help)");
  EXPECT_EQ(parse_error({"--lr"}),
            "the required argument for option '--lr' is missing (see --help)");
}

TEST(TrainerOptions, ConfigFileErrorsNameFileLineAndColumn) {
  const std::string path = testing::TempDir() + "/bad_config.txt";
  std::ofstream(path) << "epochs: 3\nbatch_size: \"many\"\n";
  const std::string error = parse_error({"--config", path.c_str()});
  EXPECT_EQ(error.rfind(path + ":2:13: ", 0), 0u) << error;
  EXPECT_EQ(parse_error({"--config", "/nonexistent/cfg.txt"}),
            "--config: cannot open /nonexistent/cfg.txt");
  std::ofstream(path) << "no_such_field: 1\n";
  EXPECT_NE(parse_error({"--config", path.c_str()}).find("no_such_field"), std::string::npos);
}

// Protobuf's parse errors quote the token at fault in full; the line keeps its reason.
TEST(TrainerOptions, ConfigErrorsQuotingHugeInputStayShort) {
  const std::string path = testing::TempDir() + "/huge_token_config.txt";
  std::ofstream(path) << "epochs: 3\n" << std::string(100000, 'x') << ": 1\n";
  const std::string error = parse_error({"--config", path.c_str()});
  EXPECT_EQ(error.rfind(path + ":2:", 0), 0u) << error.substr(0, 300);
  EXPECT_LT(error.size(), 400u);
  std::ofstream(path) << "model { hidden: \"" << std::string(100000, '7') << "\" }\n";
  EXPECT_EQ(parse_error({"--config", path.c_str()}),
            "--hidden: \"" + std::string(60, '7') +
                "...\" (100000 characters) is not a list of positive integers");
  std::ofstream(path) << "optimizer { lr: " << std::string(5000, '1') << " }\n";
  EXPECT_LT(parse_error({"--config", path.c_str()}).size(), 400u);
}

namespace po = boost::program_options;

// Another command's flags taken from the trainer's table: its own help text where it gives one,
// the trainer's default, conversion and errors, and only given flags change their fields.
TEST(SharedFlags, DeclaredAndReadAsTheTrainerDoes) {
  const std::vector<SharedFlag> shared = {
      {"test-csv", "labelled CSV"}, {"csv-header"}, {"csv-targets"}, {"test-limit"}};
  po::options_description options("evaluate");
  add_trainer_flags(shared, &options);
  std::ostringstream help;
  help << options;
  for (const char* text : {"labelled CSV", "the CSV files start with a header line", "(=1)"})
    EXPECT_NE(help.str().find(text), std::string::npos) << text << "\n" << help.str();
  EXPECT_EQ(help.str().find("same layout as --train-csv"), std::string::npos) << help.str();

  const auto read = [&](std::vector<const char*> args) {
    args.insert(args.begin(), "evaluate");
    po::variables_map vm;
    po::store(po::parse_command_line(static_cast<int>(args.size()), args.data(), options), vm);
    pb::TrainConfig config;
    fill_defaults(&config);
    config.mutable_data()->set_csv_targets(7);  // not given below: kept
    set_trainer_flags(shared, vm, &config);
    return config;
  };
  const pb::TrainConfig c = read({"--test-csv", "t.csv", "--csv-header", "--test-limit", "5"});
  EXPECT_EQ(c.data().test_csv(), "t.csv");
  EXPECT_TRUE(c.data().csv_header());
  EXPECT_EQ(c.data().test_limit(), 5);
  EXPECT_EQ(c.data().csv_targets(), 7);
  try {
    read({"--csv-targets", "x"});
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--csv-targets: \"x\" is not an integer");
  }
  EXPECT_THROW(add_trainer_flags({{"no-such-flag"}}, &options), std::logic_error);
}

TEST(SharedFlags, DataChecksAreTheTrainers) {
  pb::DataConfig data;
  fill_defaults(&data);
  EXPECT_NO_THROW(validate_data_config(data));
  data.set_test_limit(-1);
  try {
    validate_data_config(data);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--test-limit: must be non-negative");
  }
  EXPECT_EQ(parse_error({"--test-limit", "-1"}), "--test-limit: must be non-negative");
}

}  // namespace
}  // namespace mlp
