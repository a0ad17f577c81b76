// The trainer's command line: Boost.Program_options flags, each mapped onto a field of the
// TrainConfig proto. Precedence: the proto's defaults, then --config FILE, then flags given.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace mlp {

struct TrainerArgs {
  pb::TrainConfig config;  // every field explicit (fill_defaults applied) and validated
  bool help = false;       // --help was given; help_text holds the listing
  std::string help_text;
};

// Parses argv (without the program name's subcommands). Throws UsageError with one line naming
// the flag or config field at fault.
TrainerArgs parse_trainer_args(int argc, const char* const* argv);

// Checks ranges that do not depend on the data (sizes positive, rates finite and in range,
// hidden sizes parse). Throws UsageError naming the flag.
void validate_config(const pb::TrainConfig& config);

// validate_config's checks of the data flags alone (--val-fraction, --csv-targets,
// --train-limit, --test-limit), for a command that takes them without a whole run's config.
void validate_data_config(const pb::DataConfig& data);

// A flag of the trainer's that another command takes too (evaluate reads its data as a run reads
// its test set): its value, default, conversion and errors are the trainer's; help says what it
// means to that command (null: the trainer's text).
struct SharedFlag {
  const char* name;  // as in the trainer's table, without the leading dashes
  const char* help = nullptr;
};

// Declares the flags in options as the trainer declares them. Throws std::logic_error for a
// name the trainer does not have.
void add_trainer_flags(const std::vector<SharedFlag>& flags,
                       boost::program_options::options_description* options);

// Sets the fields of config whose flags vm holds from the command line (not defaulted), as the
// trainer does. Throws UsageError "--flag: why" for a value the field cannot take.
void set_trainer_flags(const std::vector<SharedFlag>& flags,
                       const boost::program_options::variables_map& vm, pb::TrainConfig* config);

// The table of exit codes, as printed by --help and documented in the README.
std::string exit_codes_text();

}  // namespace mlp
