// Proactive refresh arithmetic (see refresh_schedule.h).
#include "refresh_schedule.h"

#include <algorithm>
#include <cmath>

namespace cleanslate {

void RefreshSchedule::received(const std::string& fp, double monoNowMs, std::optional<double> lifetimeSec) {
  fp_ = fp;
  known_ = lifetimeSec && std::isfinite(*lifetimeSec) && *lifetimeSec > 0;
  deadlineMs_ = known_ ? monoNowMs + *lifetimeSec * 1000.0 : 0;
}

void RefreshSchedule::adopted(const std::string& fp, double monoNowMs, double remainingMs) {
  received(fp, monoNowMs, remainingMs / 1000.0);
}

void RefreshSchedule::clear() {
  fp_.clear();
  known_ = false;
  deadlineMs_ = 0;
}

std::optional<double> RefreshSchedule::remainingMs(const std::string& fp, double monoNowMs) const {
  if (fp.empty() || fp != fp_ || !known_) return std::nullopt;
  return deadlineMs_ - monoNowMs;
}

std::optional<double> RefreshSchedule::delayMs(const std::string& fp, double monoNowMs, double wallNowMs,
                                               std::optional<double> wallExpMs, double leewayMs) const {
  double remaining = 0;
  if (!fp.empty() && fp == fp_) {
    if (known_) {
      remaining = deadlineMs_ - monoNowMs;
    } else {
      // Received here with no lifetime: `exp` against the local clock is all
      // there is. A fresh token that already looks due means the clocks
      // disagree; refreshing would only bring another such token.
      if (!wallExpMs) return std::nullopt;
      remaining = *wallExpMs - wallNowMs;
      if (remaining - leewayMs <= kMinDelayMs) return std::nullopt;
    }
  } else {
    if (!wallExpMs) return std::nullopt;  // opaque: the 401 path only
    remaining = *wallExpMs - wallNowMs;
  }
  // A token that lives shorter than the leeway is refreshed halfway through,
  // never in a tight loop.
  return std::max(std::max(remaining - leewayMs, remaining / 2), kMinDelayMs);
}

}  // namespace cleanslate
