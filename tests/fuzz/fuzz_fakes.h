// Deterministic fakes of the core's interfaces for the session fuzzer (the
// same shape as tests/native/fakes.h, without doctest): a transport whose
// answers the script releases, a virtual clock, a key-value store that can be
// made to fail, and event/log sinks. They check the interface contracts the
// core must keep on its side (timer delays, request headers) and hand every
// sent request to an observer.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/interfaces.h"
#include "fuzz_check.h"
#include "../native/fake_store.h"
#include "../native/jwt_fixture.h"

namespace fuzzfakes {

using namespace cleanslate;

struct PendingRequest {
  uint64_t handle;
  uint64_t tag;  // FakeTransport::tag when it was sent
  HttpRequest request;
  Transport::Done done;
};

class FakeTransport final : public Transport {
 public:
  uint64_t send(const HttpRequest& request, Done done) override {
    const uint64_t handle = next_++;
    if (onSend) onSend(request);
    PendingRequest p{handle, tag, request, std::move(done)};
    HttpResponse response;
    if (syncAnswer && syncAnswer(p, &response)) {
      // The interface allows `done` to run before send() returns.
      if (onAnswer) onAnswer(p, response);
      p.done(std::move(response));
      return handle;
    }
    pending.push_back(std::move(p));
    return handle;
  }
  void abort(uint64_t handle) override {
    // After abort(handle) that request's `done` never runs.
    pending.erase(std::remove_if(pending.begin(), pending.end(),
                                 [&](const PendingRequest& p) { return p.handle == handle; }),
                  pending.end());
  }
  // Answers pending[index] (removed first, as a real transport would).
  void answer(std::size_t index, HttpResponse response) {
    PendingRequest p = std::move(pending.at(index));
    pending.erase(pending.begin() + static_cast<long>(index));
    if (onAnswer) onAnswer(p, response);
    p.done(std::move(response));
  }

  std::vector<PendingRequest> pending;
  uint64_t tag = 0;
  std::function<void(const HttpRequest&)> onSend;
  // Returns true to answer a request synchronously, inside send().
  std::function<bool(const PendingRequest&, HttpResponse*)> syncAnswer;
  std::function<void(const PendingRequest&, const HttpResponse&)> onAnswer;

 private:
  uint64_t next_ = 1;
};

using cleanslate::testing::FakeStore;

class FakeEvents final : public EventSink {
 public:
  void dispatch(const std::string& name, const std::string& detailJson) override {
    if (onEvent) onEvent(name, detailJson);
  }
  std::function<void(const std::string&, const std::string&)> onEvent;
};

class FakeScheduler final : public Scheduler {
 public:
  double nowMs() override { return now; }
  uint64_t setTimer(double delayMs, Task task) override {
    // What setTimeout can honour: a finite delay within 0 .. 2^31-1 ms.
    FUZZ_CHECK(std::isfinite(delayMs) && delayMs >= 0 && delayMs <= 2147483647.0,
               "setTimer with delay " + std::to_string(delayMs));
    const uint64_t id = next_++;
    timers[id] = {now + delayMs, std::move(task)};
    return id;
  }
  void clearTimer(uint64_t id) override { timers.erase(id); }
  // Runs every timer due within `ms`, in due order, moving the clock. Past
  // `budget` firings it stops running them (the clock still moves; they run,
  // late, on a later call, as in a throttled background tab).
  void advance(double ms) {
    const double until = now + ms;
    std::size_t sameInstant = 0;
    while (budget > 0) {
      auto next = timers.end();
      for (auto it = timers.begin(); it != timers.end(); ++it) {
        if (it->second.first <= until && (next == timers.end() || it->second.first < next->second.first)) next = it;
      }
      if (next == timers.end()) break;
      sameInstant = next->second.first > now ? 0 : sameInstant + 1;
      FUZZ_CHECK(sameInstant < 10000, "timers keep re-arming without the clock moving on");
      --budget;
      now = std::max(now, next->second.first);
      Task task = std::move(next->second.second);
      timers.erase(next);
      task();
    }
    now = std::max(now, until);
  }
  // Runs the earliest timer, if any.
  void runNext() {
    if (timers.empty()) return;
    auto next = timers.begin();
    for (auto it = timers.begin(); it != timers.end(); ++it) {
      if (it->second.first < next->second.first) next = it;
    }
    now = std::max(now, next->second.first);
    Task task = std::move(next->second.second);
    timers.erase(next);
    task();
  }

  double now = 1.7e12;
  std::size_t budget = 20000;
  std::map<uint64_t, std::pair<double, Task>> timers;

 private:
  uint64_t next_ = 1;
};

class FakeLog final : public LogSink {
 public:
  void write(LogLevel, const std::string& line) override { lines += line.size(); }
  std::size_t lines = 0;
};

using cleanslate::testing::b64url;
using cleanslate::testing::makeJwt;

}  // namespace fuzzfakes
