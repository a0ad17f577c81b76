// Reading a run folder's JSON records in tests the way any reader should: through protobuf's
// JSON parser into the messages of proto/run_records.proto.
#pragma once

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "proto/run_records.pb.h"
#include "tests/launch/process_run.h"

namespace mlp::test {

// One record from JSON; a record that does not parse fails the test.
template <typename Record>
Record parse_record(const std::string& json) {
  Record record;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &record);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in " << json;
  return record;
}

inline pb::Summary read_summary(const std::string& run_dir) {
  return parse_record<pb::Summary>(slurp(run_dir + "/summary.json"));
}

inline std::vector<pb::Event> read_events(const std::string& run_dir) {
  std::stringstream lines(slurp(run_dir + "/events.jsonl"));
  std::vector<pb::Event> events;
  for (std::string line; std::getline(lines, line);)
    events.push_back(parse_record<pb::Event>(line));
  return events;
}

// A summary's number, NaN for null.
inline double number(const google::protobuf::Value& v) {
  return v.kind_case() == google::protobuf::Value::kNumberValue
             ? v.number_value()
             : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace mlp::test
