// Cross-tab messages (see tab_sync.h).
#include "tab_sync.h"

#include <algorithm>
#include <utility>

#include "json.h"
#include "wire.h"

namespace cleanslate {
namespace {

// Appends the member "name":jsonValue to `fields`, the members of a JSON
// object being assembled.
void addField(std::string* fields, const char* name, const std::string& jsonValue) {
  if (!fields->empty()) *fields += ',';
  *fields += '"';
  *fields += name;
  *fields += "\":";
  *fields += jsonValue;
}

}  // namespace

TabSync::TabSync(const Config& config, TabChannel* channel, Scheduler& scheduler, const Log& log,
                 Credentials& credentials, RefreshCoordinator& refresh, const Liveness& alive, Delegate& delegate)
    : config_(config),
      channel_(channel),
      log_(log),
      credentials_(credentials),
      refresh_(refresh),
      delegate_(delegate),
      joinPoll_(scheduler),
      alive_(alive) {}

void TabSync::open() {
  if (channel_ == nullptr) return;
  channel_->open("cleanslate:" + config_.apiBase, [this, alive = alive_.watch()](const std::string& message) {
    if (alive) receive(message);
  });
}

void TabSync::close() {
  closed_ = true;
  joinPoll_.cancel();
  if (channel_ != nullptr) channel_->close();
}

void TabSync::post(const char* type, const std::string& fields) {
  if (channel_ == nullptr) return;
  std::string message = "{\"type\":\"";
  message += type;
  message += '"';
  if (!fields.empty()) {
    message += ',';
    message += fields;
  }
  message += '}';
  channel_->post(message);
}

void TabSync::postTokens(const char* type, std::string fields, const std::string& access, const std::string& refresh) {
  // The fingerprint names the session: with shared storage the other tabs
  // read the tokens themselves and know from it when they see the right ones,
  // and a tab that logs out before it has seen them names the session with
  // it. Tokens cross only a channel that does not pass through storage, and
  // only when storage is not shared.
  const std::string fp = fingerprint(refresh);
  addField(&fields, "fp", jsonString(fp));
  // How long they have left, so the other tabs schedule their refresh from
  // this tab's measurement rather than from `exp` and their own clock.
  if (const auto left = refresh_.remainingMs(fp)) {
    addField(&fields, "ttl", decimal(static_cast<long long>(std::max(0.0, *left))));
  }
  if (!credentials_.shared() && channel_ != nullptr && channel_->mayCarrySecrets()) {
    addField(&fields, "access_token", jsonString(access));
    addField(&fields, "refresh_token", jsonString(refresh));
  }
  post(type, fields);
}

void TabSync::cancelJoin() {
  ++joinEpoch_;
  joinFp_.clear();
}

void TabSync::receive(const std::string& messageJson) {
  if (closed_) return;
  JsonObject message;
  std::string type;
  if (!message.parse(messageJson) || !message.string("type", &type)) return;
  log_(LogLevel::Debug, "[Auth] Message from another tab: " + type.substr(0, 16));
  std::string access;
  std::string refresh;
  const bool carriesTokens =
      message.string("access_token", &access) && message.string("refresh_token", &refresh) && isHeaderValue(access);
  std::string fp;
  const bool hasFp = message.string("fp", &fp);
  const auto ttl = numberMember(message, "ttl");
  if (type == "logout") {
    // A tab that logged out before it saw this tab's tokens names them by
    // fingerprint; the tab that wrote them revokes them, exactly once.
    std::string revoke;
    const std::string& own = credentials_.ownRefresh;
    std::string handedOver;
    if (message.string("revoke", &revoke) && !own.empty() && fingerprint(own) == revoke) handedOver = own;
    cancelJoin();  // a login of another tab this tab has not joined yet is off
    delegate_.remoteLogout(handedOver);
  } else if (type == "login") {
    std::string user;
    if (!message.object("user", &user)) return;
    delegate_.remoteLogin();
    credentials_.active = false;
    credentials_.ownRefresh.clear();  // the other tab's session replaces this tab's own
    if (carriesTokens && !credentials_.shared()) credentials_.tokens.store(access, refresh, user);
    joinFp_ = fp;
    joinUser_ = user;
    refresh_.adopted(fp, ttl);
    join(++joinEpoch_, kStoragePolls);
  } else if (type == "refresh") {
    if (!credentials_.active) return;
    if (carriesTokens && !credentials_.shared()) credentials_.tokens.rotate(access, refresh);
    refresh_.rotatedElsewhere(hasFp ? &fp : nullptr, ttl);
  }
}

void TabSync::join(uint64_t epoch, int pollsLeft) {
  if (epoch != joinEpoch_ || closed_) return;  // a newer login or a logout came meanwhile
  const std::string refreshToken = credentials_.tokens.refresh();
  const bool visible = credentials_.tokens.hasTokens() && (joinFp_.empty() || fingerprint(refreshToken) == joinFp_);
  if (!visible) {
    // Storage written by another tab can show up here a moment after its message.
    if (pollsLeft <= 0) return log_(LogLevel::Debug, "[Auth] Login in another tab left no tokens to join");
    joinPoll_.arm(kStoragePollMs, [this, epoch, pollsLeft]() { join(epoch, pollsLeft - 1); });
    return;
  }
  credentials_.active = true;
  joinFp_.clear();
  refresh_.joined();
  log_(LogLevel::Info, "[Auth] Logged in from another tab");
  refresh_.schedule();
  delegate_.joined(joinUser_);
}

}  // namespace cleanslate
