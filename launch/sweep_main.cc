// Entry point of `sweep`: plan a hyperparameter sweep from a spec, run it locally under mpirun
// (resumable), write it as a SLURM job array, or report its results. Errors end with one line
// on stderr and the project's exit codes.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>

#include "core/errors.h"
#include "launch/sweep/halving.h"
#include "launch/sweep/halving_report.h"
#include "launch/sweep/ledger.h"
#include "launch/sweep/plan.h"
#include "launch/sweep/report.h"
#include "launch/sweep/runner.h"
#include "launch/sweep/slurm.h"

namespace {

namespace po = boost::program_options;

const char kUsage[] =
    "usage: sweep plan SPEC --out DIR       expand a SweepSpec into DIR/trials/<id>/config.txt\n"
    "       sweep run DIR [options]         run the trials under mpirun; re-run to resume\n"
    "       sweep slurm DIR [options]       write DIR/sweep.sbatch, one array task per trial\n"
    "                                       (successive halving: one allocation running `run`)\n"
    "       sweep report DIR [options]      write trials.csv, epochs.csv, summary.csv (rungs.csv\n"
    "                                       under successive halving) and plots\n"
    "       sweep COMMAND --help            options of a command\n";

const char kDirHelp[] = "the sweep folder written by `sweep plan`";

// This binary's path, or "sweep" when /proc does not tell.
std::string self_path() {
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "sweep";
  self[n] = '\0';
  return self;
}

// The trainer installed next to this binary (the build puts both in one folder).
std::string default_trainer() {
  const std::filesystem::path sibling =
      std::filesystem::path(self_path()).parent_path() / "trainer";
  return std::filesystem::exists(sibling) ? sibling.string() : "trainer";
}

struct Command {
  po::options_description options;
  po::positional_options_description positional;
  po::variables_map vm;
};

// Parses a command's arguments; returns false (help printed) when --help was given. The operand
// is parsed as a hidden option so that help lists it in the usage line, not as --OPERAND.
bool parse(int argc, char** argv, const std::string& name, const std::string& operand,
           const std::string& operand_help, Command* c) {
  c->options.add_options()("help,h", "print this help");
  po::options_description all;
  all.add(c->options).add_options()(operand.c_str(), po::value<std::string>());
  c->positional.add(operand.c_str(), 1);
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(c->positional).run(),
              c->vm);
  } catch (const po::error& e) {
    throw mlp::UsageError("sweep " + name + ": " + e.what() + " (see sweep " + name + " --help)");
  }
  if (c->vm.count("help")) {
    std::cout << "usage: sweep " << name << " " << operand << " [options]\n"
              << "  " << operand << ": " << operand_help << "\n\n"
              << c->options;
    return false;
  }
  if (!c->vm.count(operand))
    throw mlp::UsageError("sweep " + name + ": missing " + operand + " (see sweep " + name +
                          " --help)");
  return true;
}

int plan(int argc, char** argv) {
  Command c{po::options_description("sweep plan options"), {}, {}};
  c.options.add_options()("out", po::value<std::string>()->value_name("DIR"),
                          "sweep folder to write (required)");
  if (!parse(argc, argv, "plan", "SPEC", "the sweep spec (text-format SweepSpec)", &c)) return 0;
  if (!c.vm.count("out")) throw mlp::UsageError("sweep plan: --out DIR is required");
  const std::string dir = c.vm["out"].as<std::string>();
  const mlp::pb::SweepSpec spec = mlp::read_sweep_spec(c.vm["SPEC"].as<std::string>());
  int duplicates = 0;
  const mlp::pb::SweepLedger ledger = mlp::write_sweep_plan(spec, dir, &duplicates);
  std::set<std::string> configs;
  for (const mlp::pb::TrialRecord& t : ledger.trial()) configs.insert(t.config_id());
  std::printf("planned %d trials (%zu configurations) in %s; see %s/plan.txt\n",
              ledger.trial_size(), configs.size(), dir.c_str(), dir.c_str());
  if (duplicates > 0)
    std::printf("%d drawn configurations repeated an earlier one and were kept once\n", duplicates);
  if (ledger.has_halving())
    std::printf("successive halving, reduction factor %d: rungs of %s%s\n",
                ledger.halving().reduction_factor(), mlp::rungs_text(ledger).c_str(),
                ledger.rung_epochs_size() == 1
                    ? " (one rung: min_epochs reaches the budget, so nothing is stopped early)"
                    : "");
  for (const mlp::pb::TrialRecord& t : ledger.trial()) {
    std::printf("  %s  %-8s seed %-4llu", t.id().c_str(), mlp::state_name(t.state()).c_str(),
                static_cast<unsigned long long>(t.seed()));
    for (int i = 0; i < ledger.axis_field_size(); ++i)
      std::printf("  %s=%s", ledger.axis_field(i).c_str(),
                  mlp::show_input(t.axis_value(i)).c_str());
    std::printf("\n");
  }
  return 0;
}

int run(int argc, char** argv) {
  Command c{po::options_description("sweep run options"), {}, {}};
  mlp::SweepRunOptions o;
  c.options.add_options()(
      "retries", po::value<int>(&o.retries)->default_value(o.retries),
      "failures a trial may have; it is tried again until it has failed R times "
      "(interruptions and rungs of successive halving do not count)")(
      "max-ranks", po::value<int>(&o.max_ranks)->default_value(0),
      "ranks in use at once (0: the spec's max_ranks, else the number of cores)")(
      "trial-timeout", po::value<double>(&o.trial_timeout)->default_value(0),
      "seconds an attempt may run before it is ended and counted failed (0: no limit)")(
      "trainer", po::value<std::string>(&o.trainer)->default_value(default_trainer()),
      "trainer binary")("mpirun", po::value<std::string>(&o.mpirun)->default_value(o.mpirun),
                        "mpirun binary");
  if (!parse(argc, argv, "run", "DIR", kDirHelp, &c)) return 0;
  po::notify(c.vm);
  return mlp::run_sweep(c.vm["DIR"].as<std::string>(), o);
}

int slurm(int argc, char** argv) {
  Command c{po::options_description("sweep slurm options"), {}, {}};
  mlp::SlurmOptions o;
  c.options.add_options()("partition", po::value<std::string>(&o.partition), "SLURM partition")(
      "time", po::value<std::string>(&o.time)->default_value(o.time),
      "time limit of one trial (successive halving: of the allocation) in SLURM's format "
      "(minutes, HH:MM:SS, D-HH:MM:SS, ...)")(
      "max-ranks", po::value<int>(&o.max_ranks)->default_value(0),
      "ranks in use at once over the array (0: the spec's max_ranks; 0 there: no throttle); "
      "successive halving: the ranks of its one allocation, required")(
      "signal-seconds", po::value<int>(&o.signal_seconds)->default_value(o.signal_seconds),
      "seconds before the time limit at which the trainer is told to checkpoint; below --time "
      "(0: a tenth of --time, at most 600)")(
      "trainer", po::value<std::string>(&o.trainer)->default_value(default_trainer()),
      "trainer binary as seen from the compute nodes")(
      "sweep", po::value<std::string>(&o.sweep)->default_value(self_path()),
      "sweep binary as seen from the compute nodes (successive halving)");
  if (!parse(argc, argv, "slurm", "DIR", kDirHelp, &c)) return 0;
  po::notify(c.vm);
  o.trainer = std::filesystem::absolute(o.trainer).string();
  o.sweep = std::filesystem::absolute(o.sweep).string();
  const std::string dir = c.vm["DIR"].as<std::string>();
  if (mlp::read_ledger(dir).has_halving()) {
    const int ranks = mlp::write_halving_slurm_script(dir, o);
    std::printf(
        "wrote %s/sweep.sbatch (successive halving: one allocation of %d ranks running `sweep "
        "run`); submit with: sbatch %s/sweep.sbatch\n",
        dir.c_str(), ranks, dir.c_str());
    return 0;
  }
  const int tasks = mlp::write_slurm_script(dir, o);
  std::printf(
      "wrote %s/sweep.sbatch (%d array tasks) and %s/trials.list; submit with: sbatch "
      "%s/sweep.sbatch\n",
      dir.c_str(), tasks, dir.c_str(), dir.c_str());
  return 0;
}

int report(int argc, char** argv) {
  Command c{po::options_description("sweep report options"), {}, {}};
  mlp::ReportOptions o;
  c.options.add_options()(
      "plot-script", po::value<std::string>(&o.plot_script)->default_value(MLP_PLOT_SCRIPT),
      "plotting script run as `python3 SCRIPT DIR`")("no-plots", "skip the plots");
  if (!parse(argc, argv, "report", "DIR", kDirHelp, &c)) return 0;
  po::notify(c.vm);
  if (c.vm.count("no-plots")) o.plot_script.clear();
  mlp::write_sweep_report(c.vm["DIR"].as<std::string>(), o, stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? static_cast<int>(mlp::ExitCode::kUsage) : 0;
  }
  const std::string command = argv[1];
  try {
    // Each command parses the arguments after its name.
    if (command == "plan") return plan(argc - 1, argv + 1);
    if (command == "run") return run(argc - 1, argv + 1);
    if (command == "slurm") return slurm(argc - 1, argv + 1);
    if (command == "report") return report(argc - 1, argv + 1);
    throw mlp::UsageError("unknown command \"" + command +
                          "\"; commands: plan, run, slurm, report (see sweep --help)");
  } catch (const mlp::Error& e) {
    std::fprintf(stderr, "sweep: error: %s\n", e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sweep: error: %s\n", e.what());
    return 1;
  }
}
