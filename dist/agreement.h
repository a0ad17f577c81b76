// Agreement across ranks: the checks that turn a silent fork (ranks with different configs,
// data or parameters) or a one-rank failure into one error that every rank raises together.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/errors.h"
#include "dist/communicator.h"

namespace mlp {

// An error that every rank raised together, so rank 0's report of it is the only one needed.
struct AgreedError : Error {
  AgreedError(ExitCode code, const std::string& message) : Error(code, message) {}
};

// Every rank passes its value; when they differ, every rank throws AgreedError(kRankMismatch)
// "ranks disagree on <what>: rank 0 has 0x.., rank 2 has 0x..". Collective.
void check_same_on_all_ranks(Communicator& comm, const std::string& what, uint64_t value);

// Every rank passes the error it caught (or nullptr). When any rank failed, every rank throws
// an AgreedError with the failure of the lowest failing rank (its code; its message, prefixed by
// "rank R: " when ranks differ in outcome), so all ranks stop together with one message.
// Collective.
void raise_if_any_rank_failed(Communicator& comm, const Error* local_error);

// Runs `work` on this rank (it may do nothing on some), catching the Error it throws, then
// raise_if_any_rank_failed: a failure on any rank stops every rank together. Collective.
void run_on_all_or_fail_together(Communicator& comm, const std::function<void()>& work);

// True on every rank when `flag` is true on any rank. Collective.
bool any_rank(Communicator& comm, bool flag);

}  // namespace mlp
