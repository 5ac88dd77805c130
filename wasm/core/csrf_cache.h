// The CSRF token of the current session: fetched from endpoints.csrf at most
// once at a time, however many unsafe requests wait for it, and never used
// by another session than the one it was fetched for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "errors.h"
#include "interfaces.h"
#include "liveness.h"
#include "log.h"
#include "scoped_timer.h"

namespace cleanslate {

class CsrfCache {
 public:
  // Where the requests that waited go back to.
  class Delegate {
   public:
    // With no error the request goes on (and asks again), else it settles with `error`.
    virtual void resume(uint64_t call, std::optional<ErrorCode> error) = 0;

   protected:
    ~Delegate() = default;
  };

  CsrfCache(const Config& config, Transport& transport, Scheduler& scheduler, const Log& log,
            const uint64_t& generation, const Liveness& alive, Delegate& delegate);

  // Whether a token is held for the current generation.
  bool current() const { return !token_.empty() && tokenGeneration_ == generation_; }
  const std::string& token() const { return token_; }
  // Queues `call` until a token arrives, fetching one unless a fetch is under way.
  void wait(uint64_t call);
  // Forgets the token and any fetch under way; its waiters start over.
  void drop();
  // A 403 csrf_invalid answered a request sent with `used`: forgets it,
  // unless a newer token has replaced it meanwhile.
  void rejected(const std::string& used);
  // Keeps the token held for the generation that just began (a login's own).
  void adopt() { tokenGeneration_ = generation_; }
  void dispose();

 private:
  void fetch();
  void stopFetch();
  void onAnswer(uint64_t epoch, const HttpResponse& response);
  void resumeAll(std::optional<ErrorCode> error);

  const Config& config_;
  Transport& transport_;
  Scheduler& scheduler_;
  const Log& log_;
  const uint64_t& generation_;
  Delegate& delegate_;

  std::string token_;
  uint64_t tokenGeneration_ = 0;
  bool fetching_ = false;
  uint64_t fetchGeneration_ = 0;
  uint64_t epoch_ = 0;  // moves on with every fetch and drop: late answers are ignored
  uint64_t handle_ = 0;
  ScopedTimer deadline_;
  std::vector<uint64_t> waiters_;  // non-empty exactly while a fetch is under way
  const Liveness& alive_;          // the session's: callbacks that outlive it check it
};

}  // namespace cleanslate
