// Deterministic fakes of the core's interfaces: a transport whose answers
// the test releases one by one, a virtual clock, and recorders for storage,
// events and log lines. They make every interleaving reproducible.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/interfaces.h"
#include "json_dom.h"
#include "core/session.h"
#include "core/token_store.h"
#include "fake_store.h"
#include "jwt_fixture.h"

namespace cleanslate::testing {

struct PendingRequest {
  uint64_t handle;
  HttpRequest request;
  Transport::Done done;
};

class FakeTransport final : public Transport {
 public:
  uint64_t send(const HttpRequest& request, Done done) override {
    const uint64_t handle = next_++;
    sent.push_back(request);
    if (onSend) onSend(request);
    if (autoReply) {
      HttpResponse response = autoReply(request);
      if (response.status != -1) {
        done(std::move(response));
        return handle;
      }
    }
    pending.push_back({handle, request, std::move(done)});
    return handle;
  }
  void abort(uint64_t handle) override {
    aborted.push_back(handle);
    pending.erase(std::remove_if(pending.begin(), pending.end(), [&](const PendingRequest& p) { return p.handle == handle; }),
                  pending.end());
  }

  // Index of the first pending request whose URL ends with `suffix`, or -1.
  int find(const std::string& suffix) const {
    for (std::size_t i = 0; i < pending.size(); ++i) {
      const std::string& url = pending[i].request.url;
      if (url.size() >= suffix.size() && url.compare(url.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }
  void reply(std::size_t index, int status, const std::string& body,
             const std::string& rawHeaders = "content-type: application/json\r\n") {
    PendingRequest p = std::move(pending.at(index));
    pending.erase(pending.begin() + static_cast<long>(index));
    HttpResponse response;
    response.status = status;
    response.body = body;
    response.rawHeaders = rawHeaders;
    p.done(std::move(response));
  }
  void fail(std::size_t index, TransportError error = TransportError::Network) {
    PendingRequest p = std::move(pending.at(index));
    pending.erase(pending.begin() + static_cast<long>(index));
    HttpResponse response;
    response.error = error;
    p.done(std::move(response));
  }
  int findLast(const std::string& suffix) const {
    for (int i = static_cast<int>(pending.size()) - 1; i >= 0; --i) {
      const std::string& url = pending[static_cast<std::size_t>(i)].request.url;
      if (url.size() >= suffix.size() && url.compare(url.size() - suffix.size(), suffix.size(), suffix) == 0) return i;
    }
    return -1;
  }
  bool replyToLast(const std::string& suffix, int status, const std::string& body) {
    const int i = findLast(suffix);
    if (i < 0) return false;
    reply(static_cast<std::size_t>(i), status, body);
    return true;
  }
  bool replyTo(const std::string& suffix, int status, const std::string& body,
               const std::string& rawHeaders = "content-type: application/json\r\n") {
    const int i = find(suffix);
    if (i < 0) return false;
    reply(static_cast<std::size_t>(i), status, body, rawHeaders);
    return true;
  }
  std::size_t count(const std::string& suffix) const {
    return static_cast<std::size_t>(std::count_if(sent.begin(), sent.end(), [&](const HttpRequest& r) {
      return r.url.size() >= suffix.size() && r.url.compare(r.url.size() - suffix.size(), suffix.size(), suffix) == 0;
    }));
  }

  std::vector<HttpRequest> sent;
  std::vector<PendingRequest> pending;
  std::vector<uint64_t> aborted;
  std::function<void(const HttpRequest&)> onSend;
  // When set, answers synchronously unless it returns status -1.
  std::function<HttpResponse(const HttpRequest&)> autoReply;

 private:
  uint64_t next_ = 1;
};

class FakeEvents final : public EventSink {
 public:
  void dispatch(const std::string& name, const std::string& detailJson) override {
    fired.emplace_back(name, detailJson);
    if (onEvent) onEvent(name, detailJson);
  }
  std::vector<std::pair<std::string, std::string>> fired;
  std::function<void(const std::string&, const std::string&)> onEvent;
};

class FakeScheduler final : public Scheduler {
 public:
  // The wall clock is `now` plus `skewMs` (a client clock that is off); the
  // monotonic clock and the timers run on `now`.
  double nowMs() override { return now + skewMs; }
  double monotonicMs() override { return now; }
  uint64_t setTimer(double delayMs, Task task) override {
    const uint64_t id = next_++;
    timers[id] = {now + std::max(0.0, delayMs), std::move(task)};
    return id;
  }
  void clearTimer(uint64_t id) override { timers.erase(id); }
  // Runs every timer due within `ms`, in due order, moving the clock.
  void advance(double ms) {
    const double until = now + ms;
    while (true) {
      auto next = timers.end();
      for (auto it = timers.begin(); it != timers.end(); ++it) {
        if (it->second.first <= until && (next == timers.end() || it->second.first < next->second.first)) next = it;
      }
      if (next == timers.end()) break;
      now = std::max(now, next->second.first);
      Task task = std::move(next->second.second);
      timers.erase(next);
      task();
    }
    now = until;
  }
  // Runs the earliest timer, if any; returns whether one ran.
  bool runNext() {
    if (timers.empty()) return false;
    auto next = timers.begin();
    for (auto it = timers.begin(); it != timers.end(); ++it) {
      if (it->second.first < next->second.first) next = it;
    }
    now = std::max(now, next->second.first);
    Task task = std::move(next->second.second);
    timers.erase(next);
    task();
    return true;
  }

  double now = 1.7e12;
  double skewMs = 0;
  std::map<uint64_t, std::pair<double, Task>> timers;

 private:
  uint64_t next_ = 1;
};

class FakeLog final : public LogSink {
 public:
  void write(LogLevel level, const std::string& line) override { lines.emplace_back(level, line); }
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& l : lines) out.push_back(l.second);
    return out;
  }
  std::vector<std::pair<LogLevel, std::string>> lines;
};


// One session wired to fakes, with helpers to drive the backend side.
struct Harness {
  FakeTransport transport;
  FakeStore store;
  FakeEvents events;
  FakeScheduler scheduler;
  FakeLog log;
  std::unique_ptr<Session> session;
  int tokenCounter = 0;

  explicit Harness(const std::string& extraConfig = "") {
    ConfigResult parsed = parseConfig(R"({"apiBase":"https://api.example.com/api/v1","logLevel":"debug")" +
                                      extraConfig + "}");
    REQUIRE_MESSAGE(parsed.error.empty(), parsed.error);
    session = std::make_unique<Session>(parsed.config, Platform{&transport, &store, &events, &scheduler, &log});
  }

  std::string newAccess(const std::string& user, double ttlSec = 900) {
    return makeJwt(R"({"sub":")" + user + R"(","n":)" + std::to_string(++tokenCounter) +
                   R"(,"exp":)" + std::to_string(static_cast<long long>(scheduler.now / 1000 + ttlSec)) + "}");
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
      REQUIRE(o.success);
      done = true;
    });
    REQUIRE(transport.replyToLast("/auth/csrf", 200, R"({"csrf_token":"csrf-)" + user + R"("})"));
    REQUIRE(transport.replyToLast("/auth/login", 200, loginBody(user, newAccess(user), "refresh-" + user)));
    REQUIRE(done);
  }
  static std::string header(const HttpRequest& r, const std::string& name) {
    for (const auto& h : r.headers) {
      if (h.first == name) return h.second;
    }
    return {};
  }
};

}  // namespace cleanslate::testing
