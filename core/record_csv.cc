// CSV tables of flat records; see record_csv.h.
#include "core/record_csv.h"

#include <google/protobuf/descriptor.h>

#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "core/config_fields.h"
#include "core/input_file.h"

namespace mlp {
namespace {

using google::protobuf::FieldDescriptor;

[[noreturn]] void not_a_number(const FieldDescriptor* f) {
  throw std::logic_error("record field " + f->full_name() + " is not a number");
}

std::string cell(const google::protobuf::Message& record, const FieldDescriptor* f, int digits) {
  const google::protobuf::Reflection* r = record.GetReflection();
  if (!r->HasField(record, f)) return "";
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return std::to_string(r->GetInt32(record, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return std::to_string(r->GetInt64(record, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return std::to_string(r->GetUInt32(record, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return std::to_string(r->GetUInt64(record, f));
    default:
      return csv_number(number_field(record, f), digits);
  }
}

// The cells of a line; a line written by csv_row has no quoting to undo.
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream s(line);
  for (std::string text; std::getline(s, text, ',');) out.push_back(text);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

// A line without the carriage return a file from another system may end it with.
bool next_line(std::istream& in, std::string* line) {
  if (!std::getline(in, *line)) return false;
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

}  // namespace

std::string csv_number(double value, int digits) {
  if (!std::isfinite(value)) return "";
  char text[40];
  std::snprintf(text, sizeof text, "%.*g", digits, value);
  return text;
}

std::string csv_text(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

double number_field(const google::protobuf::Message& record, const FieldDescriptor* f) {
  const google::protobuf::Reflection* r = record.GetReflection();
  if (f->is_repeated()) not_a_number(f);
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return r->GetInt32(record, f);
    case FieldDescriptor::CPPTYPE_INT64:
      return static_cast<double>(r->GetInt64(record, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return r->GetUInt32(record, f);
    case FieldDescriptor::CPPTYPE_UINT64:
      return static_cast<double>(r->GetUInt64(record, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return r->GetDouble(record, f);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return r->GetFloat(record, f);
    default:
      not_a_number(f);
  }
}

std::vector<const FieldDescriptor*> present_fields(const google::protobuf::Message& record) {
  const google::protobuf::Descriptor* d = record.GetDescriptor();
  std::vector<const FieldDescriptor*> present;
  for (int i = 0; i < d->field_count(); ++i)
    if (record.GetReflection()->HasField(record, d->field(i))) present.push_back(d->field(i));
  return present;
}

std::string csv_header(const google::protobuf::Descriptor& type) {
  std::string header;
  for (int i = 0; i < type.field_count(); ++i) header += (i ? "," : "") + type.field(i)->name();
  return header;
}

std::string csv_row(const google::protobuf::Message& record, int digits) {
  const google::protobuf::Descriptor* d = record.GetDescriptor();
  std::string row;
  for (int i = 0; i < d->field_count(); ++i)
    row += (i ? "," : "") + cell(record, d->field(i), digits);
  return row;
}

void read_csv_records(const std::string& path, const google::protobuf::Descriptor& type,
                      const std::function<google::protobuf::Message*()>& add) {
  std::string text;
  read_whole_file(path, &text);  // none (yet): no rows
  std::istringstream in(text);
  std::string line;
  if (!next_line(in, &line)) return;
  // The field each column fills; null for a column this build does not know.
  std::vector<const FieldDescriptor*> columns;
  for (const std::string& name : cells(line)) columns.push_back(type.FindFieldByName(name));
  for (int number = 2; next_line(in, &line); ++number) {
    if (line.empty()) continue;
    google::protobuf::Message* record = add();
    const std::vector<std::string> row = cells(line);
    for (size_t c = 0; c < row.size() && c < columns.size(); ++c)
      if (columns[c] && !row[c].empty())
        set_field_from_text(record, columns[c]->name(), row[c],
                            path + ":" + std::to_string(number) + ": " + columns[c]->name());
  }
}

}  // namespace mlp
