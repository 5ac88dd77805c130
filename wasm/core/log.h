// The session's console: lines at or above the configured level go to the
// LogSink. A line given as a C string is made into a std::string only when
// it is written.
#pragma once

#include <string>

#include "interfaces.h"

namespace cleanslate {

class Log {
 public:
  Log(LogSink* sink, LogLevel level) : sink_(sink), level_(level) {}

  bool on(LogLevel level) const {
    return level != LogLevel::Silent && static_cast<int>(level) <= static_cast<int>(level_);
  }
  void operator()(LogLevel level, const std::string& line) const;
  void operator()(LogLevel level, const char* line) const;

 private:
  LogSink* sink_;
  LogLevel level_;
};

}  // namespace cleanslate
