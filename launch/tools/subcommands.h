// The trainer's subcommands besides training (`trainer NAME ...`): each parses its own flags,
// returns the process exit code, and throws Error for bad input (reported by main as one line).
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace mlp {

struct Subcommand {
  const char* name;
  int (*run)(int argc, char** argv);  // argv[1] is the name
  const char* summary;                // one line for trainer --help
};

// evaluate, predict, export, inspect.
const std::vector<Subcommand>& subcommands();

// The subcommands and their summaries, as trainer --help lists them.
std::string subcommands_text();

int evaluate_command(int argc, char** argv);
int predict_command(int argc, char** argv);
int export_command(int argc, char** argv);
int inspect_command(int argc, char** argv);

// Parses argv[2..] against options (positional names optional). Returns false after printing
// `usage` and the options when --help was given. Throws UsageError "trainer NAME: what".
bool parse_subcommand_flags(
    int argc, char** argv, const std::string& usage,
    boost::program_options::options_description& options, boost::program_options::variables_map* vm,
    const boost::program_options::positional_options_description& positional = {});

}  // namespace mlp
