// The one set of fakes of the core's interfaces, shared by the doctest suite
// (tests/native/) and the libFuzzer targets (tests/fuzz/): a transport whose
// answers the test or fuzz script releases one by one, a virtual clock, and
// recorders for storage (fake_store.h), events and log lines. They make every
// interleaving reproducible, and they check the contracts the core must keep
// on its side of the interfaces (timer delays setTimeout can honour, timers
// that let the clock move on).
//
// No test framework here. A broken contract or a failed Harness step goes to
// failureReporter(): by default it prints and aborts (what a fuzzer records as
// a crash); the doctest main (main.cpp) turns it into a doctest failure.
//
// The fuzzers drive the same fakes with options a doctest case leaves alone:
// recording off (sent/fired/lines would grow with every input), a timer
// budget (a throttled tab), synchronous answers (autoReply), a tag stamped on
// each request and an observer of every answer (onAnswer).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/interfaces.h"
#include "core/session.h"
#include "core/token_store.h"
#include "fake_store.h"
#include "json_dom.h"
#include "jwt_fixture.h"

namespace cleanslate::testing {

// Where a fake or the Harness reports a failure. `fatal`: the current test
// cannot go on (a Harness step); otherwise it is recorded and the test goes on.
using FailureReporter = void (*)(const char* file, int line, const std::string& what, bool fatal);

inline void abortOnFailure(const char* file, int line, const std::string& what, bool) {
  std::fprintf(stderr, "FAKE_CHECK failed at %s:%d: %s\n", file, line, what.c_str());
  std::abort();
}

inline FailureReporter& failureReporter() {
  static FailureReporter reporter = &abortOnFailure;
  return reporter;
}

#define CLEANSLATE_FAKE_CHECK(cond, msg)                                                                      \
  do {                                                                                                        \
    if (!(cond))                                                                                              \
      ::cleanslate::testing::failureReporter()(__FILE__, __LINE__, std::string(#cond) + ": " + (msg), false); \
  } while (0)
#define CLEANSLATE_FAKE_REQUIRE(cond, msg)                                                                   \
  do {                                                                                                       \
    if (!(cond))                                                                                             \
      ::cleanslate::testing::failureReporter()(__FILE__, __LINE__, std::string(#cond) + ": " + (msg), true); \
  } while (0)

struct PendingRequest {
  uint64_t handle;
  uint64_t tag;  // FakeTransport::tag when it was sent
  HttpRequest request;
  Transport::Done done;
};

inline bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class FakeTransport final : public Transport {
 public:
  uint64_t send(const HttpRequest& request, Done done) override {
    const uint64_t handle = next_++;
    if (recordSent) sent.push_back(request);
    if (onSend) onSend(request);  // may set `tag` for this request
    PendingRequest p{handle, tag, request, std::move(done)};
    if (autoReply) {
      std::optional<HttpResponse> response = autoReply(request);
      if (response) {
        // The interface allows `done` to run before send() returns.
        deliver(std::move(p), std::move(*response));
        return handle;
      }
    }
    pending.push_back(std::move(p));
    return handle;
  }
  void abort(uint64_t handle) override {
    // After abort(handle) that request's `done` never runs.
    aborted.push_back(handle);
    pending.erase(
        std::remove_if(pending.begin(), pending.end(), [&](const PendingRequest& p) { return p.handle == handle; }),
        pending.end());
  }

  // Answers pending[index] (removed first, as a real transport would).
  void answer(std::size_t index, HttpResponse response) {
    PendingRequest p = std::move(pending.at(index));
    pending.erase(pending.begin() + static_cast<long>(index));
    deliver(std::move(p), std::move(response));
  }
  void reply(std::size_t index, int status, const std::string& body,
             const std::string& rawHeaders = "content-type: application/json\r\n") {
    HttpResponse response;
    response.status = status;
    response.body = body;
    response.rawHeaders = rawHeaders;
    answer(index, std::move(response));
  }
  void fail(std::size_t index, TransportError error = TransportError::Network) {
    HttpResponse response;
    response.error = error;
    answer(index, std::move(response));
  }

  // Index of the first (find) or last (findLast) pending request whose URL
  // ends with `suffix`, or -1.
  int find(const std::string& suffix) const {
    for (std::size_t i = 0; i < pending.size(); ++i) {
      if (endsWith(pending[i].request.url, suffix)) return static_cast<int>(i);
    }
    return -1;
  }
  int findLast(const std::string& suffix) const {
    for (int i = static_cast<int>(pending.size()) - 1; i >= 0; --i) {
      if (endsWith(pending[static_cast<std::size_t>(i)].request.url, suffix)) return i;
    }
    return -1;
  }
  bool replyTo(const std::string& suffix, int status, const std::string& body,
               const std::string& rawHeaders = "content-type: application/json\r\n") {
    const int i = find(suffix);
    if (i < 0) return false;
    reply(static_cast<std::size_t>(i), status, body, rawHeaders);
    return true;
  }
  bool replyToLast(const std::string& suffix, int status, const std::string& body) {
    const int i = findLast(suffix);
    if (i < 0) return false;
    reply(static_cast<std::size_t>(i), status, body);
    return true;
  }
  // Requests sent so far (recordSent) whose URL ends with `suffix`.
  std::size_t count(const std::string& suffix) const {
    return static_cast<std::size_t>(
        std::count_if(sent.begin(), sent.end(), [&](const HttpRequest& r) { return endsWith(r.url, suffix); }));
  }

  std::vector<HttpRequest> sent;
  std::vector<PendingRequest> pending;
  std::vector<uint64_t> aborted;
  bool recordSent = true;
  uint64_t tag = 0;
  std::function<void(const HttpRequest&)> onSend;
  // When it returns a response, that answers the request inside send().
  std::function<std::optional<HttpResponse>(const HttpRequest&)> autoReply;
  // Sees every answer, synchronous or not, just before the core does.
  std::function<void(const PendingRequest&, const HttpResponse&)> onAnswer;

 private:
  void deliver(PendingRequest p, HttpResponse response) {
    if (onAnswer) onAnswer(p, response);
    p.done(std::move(response));
  }

  uint64_t next_ = 1;
};

class FakeEvents final : public EventSink {
 public:
  void dispatch(const std::string& name, const std::string& detailJson) override {
    if (record) fired.emplace_back(name, detailJson);
    if (onEvent) onEvent(name, detailJson);
  }
  std::vector<std::pair<std::string, std::string>> fired;
  bool record = true;
  std::function<void(const std::string&, const std::string&)> onEvent;
};

class FakeScheduler final : public Scheduler {
 public:
  // The wall clock is `now` plus `skewMs` (a client clock that is off); the
  // monotonic clock and the timers run on `now`.
  double nowMs() override { return now + skewMs; }
  double monotonicMs() override { return now; }
  uint64_t setTimer(double delayMs, Task task) override {
    // What setTimeout can honour: a finite delay within 0 .. 2^31-1 ms.
    CLEANSLATE_FAKE_CHECK(std::isfinite(delayMs) && delayMs >= 0 && delayMs <= 2147483647.0,
                          "setTimer with delay " + std::to_string(delayMs));
    const uint64_t id = next_++;
    timers[id] = {now + std::max(0.0, delayMs), std::move(task)};
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
      CLEANSLATE_FAKE_REQUIRE(sameInstant < 10000, "timers keep re-arming without the clock moving on");
      --budget;
      runTimer(next);
    }
    now = std::max(now, until);
  }
  // Runs the earliest timer, if any; returns whether one ran.
  bool runNext() {
    if (timers.empty()) return false;
    auto next = timers.begin();
    for (auto it = timers.begin(); it != timers.end(); ++it) {
      if (it->second.first < next->second.first) next = it;
    }
    runTimer(next);
    return true;
  }

  double now = 1.7e12;
  double skewMs = 0;
  std::size_t budget = std::numeric_limits<std::size_t>::max();  // timer firings advance() may still run
  std::map<uint64_t, std::pair<double, Task>> timers;

 private:
  void runTimer(std::map<uint64_t, std::pair<double, Task>>::iterator it) {
    now = std::max(now, it->second.first);
    Task task = std::move(it->second.second);
    timers.erase(it);
    task();
  }

  uint64_t next_ = 1;
};

class FakeLog final : public LogSink {
 public:
  void write(LogLevel level, const std::string& line) override {
    if (keep) lines.emplace_back(level, line);
  }
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& l : lines) out.push_back(l.second);
    return out;
  }
  std::vector<std::pair<LogLevel, std::string>> lines;
  bool keep = true;
};

// The app's reset hooks: records each reset with the reason, and calls
// `onReset` (a test looks at the session's state at that moment). A
// `settled` it is given is held until the test calls settle().
class FakeReset final : public ResetSink {
 public:
  void reset(const char* reason, Settled settled) override {
    reasons.emplace_back(reason);
    if (onReset) onReset(reason);
    if (settled) held.push_back(std::move(settled));
  }
  // Ends the asynchronous work of every reset so far.
  void settle() {
    std::vector<Settled> now = std::move(held);
    held.clear();
    for (Settled& s : now) s();
  }
  std::vector<std::string> reasons;
  std::vector<Settled> held;
  std::function<void(const std::string&)> onReset;
};

// One session wired to fakes, with helpers to drive the backend side.
struct Harness {
  FakeTransport transport;
  FakeStore store;
  FakeEvents events;
  FakeScheduler scheduler;
  FakeLog log;
  FakeReset reset;
  std::unique_ptr<Session> session;
  int tokenCounter = 0;

  // `withReset`: the session runs the app's reset hooks (`reset`).
  explicit Harness(const std::string& extraConfig = "", bool withReset = false) { open(extraConfig, withReset); }

  // (Re)creates the session on the same store: a page load.
  void open(const std::string& extraConfig = "", bool withReset = false) {
    session.reset();
    ConfigResult parsed =
        parseConfig(R"({"apiBase":"https://api.example.com/api/v1","logLevel":"debug")" + extraConfig + "}");
    CLEANSLATE_FAKE_REQUIRE(parsed.error.empty(), parsed.error);
    session = std::make_unique<Session>(parsed.config, Platform{&transport, &store, &events, &scheduler, &log, nullptr,
                                                                nullptr, withReset ? &reset : nullptr});
  }

  std::string newAccess(const std::string& user, double ttlSec = 900) {
    return makeJwt(R"({"sub":")" + user + R"(","n":)" + std::to_string(++tokenCounter) + R"(,"exp":)" +
                   std::to_string(static_cast<long long>(scheduler.now / 1000 + ttlSec)) + "}");
  }
  std::string loginBody(const std::string& user, const std::string& access, const std::string& refresh) {
    return R"({"access_token":")" + access + R"(","refresh_token":")" + refresh +
           R"(","token_type":"bearer","expires_in":900,"user":{"id":")" + user + R"(","email":")" + user +
           R"(@test.com"}})";
  }
  // Completes a login for `user` whose requests answer right away.
  void loginAs(const std::string& user) {
    bool done = false;
    session->login(user + "@test.com", "pw", [&](const LoginOutcome& o) {
      CLEANSLATE_FAKE_REQUIRE(o.success, "login of " + user);
      done = true;
    });
    CLEANSLATE_FAKE_REQUIRE(transport.replyToLast("/auth/csrf", 200, R"({"csrf_token":"csrf-)" + user + R"("})"),
                            "no CSRF request pending");
    CLEANSLATE_FAKE_REQUIRE(
        transport.replyToLast("/auth/login", 200, loginBody(user, newAccess(user), "refresh-" + user)),
        "no login request pending");
    CLEANSLATE_FAKE_REQUIRE(done, "login of " + user + " did not settle");
  }
  static std::string header(const HttpRequest& r, const std::string& name) {
    for (const auto& h : r.headers) {
      if (h.first == name) return h.second;
    }
    return {};
  }
};

}  // namespace cleanslate::testing
