// The session's console (see log.h). Out of line: every log line of the core
// calls these two.
#include "log.h"

namespace cleanslate {

void Log::operator()(LogLevel level, const std::string& line) const {
  if (on(level)) sink_->write(level, line);
}

void Log::operator()(LogLevel level, const char* line) const {
  if (on(level)) sink_->write(level, line);
}

}  // namespace cleanslate
