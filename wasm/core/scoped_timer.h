// One timer slot on a Scheduler that clears itself: arming it again replaces
// the timer, cancel() and destruction clear it. A timer that fired is
// forgotten before its task runs, so the task may re-arm, cancel or destroy
// its own slot. Not movable: the scheduled task refers to the slot.
#pragma once

#include <cstdint>

#include "interfaces.h"

namespace cleanslate {

class ScopedTimer {
 public:
  explicit ScopedTimer(Scheduler& scheduler) : scheduler_(&scheduler) {}
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;
  ~ScopedTimer() { cancel(); }

  // Runs `task` once after `delayMs`, replacing whatever was armed.
  void arm(double delayMs, Scheduler::Task task);
  void cancel();
  bool armed() const { return id_ != 0; }

 private:
  Scheduler* scheduler_;
  uint64_t id_ = 0;  // 0: nothing armed (schedulers hand out ids from 1)
};

}  // namespace cleanslate
