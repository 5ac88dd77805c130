// Transport over emscripten_fetch (XMLHttpRequest underneath).
#pragma once

#include "../core/id_table.h"
#include "../core/interfaces.h"

namespace cleanslate {

class FetchTransport final : public Transport {
 public:
  FetchTransport() = default;
  ~FetchTransport() override;
  FetchTransport(const FetchTransport&) = delete;
  FetchTransport& operator=(const FetchTransport&) = delete;

  uint64_t send(const HttpRequest& request, Done done) override;
  void abort(uint64_t handle) override;

  struct Context;
  // Called when a request has answered: it is no longer abortable.
  void release(uint64_t handle) { inFlight_.take(handle); }
  // Called once a request send() queued has been handed to emscripten_fetch
  // (fetch: its struct, or null when starting it threw).
  void started(uint64_t handle, void* fetch);

 private:
  IdTable inFlight_;  // handle -> Context*, not owned
  uint64_t nextHandle_ = 1;
};

}  // namespace cleanslate
