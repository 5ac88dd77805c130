// When to refresh the access token before it expires: pure arithmetic, no
// timers. The client's clock may be minutes off the server's, so a token's
// `exp` is never compared with the local time when it can be avoided: the
// token's lifetime as received (the answer's `expires_in`, or `exp - iat`)
// is measured on the local monotonic clock from the moment it arrived, and
// passed on to other tabs as time left.
#pragma once

#include <optional>
#include <string>

namespace cleanslate {

class RefreshSchedule {
 public:
  // Tokens this tab just received, named by the fingerprint of their refresh
  // token; `lifetimeSec` is empty when the answer gave no way to tell.
  void received(const std::string& fp, double monoNowMs, std::optional<double> lifetimeSec);
  // Tokens another tab received, which has said how long they have left.
  void adopted(const std::string& fp, double monoNowMs, double remainingMs);
  void clear();

  // How long the tokens named `fp` have left, when known.
  std::optional<double> remainingMs(const std::string& fp, double monoNowMs) const;

  // The delay until a proactive refresh of the tokens named `fp`, or empty:
  // no proactive refresh (the 401 path remains). `wallExpMs` is the access
  // token's `exp` in ms, compared with `wallNowMs` only for tokens this
  // schedule knows nothing about (a page reloaded with tokens in storage):
  // those are refreshed at most once early if the local clock runs ahead.
  std::optional<double> delayMs(const std::string& fp, double monoNowMs, double wallNowMs,
                                std::optional<double> wallExpMs, double leewayMs) const;

  static constexpr double kMinDelayMs = 1000;

 private:
  std::string fp_;         // the tokens the deadline belongs to; empty: none
  bool known_ = false;     // whether the deadline is known
  double deadlineMs_ = 0;  // on the monotonic clock
};

}  // namespace cleanslate
