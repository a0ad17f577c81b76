// The trainer's command line: Boost.Program_options flags, each mapped onto a field of the
// TrainConfig proto. Precedence: the proto's defaults, then --config FILE, then flags given.
#pragma once

#include <string>

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

// The table of exit codes, as printed by --help and documented in the README.
std::string exit_codes_text();

}  // namespace mlp
