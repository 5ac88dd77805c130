// Browser adapters (see web_runtime.h). They use whatever globals they find
// on globalThis, so the same build runs in a page and in Node under jsdom.
// The JavaScript they call is in library_cleanslate.js.
#include "web_runtime.h"

#include "../core/id_table.h"
#include "library_cleanslate.h"

#include <emscripten/emscripten.h>
#include <emscripten/eventloop.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace cleanslate {

// ---------------------------------------------------------------- storage

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

bool WebStorage::remove(const std::string& key) { return cs_storage_remove(static_cast<int>(kind_), key.c_str()) != 0; }

std::string WebStorage::lastError() const { return takeString(cs_storage_error()); }

// ---------------------------------------------------------------- events

void WindowEvents::dispatch(const std::string& name, const std::string& detailJson) {
  cs_dispatch_event(name.c_str(), detailJson.c_str());
}

// ---------------------------------------------------------------- console

void ConsoleLog::write(LogLevel level, const std::string& line) { cs_console(static_cast<int>(level), line.c_str()); }

// ---------------------------------------------------------------- clock, timers

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

namespace {
IdMap<TabChannel::Receive> channelRegistry;  // the open channels' handlers, by channel id
int nextChannelId = 1;
}  // namespace

BroadcastTabChannel::BroadcastTabChannel() : id_(nextChannelId++) {}
BroadcastTabChannel::~BroadcastTabChannel() { close(); }

void BroadcastTabChannel::open(const std::string& name, Receive onMessage) {
  channelRegistry.emplace(static_cast<uint64_t>(id_), std::move(onMessage));
  mode_ = cs_channel_open(id_, name.c_str());
}

void BroadcastTabChannel::post(const std::string& messageJson) {
  if (mode_ != 0) cs_channel_post(id_, messageJson.c_str());
}

void BroadcastTabChannel::close() {
  if (channelRegistry.erase(static_cast<uint64_t>(id_))) cs_channel_close(id_);
  mode_ = 0;
}

}  // namespace cleanslate

extern "C" EMSCRIPTEN_KEEPALIVE void cs_channel_deliver(int id, const char* message) {
  auto& receivers = cleanslate::channelRegistry;
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

namespace {
IdMap<Callback<void(TabLock::Release)>> lockRegistry;  // the requests waiting for a lock, by request id
int nextLockId = 1;
}  // namespace

void WebTabLock::acquire(const std::string& name, double leaseMs, Callback<void(Release)> granted) {
  const int id = nextLockId++;
  lockRegistry.emplace(static_cast<uint64_t>(id), std::move(granted));
  cs_lock_request(id, name.c_str(), leaseMs);
}

}  // namespace cleanslate

extern "C" EMSCRIPTEN_KEEPALIVE void cs_lock_granted(int id) {
  const auto granted = cleanslate::lockRegistry.take(static_cast<uint64_t>(id));
  if (granted == nullptr) {
    cs_lock_release(id);
    return;
  }
  (*granted)([id]() { cs_lock_release(id); });
}

// ---------------------------------------------------------------- the app's reset hooks

namespace cleanslate {

void WebReset::reset(const char* reason, Settled settled) {
  int token = 0;
  if (settled) {
    token = ++token_;
    waiting_ = std::move(settled);
  }
  cs_reset(handle_, reason, token);
}

void WebReset::settle(int token) {
  if (token != token_ || !waiting_) return;
  Settled settled = std::move(waiting_);
  settled();
}

}  // namespace cleanslate
