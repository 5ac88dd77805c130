// The self-clearing timer slot (see scoped_timer.h).
#include "scoped_timer.h"

#include <utility>

namespace cleanslate {

// Out of line, with the task already a Callback: one wrapper type serves
// every timer of the core.
void ScopedTimer::arm(double delayMs, Scheduler::Task task) {
  cancel();
  id_ = scheduler_->setTimer(delayMs, [this, task = std::move(task)]() {
    id_ = 0;
    task();
  });
}

void ScopedTimer::cancel() {
  if (id_ != 0) scheduler_->clearTimer(id_);
  id_ = 0;
}

}  // namespace cleanslate
