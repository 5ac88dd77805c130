// Browser adapters for the core's storage, events, log and timer interfaces:
// Web Storage, CustomEvent on globalThis, console, setTimeout and Date.now.
#pragma once

#include <string>
#include <vector>

#include "../core/interfaces.h"
#include "../core/liveness.h"

namespace cleanslate {

enum class WebStorageKind { Local = 0, Session = 1 };

// localStorage / sessionStorage; every call is guarded, a throw is a failure.
class WebStorage final : public KeyValueStore {
 public:
  explicit WebStorage(WebStorageKind kind) : kind_(kind) {}
  StoreStatus get(const std::string& key, std::string* value) override;
  bool set(const std::string& key, const std::string& value) override;
  bool remove(const std::string& key) override;
  std::string lastError() const override;

 private:
  WebStorageKind kind_;
};

class WindowEvents final : public EventSink {
 public:
  void dispatch(const std::string& name, const std::string& detailJson) override;
};

class ConsoleLog final : public LogSink {
 public:
  void write(LogLevel level, const std::string& line) override;
};

// One browser timer per scheduler, armed for the earliest task: setting and
// clearing a task (a request's deadline, most often) touches no browser timer
// unless it changes which task comes first.
class BrowserScheduler final : public Scheduler {
 public:
  BrowserScheduler() = default;
  ~BrowserScheduler() override;
  BrowserScheduler(const BrowserScheduler&) = delete;
  BrowserScheduler& operator=(const BrowserScheduler&) = delete;

  double nowMs() override;
  double monotonicMs() override;
  uint64_t setTimer(double delayMs, Task task) override;
  void clearTimer(uint64_t id) override;

 private:
  struct Entry {
    uint64_t id;
    double due;  // on the monotonic clock
    Task task;
  };
  std::size_t next() const;
  void arm();
  static void fire(void* userData);

  Liveness alive_;
  uint64_t nextTimerId_ = 1;
  std::vector<Entry> tasks_;  // in the order they were set
  bool armed_ = false;
  long jsTimer_ = 0;
  double armedDue_ = 0;
};

// BroadcastChannel named after apiBase; the `storage` event where it is
// missing (then messages never carry secrets).
class BroadcastTabChannel final : public TabChannel {
 public:
  BroadcastTabChannel();
  ~BroadcastTabChannel() override;
  BroadcastTabChannel(const BroadcastTabChannel&) = delete;
  BroadcastTabChannel& operator=(const BroadcastTabChannel&) = delete;

  void open(const std::string& name, Receive onMessage) override;
  void post(const std::string& messageJson) override;
  void close() override;
  bool mayCarrySecrets() const override { return mode_ == 1; }

 private:
  int id_;
  int mode_ = 0;  // 0 closed or unavailable, 1 BroadcastChannel, 2 storage event
};

// navigator.locks where present, else a lease in localStorage with an expiry.
class WebTabLock final : public TabLock {
 public:
  void acquire(const std::string& name, double leaseMs, Callback<void(Release)> granted) override;
};

// The app's reset hooks and cleaners, run by the JS entry (Module.csReset);
// it hands an asynchronous reset's end back through settle(). The core holds
// at most one login for a reset at a time, so one waiting slot is enough: a
// newer reset's `settled` replaces (drops) an older one.
class WebReset final : public ResetSink {
 public:
  explicit WebReset(int sessionHandle) : handle_(sessionHandle) {}
  void reset(const char* reason, Settled settled) override;
  void settle(int token);

 private:
  int handle_;
  int token_ = 0;  // of the reset `waiting_` belongs to
  Settled waiting_;
};

}  // namespace cleanslate
