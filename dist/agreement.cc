// Agreement checks over allgather and allreduce; see agreement.h.
#include "dist/agreement.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace mlp {

void check_same_on_all_ranks(Communicator& comm, const std::string& what, uint64_t value) {
  std::vector<uint64_t> all(comm.size());
  comm.allgather(&value, sizeof value, all.data());
  bool same = true;
  for (uint64_t v : all) same = same && v == all[0];
  if (same) return;
  std::string message = "ranks disagree on " + what + ":";
  for (int r = 0; r < comm.size(); ++r) {
    char text[48];
    std::snprintf(text, sizeof text, " rank %d has %016llx%s", r,
                  static_cast<unsigned long long>(all[r]), r + 1 < comm.size() ? "," : "");
    message += text;
  }
  message += "; start every rank with the same config and data";
  throw AgreedError(ExitCode::kRankMismatch, message);
}

void raise_if_any_rank_failed(Communicator& comm, const Error* local_error) {
  // A fixed-size record per rank: exit code, then the message, cut to fit.
  struct Record {
    int32_t code;
    char message[1020];
  };
  Record mine{};
  if (local_error) {
    mine.code = static_cast<int32_t>(local_error->code());
    // An over-long line keeps its start (where) and its end (what would fix it).
    std::string text = local_error->what();
    const size_t room = sizeof mine.message - 1;
    if (text.size() > room)
      text =
          text.substr(0, room / 2 - 3) + " ... " + text.substr(text.size() - (room - room / 2 - 2));
    std::strncpy(mine.message, text.c_str(), room);
  }
  std::vector<Record> all(comm.size());
  comm.allgather(&mine, sizeof mine, all.data());
  int first = -1, failed = 0;
  for (int r = 0; r < comm.size(); ++r) {
    if (all[r].code == 0) continue;
    if (first < 0) first = r;
    ++failed;
  }
  if (first < 0) return;
  std::string message = all[first].message;
  if (failed < comm.size()) message = "rank " + std::to_string(first) + ": " + message;
  throw AgreedError(static_cast<ExitCode>(all[first].code), message);
}

bool any_rank(Communicator& comm, bool flag) {
  int64_t value = flag ? 1 : 0;
  comm.allreduce_max(&value, 1);
  return value != 0;
}

void run_on_all_or_fail_together(Communicator& comm, const std::function<void()>& work) {
  try {
    work();
  } catch (const Error& e) {
    raise_if_any_rank_failed(comm, &e);
    return;
  }
  raise_if_any_rank_failed(comm, nullptr);
}

}  // namespace mlp
