// TensorBoard event files written natively: TFRecord framing (core/record_io.h) of Event
// messages, first a file_version "brain.Event:2" event, then one event per scalar. Named
// events.out.tfevents.<seconds>.<host> like TensorFlow's, so TensorBoard finds them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace mlp {

class TensorBoardWriter {
 public:
  // Creates the file in dir (which must exist). Throws UsageError when it cannot be written.
  explicit TensorBoardWriter(const std::string& dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  // Appends one event holding the scalars at `step` and flushes it.
  void add_scalars(int64_t step, const std::vector<std::pair<std::string, double>>& scalars);
  const std::string& path() const { return path_; }

 private:
  void append(const std::string& payload);
  std::string path_;
  std::FILE* file_ = nullptr;
};

struct ScalarEvent {
  int64_t step = 0;
  std::string tag;
  float value = 0;
};

// Reads an event file back, verifying every record's CRCs; returns the scalars in file order.
// Throws std::runtime_error with the byte offset of a bad record or a missing version event.
std::vector<ScalarEvent> read_tensorboard_scalars(const std::string& path);

}  // namespace mlp
