// ScopedTimer: one timer slot that clears itself on re-arm, cancel and
// destruction, and forgets a timer that fired before its task runs.
#include <doctest/doctest.h>

#include <memory>

#include "core/scoped_timer.h"
#include "fakes.h"

using cleanslate::ScopedTimer;
using cleanslate::testing::FakeScheduler;

TEST_CASE("ScopedTimer: fires once, then is no longer armed") {
  FakeScheduler scheduler;
  ScopedTimer timer(scheduler);
  int fired = 0;
  CHECK_FALSE(timer.armed());
  timer.arm(100, [&]() {
    CHECK_FALSE(timer.armed());  // forgotten before the task runs
    ++fired;
  });
  CHECK(timer.armed());
  scheduler.advance(99);
  CHECK(fired == 0);
  scheduler.advance(1);
  CHECK(fired == 1);
  CHECK(scheduler.timers.empty());
  timer.cancel();  // nothing to clear
  CHECK(scheduler.timers.empty());
}

TEST_CASE("ScopedTimer: re-arming replaces the timer; cancel clears it") {
  FakeScheduler scheduler;
  ScopedTimer timer(scheduler);
  int first = 0;
  int second = 0;
  timer.arm(100, [&]() { ++first; });
  timer.arm(50, [&]() { ++second; });
  CHECK(scheduler.timers.size() == 1);
  scheduler.advance(1000);
  CHECK(first == 0);
  CHECK(second == 1);
  timer.arm(10, [&]() { ++first; });
  timer.cancel();
  CHECK_FALSE(timer.armed());
  CHECK(scheduler.timers.empty());
  scheduler.advance(1000);
  CHECK(first == 0);
}

TEST_CASE("ScopedTimer: destruction clears the timer") {
  FakeScheduler scheduler;
  int fired = 0;
  {
    ScopedTimer timer(scheduler);
    timer.arm(10, [&]() { ++fired; });
    CHECK(scheduler.timers.size() == 1);
  }
  CHECK(scheduler.timers.empty());
  scheduler.advance(100);
  CHECK(fired == 0);
}

TEST_CASE("ScopedTimer: a task may re-arm or destroy its own slot") {
  FakeScheduler scheduler;
  ScopedTimer timer(scheduler);
  int runs = 0;
  struct Rearm {
    ScopedTimer* timer;
    int* runs;
    void operator()() {
      if (++*runs < 3) timer->arm(10, Rearm{timer, runs});
    }
  };
  timer.arm(10, Rearm{&timer, &runs});
  scheduler.advance(100);
  CHECK(runs == 3);
  CHECK_FALSE(timer.armed());
  CHECK(scheduler.timers.empty());

  auto owned = std::make_unique<ScopedTimer>(scheduler);
  bool destroyed = false;
  owned->arm(5, [&]() {
    owned.reset();  // the slot goes away while its task runs
    destroyed = true;
  });
  scheduler.advance(10);
  CHECK(destroyed);
  CHECK(scheduler.timers.empty());
}
