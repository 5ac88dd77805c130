// The one EMSCRIPTEN_BINDINGS block: a `Session` class whose methods the JS
// entry (web/src/) wraps into promises. Values cross as strings and plain
// numbers; results come back through a JS callback. No C++ exception
// crosses into JS: the core reports failures as codes.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <memory>
#include <string>
#include <utility>

#include "core/config.h"
#include "core/json.h"
#include "core/session.h"
#include "core/token_store.h"
#include "platform/fetch_transport.h"
#include "platform/web_runtime.h"

namespace cleanslate {
namespace {

// Headers given as a JSON object of strings; anything else is rejected.
bool parseHeaders(const std::string& json, Headers* out) {
  if (json.empty()) return true;
  const Json parsed = parseJson(json);
  if (!parsed.is_object()) return false;
  for (const auto& item : parsed.items()) {
    if (!item.value().is_string()) return false;
    out->emplace_back(item.key(), item.value().get<std::string>());
  }
  return true;
}

}  // namespace

class WasmSession {
 public:
  explicit WasmSession(const std::string& configJson) {
    ConfigResult parsed = parseConfig(configJson);
    error_ = parsed.error;
    if (!error_.empty()) return;
    if (parsed.config.storage == StorageMode::Memory) {
      store_ = std::make_unique<MemoryStore>();
    } else {
      store_ = std::make_unique<WebStorage>(parsed.config.storage == StorageMode::Session ? WebStorageKind::Session
                                                                                          : WebStorageKind::Local);
    }
    Platform platform{&transport_, store_.get(), &events_, &scheduler_, &log_, &channel_, &lock_};
    session_ = std::make_unique<Session>(std::move(parsed.config), platform);
  }

  std::string configError() const { return error_; }

  void login(const std::string& email, const std::string& password, emscripten::val callback) {
    if (!session_) return;
    session_->login(email, password, [callback](const LoginOutcome& outcome) {
      callback(outcome.code, outcome.error, outcome.userJson);
    });
  }

  void logout(emscripten::val callback) {
    if (!session_) return;
    session_->logout([callback](const LogoutOutcome& outcome) { callback(outcome.backendNotified); });
  }

  void request(const std::string& method, const std::string& target, const std::string& body, bool hasBody,
               const std::string& contentType, const std::string& headersJson, emscripten::val callback) {
    if (!session_) return;
    auto reply = [callback](const RequestOutcome& outcome) {
      callback(outcome.code, outcome.response.status, outcome.response.body, outcome.response.rawHeaders);
    };
    RequestOptions options;
    options.body = body;
    options.hasBody = hasBody;
    options.contentType = contentType;
    if (!parseHeaders(headersJson, &options.headers)) {
      reply({code::kInvalidArgument, {}});
      return;
    }
    session_->request(method, target, std::move(options), reply);
  }

  void resetCsrfToken() {
    if (session_) session_->resetCsrfToken();
  }
  void resetApiState() {
    if (session_) session_->resetApiState();
  }
  bool isAuthenticated() { return session_ && session_->isAuthenticated(); }
  std::string user() { return session_ ? session_->userJson() : "null"; }
  void dispose() {
    if (session_) session_->dispose();
  }

 private:
  std::string error_;
  FetchTransport transport_;
  std::unique_ptr<KeyValueStore> store_;
  WindowEvents events_;
  BrowserScheduler scheduler_;
  ConsoleLog log_;
  BroadcastTabChannel channel_;
  WebTabLock lock_;
  std::unique_ptr<Session> session_;  // declared last: destroyed first
};

}  // namespace cleanslate

EMSCRIPTEN_BINDINGS(cleanslate) {
  using cleanslate::WasmSession;
  emscripten::class_<WasmSession>("Session")
      .constructor<std::string>()
      .function("_configError", &WasmSession::configError)
      .function("_login", &WasmSession::login)
      .function("logout", &WasmSession::logout)
      .function("_request", &WasmSession::request)
      .function("resetCsrfToken", &WasmSession::resetCsrfToken)
      .function("resetApiState", &WasmSession::resetApiState)
      .function("isAuthenticated", &WasmSession::isAuthenticated)
      .function("_user", &WasmSession::user)
      .function("dispose", &WasmSession::dispose);
}
