// TensorBoard event files; see tensorboard_writer.h.
#include "core/tensorboard_writer.h"

#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "core/errors.h"
#include "core/input_file.h"
#include "core/record_io.h"
#include "proto/tensorboard.pb.h"

namespace mlp {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  path_ = dir + "/events.out.tfevents." + std::to_string(static_cast<int64_t>(now_seconds())) +
          "." + host;
  file_ = std::fopen(path_.c_str(), "wb");
  if (!file_) throw UsageError("--out: cannot write " + path_);
  tb::Event version;
  version.set_wall_time(now_seconds());
  version.set_file_version("brain.Event:2");
  append(version.SerializeAsString());
}

TensorBoardWriter::~TensorBoardWriter() {
  if (file_) std::fclose(file_);
}

void TensorBoardWriter::add_scalars(int64_t step,
                                    const std::vector<std::pair<std::string, double>>& scalars) {
  tb::Event event;
  event.set_wall_time(now_seconds());
  event.set_step(step);
  for (const auto& [tag, value] : scalars) {
    tb::SummaryValue* v = event.mutable_summary()->add_value();
    v->set_tag(tag);
    v->set_simple_value(static_cast<float>(value));
  }
  append(event.SerializeAsString());
}

void TensorBoardWriter::append(const std::string& payload) {
  std::string framed;
  append_record(payload, &framed);
  if (std::fwrite(framed.data(), 1, framed.size(), file_) != framed.size() ||
      std::fflush(file_) != 0)
    throw UsageError("--out: cannot write " + path_);
}

std::vector<ScalarEvent> read_tensorboard_scalars(const std::string& path) {
  std::string bytes;
  if (!read_whole_file(path, &bytes)) throw std::runtime_error(path + ": cannot open");
  std::vector<ScalarEvent> scalars;
  size_t offset = 0;
  bool first = true;
  while (offset < bytes.size()) {
    const size_t at = offset;
    tb::Event event;
    if (!event.ParseFromString(read_record(bytes, &offset, 64u << 20)))
      throw std::runtime_error(path + ": record at byte " + std::to_string(at) +
                               " is not an Event");
    if (first && event.file_version() != "brain.Event:2")
      throw std::runtime_error(path +
                               ": the first event does not carry file_version brain.Event:2");
    first = false;
    for (const tb::SummaryValue& v : event.summary().value())
      scalars.push_back({event.step(), v.tag(), v.simple_value()});
  }
  return scalars;
}

}  // namespace mlp
