// Protobuf reflection over configs: set a field by its dotted path from text (flags, sweep
// axes), make every default explicit, read and write text format, hash a resolved config.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <string>

namespace mlp {

// Sets the scalar field at `path` ("optimizer.lr") of msg from text. Enums take their value
// names in lower case ("adam"), bools true/false/1/0, numbers must parse completely and be
// finite and in range. Throws UsageError "<label>: <why>" (label: the flag, e.g. "--lr").
void set_field_from_text(google::protobuf::Message* msg, const std::string& path,
                         const std::string& text, const std::string& label);

// The text of the field at `path` as set_field_from_text reads it (its default when unset).
std::string field_text(const google::protobuf::Message& msg, const std::string& path);

// The values an enum field at `path` of `type` takes, as set_field_from_text reads them
// ("sgd|momentum|adam"); "" when the field is not an enum. Throws UsageError for a bad path.
std::string field_choices(const google::protobuf::Descriptor& type, const std::string& path);

// Sets every unset optional field to its default, recursively, so the text form of a resolved
// config lists every value and equal configs serialize equally.
void fill_defaults(google::protobuf::Message* msg);

// Parses a text-format file into msg; throws UsageError "path:line:column: what".
void read_text_file(const std::string& path, google::protobuf::Message* msg);

std::string to_text(const google::protobuf::Message& msg);

// A 64-bit hash of the deterministic serialization of msg.
uint64_t message_hash(const google::protobuf::Message& msg);

}  // namespace mlp
