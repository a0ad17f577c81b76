// CSV tables of flat records (messages of number fields, such as pb::EpochMetrics) by protobuf
// reflection: one column per field in field order, named as the field, an absent field an empty
// cell. The trainer writes metrics.csv with it and the sweep report reads it back, so a field
// added to the record is a column of both without another edit.
#pragma once

#include <google/protobuf/message.h>

#include <functional>
#include <string>
#include <vector>

namespace mlp {

// A real as a CSV cell: `digits` significant digits (%g), empty when not finite.
std::string csv_number(double value, int digits);

// A text as a CSV cell: as it is, or quoted (quotes doubled) when it holds a comma, a quote or a
// line end (hidden sizes such as "100,10" do).
std::string csv_text(const std::string& text);

// The value of the number field f of `record` as a double (its default when absent). Throws
// std::logic_error for a field that is not a number (a record is numbers only).
double number_field(const google::protobuf::Message& record,
                    const google::protobuf::FieldDescriptor* f);

// The fields of `record` that are present, in field order (the order of the .proto file, which
// csv_header follows too).
std::vector<const google::protobuf::FieldDescriptor*> present_fields(
    const google::protobuf::Message& record);

// The field names of `type` in field order, comma separated, without a line end.
std::string csv_header(const google::protobuf::Descriptor& type);

// The fields of `record` in csv_header's order, without a line end: integers in full, reals with
// csv_number's `digits`; a field that is absent is an empty cell. Throws std::logic_error for a
// field that is not a number.
std::string csv_row(const google::protobuf::Message& record, int digits);

// Reads the CSV file at `path`, a header line and then rows written by csv_row for records of
// `type`, by an earlier or later writer too: columns are matched to fields by name, a column that
// names no field is skipped, and a field stays absent when it has no column, its cell is empty or
// the row is short. add() returns the record to fill with each row, in file order. A file that
// is missing or cannot be read has no rows. Throws UsageError "path:line: column: why" naming a
// cell that is not a number of its field's type (as set_field_from_text reads it).
void read_csv_records(const std::string& path, const google::protobuf::Descriptor& type,
                      const std::function<google::protobuf::Message*()>& add);

// read_csv_records into a vector of Record, a generated message type.
template <typename Record>
std::vector<Record> read_csv_records(const std::string& path) {
  std::vector<Record> records;
  read_csv_records(path, *Record::descriptor(),
                   [&records]() -> google::protobuf::Message* { return &records.emplace_back(); });
  return records;
}

}  // namespace mlp
