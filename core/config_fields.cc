// Reflection helpers behind the trainer's flags and the sweep's axes.
#include "core/config_fields.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "core/errors.h"
#include "core/hash.h"
#include "core/input_file.h"

namespace mlp {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Walks all but the last component of path, creating sub-messages; returns the leaf's owner.
Message* owner_of(Message* msg, const std::string& path, const FieldDescriptor** leaf) {
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    const std::string name = path.substr(start, dot == std::string::npos ? dot : dot - start);
    const FieldDescriptor* field = msg->GetDescriptor()->FindFieldByName(name);
    if (!field) throw UsageError("no config field named " + quote_input(path));
    if (dot == std::string::npos) {
      *leaf = field;
      return msg;
    }
    if (field->type() != FieldDescriptor::TYPE_MESSAGE || field->is_repeated())
      throw UsageError("config field " + quote_input(path) + " does not name a scalar field");
    msg = msg->GetReflection()->MutableMessage(msg, field);
    start = dot + 1;
  }
}

std::string quoted(const std::string& text) { return quote_input(text); }

// A number that parsed but does not fit, as written when short (a long one is cut like any
// quoted input).
std::string number_shown(const std::string& text) {
  return text.size() <= 60 ? text : quote_input(text);
}

long long parse_integer(const std::string& text, long long lo, long long hi,
                        const std::string& label) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE ||
      std::isspace(static_cast<unsigned char>(text[0])))
    throw UsageError(label + ": " + quoted(text) + " is not an integer");
  if (value < lo || value > hi)
    throw UsageError(label + ": " + std::to_string(value) + " is out of range [" +
                     std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return value;
}

double parse_real(const std::string& text, const std::string& label) {
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || std::isspace(static_cast<unsigned char>(text[0])))
    throw UsageError(label + ": " + quoted(text) + " is not a number");
  if (!std::isfinite(value) || errno == ERANGE)
    throw UsageError(label + ": " + quoted(text) + " is not a finite number");
  return value;
}

std::string enum_choices(const FieldDescriptor* field) {
  std::string out;
  for (int i = 0; i < field->enum_type()->value_count(); ++i)
    out += (i ? "|" : "") + lower(field->enum_type()->value(i)->name());
  return out;
}

}  // namespace

void set_field_from_text(Message* msg, const std::string& path, const std::string& text,
                         const std::string& label) {
  const FieldDescriptor* field = nullptr;
  Message* owner = owner_of(msg, path, &field);
  const Reflection* r = owner->GetReflection();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      r->SetInt32(owner, field,
                  static_cast<int32_t>(parse_integer(text, std::numeric_limits<int32_t>::min(),
                                                     std::numeric_limits<int32_t>::max(), label)));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      r->SetInt64(owner, field,
                  parse_integer(text, std::numeric_limits<int64_t>::min(),
                                std::numeric_limits<int64_t>::max(), label));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64: {
      const long long v = parse_integer(text, 0, std::numeric_limits<long long>::max(), label);
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_UINT32) {
        if (v > std::numeric_limits<uint32_t>::max())
          throw UsageError(label + ": " + number_shown(text) + " is out of range");
        r->SetUInt32(owner, field, static_cast<uint32_t>(v));
      } else {
        r->SetUInt64(owner, field, static_cast<uint64_t>(v));
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      const double v = parse_real(text, label);
      if (std::fabs(v) > std::numeric_limits<float>::max())
        throw UsageError(label + ": " + number_shown(text) + " does not fit a float");
      r->SetFloat(owner, field, static_cast<float>(v));
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
      r->SetDouble(owner, field, parse_real(text, label));
      break;
    case FieldDescriptor::CPPTYPE_BOOL: {
      const std::string t = lower(text);
      if (t == "true" || t == "1" || t == "yes" || t == "on") {
        r->SetBool(owner, field, true);
      } else if (t == "false" || t == "0" || t == "no" || t == "off") {
        r->SetBool(owner, field, false);
      } else {
        throw UsageError(label + ": " + quoted(text) + " is not true or false");
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const EnumValueDescriptor* value = nullptr;
      for (int i = 0; i < field->enum_type()->value_count(); ++i)
        if (lower(field->enum_type()->value(i)->name()) == lower(text))
          value = field->enum_type()->value(i);
      if (!value)
        throw UsageError(label + ": " + quoted(text) + " is not one of " + enum_choices(field));
      r->SetEnum(owner, field, value);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING:
      r->SetString(owner, field, text);
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      throw UsageError(label + ": config field " + quoted(path) + " is a message, not a value");
  }
}

std::string field_choices(const Descriptor& type, const std::string& path) {
  const Descriptor* owner = &type;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    const FieldDescriptor* field =
        owner->FindFieldByName(path.substr(start, dot == std::string::npos ? dot : dot - start));
    if (!field) throw UsageError("no config field named " + quoted(path));
    if (dot == std::string::npos)
      return field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM ? enum_choices(field) : "";
    if (field->message_type() == nullptr)
      throw UsageError("config field " + quoted(path) + " does not name a scalar field");
    owner = field->message_type();
    start = dot + 1;
  }
}

std::string field_text(const Message& msg, const std::string& path) {
  // Reads through a copy so the caller's message is not changed by the walk.
  std::unique_ptr<Message> copy(msg.New());
  copy->CopyFrom(msg);
  const FieldDescriptor* field = nullptr;
  Message* owner = owner_of(copy.get(), path, &field);
  const Reflection* r = owner->GetReflection();
  std::ostringstream out;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      out << r->GetInt32(*owner, field);
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      out << r->GetInt64(*owner, field);
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      out << r->GetUInt32(*owner, field);
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      out << r->GetUInt64(*owner, field);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      out << r->GetFloat(*owner, field);
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      out << r->GetDouble(*owner, field);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out << (r->GetBool(*owner, field) ? "true" : "false");
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      out << lower(r->GetEnum(*owner, field)->name());
      break;
    case FieldDescriptor::CPPTYPE_STRING:
      out << r->GetString(*owner, field);
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      out << "{...}";
      break;
  }
  return out.str();
}

void fill_defaults(Message* msg) {
  const Descriptor* d = msg->GetDescriptor();
  const Reflection* r = msg->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) continue;
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      fill_defaults(r->MutableMessage(msg, f));
      continue;
    }
    if (r->HasField(*msg, f)) continue;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        r->SetInt32(msg, f, f->default_value_int32());
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        r->SetInt64(msg, f, f->default_value_int64());
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        r->SetUInt32(msg, f, f->default_value_uint32());
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        r->SetUInt64(msg, f, f->default_value_uint64());
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        r->SetFloat(msg, f, f->default_value_float());
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        r->SetDouble(msg, f, f->default_value_double());
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        r->SetBool(msg, f, f->default_value_bool());
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        r->SetEnum(msg, f, f->default_value_enum());
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        r->SetString(msg, f, f->default_value_string());
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
  }
}

void read_text_file(const std::string& path, Message* msg) {
  std::string text;
  if (!read_whole_file(path, &text)) throw UsageError("--config: cannot open " + path);

  class Collector : public google::protobuf::io::ErrorCollector {
   public:
    explicit Collector(const std::string& path) : path_(path) {}
    void AddError(int line, int column, const std::string& message) override {
      // Protobuf's messages quote the offending token in full after their reason: 200
      // characters keep the reason and the token's start.
      if (first_.empty())
        first_ = path_ + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " +
                 one_line(message, 200);
    }
    const std::string& first() const { return first_; }

   private:
    std::string path_;
    std::string first_;
  } collector(path);

  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  msg->Clear();
  if (!parser.ParseFromString(text, msg))
    throw UsageError(collector.first().empty() ? path + ": not a valid text-format config"
                                               : collector.first());
}

std::string to_text(const Message& msg) {
  std::string out;
  google::protobuf::TextFormat::PrintToString(msg, &out);
  return out;
}

uint64_t message_hash(const Message& msg) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    msg.SerializeToCodedStream(&coded);
  }
  return fnv1a(bytes.data(), bytes.size());
}

}  // namespace mlp
