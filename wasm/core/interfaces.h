// The small interfaces the session core talks to. The core owns no browser
// API: wasm/platform/ implements these with emscripten_fetch, Web Storage,
// CustomEvent and console; tests/native/ implements them with fakes.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "callback.h"

namespace cleanslate {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;
  std::string url;
  Headers headers;
  std::string body;
  bool hasBody = false;
  // 0: no transport-level timeout. The core bounds every wait with its own
  // timer and drops late answers; an XHR timeout would add nothing but, in
  // jsdom, a timer that outlives a failed request.
  uint32_t timeoutMs = 0;
  // The largest body accepted. A longer one is cut off while it arrives
  // (TransportError::TooLarge) and never copied into the core's memory.
  uint32_t maxResponseBytes = 0xFFFFFFFFu;
};

enum class TransportError { None, Network, Timeout, TooLarge };

struct HttpResponse {
  int status = 0;
  TransportError error = TransportError::None;
  std::string body;
  std::string rawHeaders;  // "name: value\r\n" lines, as getAllResponseHeaders() gives them
  std::string statusText;  // the reason phrase, when the transport knows it
};

class Transport {
 public:
  using Done = Callback<void(HttpResponse)>;
  virtual ~Transport() = default;
  // Starts a request. `done` runs exactly once unless abort() came first; it
  // may run before send() returns (a synchronous failure).
  virtual uint64_t send(const HttpRequest& request, Done done) = 0;
  // Cancels the request (the connection is closed); that request's `done`
  // never runs.
  virtual void abort(uint64_t handle) = 0;
};

enum class StoreStatus { Ok, Missing, Failed };

class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;
  virtual StoreStatus get(const std::string& key, std::string* value) = 0;
  virtual bool set(const std::string& key, const std::string& value) = 0;
  virtual bool remove(const std::string& key) = 0;
  // Why the last call failed (e.g. "QuotaExceededError"); never holds a value.
  virtual std::string lastError() const { return {}; }
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Fires `name` with `detailJson` (a JSON object) as the CustomEvent detail.
  virtual void dispatch(const std::string& name, const std::string& detailJson) = 0;
};

class Scheduler {
 public:
  using Task = Callback<void()>;
  virtual ~Scheduler() = default;
  virtual double nowMs() = 0;  // milliseconds since the epoch, like Date.now()
  // Milliseconds on a clock that only moves forward, like performance.now():
  // durations are measured on it, whatever the wall clock says or does.
  virtual double monotonicMs() { return nowMs(); }
  virtual uint64_t setTimer(double delayMs, Task task) = 0;
  virtual void clearTimer(uint64_t id) = 0;
};

enum class LogLevel { Silent = 0, Error = 1, Warn = 2, Info = 3, Debug = 4 };

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void write(LogLevel level, const std::string& line) = 0;
};

// Messages between the tabs of one origin (BroadcastChannel, or the
// `storage` event where that is missing).
class TabChannel {
 public:
  using Receive = Callback<void(const std::string& messageJson)>;
  virtual ~TabChannel() = default;
  virtual void open(const std::string& name, Receive onMessage) = 0;
  virtual void post(const std::string& messageJson) = 0;
  virtual void close() = 0;
  // False when messages pass through shared storage: then they must not
  // carry secrets.
  virtual bool mayCarrySecrets() const = 0;
};

// A lock shared by the tabs of one origin (Web Locks, or a lease in shared
// storage with an expiry).
class TabLock {
 public:
  using Release = Callback<void()>;
  virtual ~TabLock() = default;
  // Calls `granted` once `name` is held, possibly before returning. The
  // holder calls the Release it is given exactly once.
  virtual void acquire(const std::string& name, double leaseMs, Callback<void(Release)> granted) = 0;
};

// The app's own state (CONTRACT.md §5.2): the hooks an app registered and
// the built-in cleaners it asked for, run in the logout sequence between the
// API state reset and the clearing of the tokens, and before the login of
// another user.
class ResetSink {
 public:
  using Settled = Callback<void()>;
  virtual ~ResetSink() = default;
  // Calls the hooks for `reason` ("user", "expired", "remote", "switch") and
  // starts the cleaners before it returns. `settled`, when given, runs once
  // their asynchronous work has finished or its bound (resetTimeoutMs) has
  // passed, never before reset() returns and at most once; a sink that is
  // destroyed first drops it.
  virtual void reset(const char* reason, Settled settled) = 0;
};

}  // namespace cleanslate
