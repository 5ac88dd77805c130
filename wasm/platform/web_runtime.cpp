// Browser adapters (see web_runtime.h). They use whatever globals they find
// on globalThis, so the same build runs in a page and in Node under jsdom.
#include "web_runtime.h"

#include "../core/id_table.h"

#include <emscripten/emscripten.h>
#include <emscripten/eventloop.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace cleanslate {

// ---------------------------------------------------------------- storage

EM_JS(int, cs_storage_get, (int kind, const char* key, char** out), {
  try {
    var w = globalThis.window || {};
    var area = kind ? (globalThis.sessionStorage || w.sessionStorage) : (globalThis.localStorage || w.localStorage);
    if (!area) throw new Error("Web Storage is not available");
    var value = area.getItem(UTF8ToString(key));
    if (value === null || value === undefined) return 0;
    var size = lengthBytesUTF8(value) + 1;
    var ptr = _malloc(size);
    stringToUTF8(value, ptr, size);
    HEAPU32[out >> 2] = ptr;
    return 1;
  } catch (e) {
    Module["csStorageError"] = (e && e.name) || "Error";
    return -1;
  }
});

EM_JS(int, cs_storage_set, (int kind, const char* key, const char* value), {
  try {
    var w = globalThis.window || {};
    var area = kind ? (globalThis.sessionStorage || w.sessionStorage) : (globalThis.localStorage || w.localStorage);
    if (!area) throw new Error("Web Storage is not available");
    area.setItem(UTF8ToString(key), UTF8ToString(value));
    return 1;
  } catch (e) {
    Module["csStorageError"] = (e && e.name) || "Error";
    return 0;
  }
});

EM_JS(int, cs_storage_remove, (int kind, const char* key), {
  try {
    var w = globalThis.window || {};
    var area = kind ? (globalThis.sessionStorage || w.sessionStorage) : (globalThis.localStorage || w.localStorage);
    if (!area) throw new Error("Web Storage is not available");
    area.removeItem(UTF8ToString(key));
    return 1;
  } catch (e) {
    Module["csStorageError"] = (e && e.name) || "Error";
    return 0;
  }
});

EM_JS(char*, cs_storage_error, (), {
  var text = String(Module["csStorageError"] || "");
  var size = lengthBytesUTF8(text) + 1;
  var ptr = _malloc(size);
  stringToUTF8(text, ptr, size);
  return ptr;
});

namespace {
std::string takeString(char* ptr) {
  if (ptr == nullptr) return {};
  std::string out(ptr);
  std::free(ptr);
  return out;
}
}  // namespace

StoreStatus WebStorage::get(const std::string& key, std::string* value) {
  char* out = nullptr;
  const int status = cs_storage_get(static_cast<int>(kind_), key.c_str(), &out);
  if (status < 0) return StoreStatus::Failed;
  if (status == 0) return StoreStatus::Missing;
  *value = takeString(out);
  return StoreStatus::Ok;
}

bool WebStorage::set(const std::string& key, const std::string& value) {
  return cs_storage_set(static_cast<int>(kind_), key.c_str(), value.c_str()) != 0;
}

bool WebStorage::remove(const std::string& key) {
  return cs_storage_remove(static_cast<int>(kind_), key.c_str()) != 0;
}

std::string WebStorage::lastError() const { return takeString(cs_storage_error()); }

// ---------------------------------------------------------------- events

EM_JS(void, cs_dispatch_event, (const char* name, const char* detail), {
  var g = globalThis;
  var w = g.window;
  var target = typeof g.dispatchEvent === "function" ? g : (w && typeof w.dispatchEvent === "function" ? w : null);
  // The event must come from the same realm as the target (jsdom's window
  // rejects Node's own CustomEvent).
  var Ctor = (w && w.CustomEvent) || g.CustomEvent;
  if (!target || !Ctor) return;
  try {
    target.dispatchEvent(new Ctor(UTF8ToString(name), { detail: JSON.parse(UTF8ToString(detail)) }));
  } catch (e) {
    console.error("[Auth] Could not dispatch " + UTF8ToString(name) + ": " + (e && e.message));
  }
});

void WindowEvents::dispatch(const std::string& name, const std::string& detailJson) {
  cs_dispatch_event(name.c_str(), detailJson.c_str());
}

// ---------------------------------------------------------------- console

EM_JS(void, cs_console, (int level, const char* line), {
  var text = UTF8ToString(line);
  if (level <= 1) console.error(text);
  else if (level == 2) console.warn(text);
  else console.log(text);
});

void ConsoleLog::write(LogLevel level, const std::string& line) {
  cs_console(static_cast<int>(level), line.c_str());
}

// ---------------------------------------------------------------- clock, timers

EM_JS(double, cs_now, (), { return Date.now(); });

// The timers' own clock: monotonic, like the one setTimeout runs on.
EM_JS(double, cs_monotonic_now, (), { return performance.now(); });

// The destructor clears a pending browser timer, so fire() never sees a
// scheduler that is gone; only one of its own tasks may end it (alive_).
BrowserScheduler::~BrowserScheduler() {
  if (armed_) emscripten_clear_timeout(jsTimer_);
}

double BrowserScheduler::nowMs() { return cs_now(); }
double BrowserScheduler::monotonicMs() { return cs_monotonic_now(); }

uint64_t BrowserScheduler::setTimer(double delayMs, Task task) {
  const uint64_t id = nextTimerId_++;
  const double due = cs_monotonic_now() + std::max(0.0, delayMs);
  tasks_.push_back(Entry{id, due, std::move(task)});
  if (!armed_ || due < armedDue_) arm();
  return id;
}

void BrowserScheduler::clearTimer(uint64_t id) {
  const auto it = std::find_if(tasks_.begin(), tasks_.end(), [id](const Entry& e) { return e.id == id; });
  if (it == tasks_.end()) return;
  tasks_.erase(it);
  // The browser timer stays armed while anything else waits: the common case
  // (a request's deadline cleared as it answers) then costs no timer call.
  if (tasks_.empty() && armed_) {
    emscripten_clear_timeout(jsTimer_);
    armed_ = false;
  }
}

// The task to run first: the earliest due, and of those the first set
// (tasks_ is in the order they were set).
std::size_t BrowserScheduler::next() const {
  std::size_t first = 0;
  for (std::size_t i = 1; i < tasks_.size(); ++i) {
    if (tasks_[i].due < tasks_[first].due) first = i;
  }
  return first;
}

void BrowserScheduler::arm() {
  if (armed_) emscripten_clear_timeout(jsTimer_);
  armed_ = false;
  if (tasks_.empty()) return;
  armedDue_ = tasks_[next()].due;
  const double delay = std::max(0.0, std::ceil(armedDue_ - cs_monotonic_now()));
  jsTimer_ = emscripten_set_timeout(&BrowserScheduler::fire, delay, this);
  armed_ = true;
}

void BrowserScheduler::fire(void* userData) {
  auto* scheduler = static_cast<BrowserScheduler*>(userData);
  const Liveness::Watch alive = scheduler->alive_.watch();
  scheduler->armed_ = false;
  // Every task already due runs now, earliest first; one set meanwhile waits
  // for a later turn. A task may set or clear timers, or end the scheduler
  // itself, so the tasks are looked at afresh after each one.
  const double now = cs_monotonic_now();
  const uint64_t setBefore = scheduler->nextTimerId_;
  std::vector<Entry>& tasks = scheduler->tasks_;
  while (!tasks.empty()) {
    const std::size_t first = scheduler->next();
    if (tasks[first].due > now || tasks[first].id >= setBefore) break;
    Task task = std::move(tasks[first].task);
    tasks.erase(tasks.begin() + static_cast<std::ptrdiff_t>(first));
    if (task) task();
    if (!alive) return;
  }
  if (!scheduler->armed_) scheduler->arm();
}

// ---------------------------------------------------------------- cross-tab channel

EM_JS(int, cs_channel_open, (int id, const char* name), {
  var key = UTF8ToString(name);
  var state = {};
  var deliver = function(text) {
    if (typeof text !== "string" || !Module.csChannels || Module.csChannels[id] !== state) return;
    var size = lengthBytesUTF8(text) + 1;
    var ptr = _malloc(size);
    stringToUTF8(text, ptr, size);
    _cs_channel_deliver(id, ptr);
    _free(ptr);
  };
  var mode = 0;
  if (typeof globalThis.BroadcastChannel === "function") {
    try {
      state.channel = new globalThis.BroadcastChannel(key);
      state.channel.onmessage = function(event) { deliver(event.data); };
      mode = 1;
    } catch (e) {
      state.channel = null;
    }
  }
  if (!mode && typeof globalThis.addEventListener === "function") {
    state.storageKey = "cleanslate_msg:" + key;
    state.onStorage = function(event) {
      if (event.key !== state.storageKey || !event.newValue) return;
      try { deliver(JSON.parse(event.newValue)["m"]); } catch (e) {}
    };
    globalThis.addEventListener("storage", state.onStorage);
    mode = 2;
  }
  (Module.csChannels = Module.csChannels || {})[id] = state;
  return mode;
});

EM_JS(void, cs_channel_post, (int id, const char* message), {
  var state = Module.csChannels && Module.csChannels[id];
  if (!state) return;
  var text = UTF8ToString(message);
  try {
    if (state.channel) {
      state.channel.postMessage(text);
    } else if (state.storageKey && globalThis.localStorage) {
      // Setting then removing the key fires `storage` in the other tabs.
      globalThis.localStorage.setItem(state.storageKey, JSON.stringify({ "m": text, "n": Math.random() }));
      globalThis.localStorage.removeItem(state.storageKey);
    }
  } catch (e) {}
});

EM_JS(void, cs_channel_close, (int id), {
  var state = Module.csChannels && Module.csChannels[id];
  if (!state) return;
  delete Module.csChannels[id];
  try { if (state.channel) state.channel.close(); } catch (e) {}
  if (state.onStorage && typeof globalThis.removeEventListener === "function") {
    globalThis.removeEventListener("storage", state.onStorage);
  }
});

namespace {
IdMap<TabChannel::Receive>& channelRegistry() {
  static IdMap<TabChannel::Receive> receivers;
  return receivers;
}
int nextChannelId = 1;
}  // namespace

BroadcastTabChannel::BroadcastTabChannel() : id_(nextChannelId++) {}
BroadcastTabChannel::~BroadcastTabChannel() { close(); }

void BroadcastTabChannel::open(const std::string& name, Receive onMessage) {
  channelRegistry().emplace(static_cast<uint64_t>(id_), std::move(onMessage));
  mode_ = cs_channel_open(id_, name.c_str());
}

void BroadcastTabChannel::post(const std::string& messageJson) {
  if (mode_ != 0) cs_channel_post(id_, messageJson.c_str());
}

void BroadcastTabChannel::close() {
  if (channelRegistry().erase(static_cast<uint64_t>(id_))) cs_channel_close(id_);
  mode_ = 0;
}

}  // namespace cleanslate

extern "C" EMSCRIPTEN_KEEPALIVE void cs_channel_deliver(int id, const char* message) {
  auto& receivers = cleanslate::channelRegistry();
  const auto key = static_cast<uint64_t>(id);
  cleanslate::TabChannel::Receive* found = receivers.find(key);
  if (found == nullptr || !*found) return;
  // Held outside the registry while it runs: the handler may close the
  // channel (or reopen it with a new handler).
  cleanslate::TabChannel::Receive receive = std::move(*found);
  receive(message);
  cleanslate::TabChannel::Receive* again = receivers.find(key);
  if (again != nullptr && !*again) *again = std::move(receive);
}

namespace cleanslate {

// ---------------------------------------------------------------- cross-tab lock

EM_JS(void, cs_lock_request, (int id, const char* name, double leaseMs), {
  var key = UTF8ToString(name);
  var held = Module.csLocks = Module.csLocks || {};
  var grant = function(release) { held[id] = release; _cs_lock_granted(id); };
  var locks = globalThis.navigator && globalThis.navigator.locks;
  if (locks && typeof locks.request === "function") {
    try {
      locks.request(key, function() {
        return new Promise(function(resolve) { grant(resolve); });
      }).catch(function() {});
      return;
    } catch (e) {}
  }
  var storage = null;
  try { storage = globalThis.localStorage || null; } catch (e) {}
  if (!storage) {  // nothing shared between tabs: this tab's own order is all there is
    grant(function() {});
    return;
  }
  var leaseKey = "cleanslate_lease:" + key;
  var owner = id + ":" + Math.random();
  var read = function() {
    try { return JSON.parse(storage.getItem(leaseKey) || "null"); } catch (e) { return null; }
  };
  var attempt = function() {
    var current = read();
    if (current && current["expires"] > Date.now() && current["owner"] !== owner) {
      setTimeout(attempt, 25);
      return;
    }
    try {
      storage.setItem(leaseKey, JSON.stringify({ "owner": owner, "expires": Date.now() + leaseMs }));
    } catch (e) {
      grant(function() {});
      return;
    }
    // A tab that wrote at the same moment shows itself within a few ms.
    setTimeout(function() {
      var check = read();
      if (!check || check["owner"] !== owner) {
        setTimeout(attempt, 25);
        return;
      }
      grant(function() {
        var now = read();
        if (now && now["owner"] === owner) { try { storage.removeItem(leaseKey); } catch (e) {} }
      });
    }, 15);
  };
  attempt();
});

EM_JS(void, cs_lock_release, (int id), {
  var held = Module.csLocks;
  var release = held && held[id];
  if (!release) return;
  delete held[id];
  release();
});

namespace {
IdMap<Callback<void(TabLock::Release)>>& lockRegistry() {
  static IdMap<Callback<void(TabLock::Release)>> waiting;
  return waiting;
}
int nextLockId = 1;
}  // namespace

void WebTabLock::acquire(const std::string& name, double leaseMs, Callback<void(Release)> granted) {
  const int id = nextLockId++;
  lockRegistry().emplace(static_cast<uint64_t>(id), std::move(granted));
  cs_lock_request(id, name.c_str(), leaseMs);
}

}  // namespace cleanslate

extern "C" EMSCRIPTEN_KEEPALIVE void cs_lock_granted(int id) {
  const auto granted = cleanslate::lockRegistry().take(static_cast<uint64_t>(id));
  if (granted == nullptr) {
    cleanslate::cs_lock_release(id);
    return;
  }
  (*granted)([id]() { cleanslate::cs_lock_release(id); });
}
