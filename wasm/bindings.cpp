// The one EMSCRIPTEN_BINDINGS block. Sessions are held here and named by an
// integer handle; the JS entry (web/src/) wraps the functions into the
// promise API. Values cross as strings and numbers, and each kind of result
// comes back through its own JS function (cs_login_result, cs_logout_result,
// cs_request_result in platform/library_cleanslate.js) keyed by a callback
// id, so the module needs neither embind classes nor emscripten::val. No C++
// exception crosses into JS: the core reports failures as codes.
#include <emscripten/bind.h>
#include <emscripten/emscripten.h>
#include <emscripten/eventloop.h>

#include <climits>
#include <memory>
#include <string>
#include <utility>

#include "core/config.h"
#include "core/id_table.h"
#include "core/json.h"
#include "core/session.h"
#include "core/token_store.h"
#include "platform/fetch_transport.h"
#include "platform/library_cleanslate.h"
#include "platform/web_runtime.h"

namespace cleanslate {
namespace {

// Headers given as a JSON object of strings; anything else is rejected.
bool parseHeaders(const std::string& json, Headers* out) {
  if (json.empty()) return true;
  JsonObject parsed;
  if (!parsed.parse(json)) return false;
  for (const JsonMember& member : parsed.members()) {
    if (member.kind != JsonKind::String) return false;
    out->emplace_back(member.key, member.value);
  }
  return true;
}

// The store the `storage` option names.
std::unique_ptr<KeyValueStore> makeStore(StorageMode mode) {
  if (mode == StorageMode::Memory) return std::make_unique<MemoryStore>();
  return std::make_unique<WebStorage>(mode == StorageMode::Session ? WebStorageKind::Session : WebStorageKind::Local);
}

// One session with the browser adapters it runs on.
class WasmSession {
 public:
  // Everything is built in the member list: assigning `session` in the body
  // would compile in a reset() of the empty pointer (about 40 B gzip).
  WasmSession(int handle, const Config& config)
      : store_(makeStore(config.storage)),
        reset_(handle),
        session(std::make_unique<Session>(
            config, Platform{&transport_, store_.get(), &events_, &scheduler_, &log_, &channel_, &lock_, &reset_})) {}
  void resetSettled(int token) { reset_.settle(token); }

 private:
  FetchTransport transport_;
  std::unique_ptr<KeyValueStore> store_;
  WindowEvents events_;
  BrowserScheduler scheduler_;
  ConsoleLog log_;
  BroadcastTabChannel channel_;
  WebTabLock lock_;
  WebReset reset_;

 public:
  std::unique_ptr<Session> session;  // declared last: destroyed first
};

IdMap<WasmSession>& sessions() {
  static IdMap<WasmSession> all;
  return all;
}
int nextHandle = 1;
std::string lastConfigError;

Session* find(int handle) {
  WasmSession* found = sessions().find(static_cast<uint64_t>(handle));
  return found == nullptr || found->session->disposed() ? nullptr : found->session.get();
}

void destroyLater(void* handle) { sessions().erase(static_cast<uint64_t>(reinterpret_cast<intptr_t>(handle))); }

// ---------------------------------------------------------------- the bound functions

int create(const std::string& configJson) {
  ConfigResult parsed = parseConfig(configJson);
  lastConfigError = parsed.error;
  if (!parsed.error.empty()) return 0;
  const int handle = nextHandle++;
  sessions().emplace(static_cast<uint64_t>(handle), handle, parsed.config);
  return handle;
}

std::string configError() { return lastConfigError; }

void login(int handle, const std::string& email, const std::string& password, int callback) {
  Session* session = find(handle);
  if (session == nullptr) return cs_login_result(callback, code::kDisposed, "", "");
  session->login(email, password, [callback](const LoginOutcome& o) {
    cs_login_result(callback, o.code.c_str(), o.error.c_str(), o.userJson.c_str());
  });
}

void logout(int handle, int callback) {
  Session* session = find(handle);
  if (session == nullptr) return cs_logout_result(callback, code::kDisposed, 0);
  session->logout([callback](const LogoutOutcome& o) { cs_logout_result(callback, "", o.backendNotified ? 1 : 0); });
}

// Returns the call's id for _abort (0: it has settled already, or its id
// does not fit an int, which would take 2^31 requests of one session). The
// body crosses as bytes: the JS entry passes a Uint8Array, which embind
// copies into the std::string verbatim (NULs included); a JS string is
// encoded as UTF-8.
int request(int handle, const std::string& method, const std::string& target, std::string body, bool hasBody,
            const std::string& contentType, const std::string& headersJson, int callback) {
  Session* session = find(handle);
  if (session == nullptr) {
    cs_request_result(callback, code::kDisposed, 0, "", 0, "", "");
    return 0;
  }
  RequestOptions options;
  options.body = std::move(body);  // taken by value: a large body is not copied again
  options.hasBody = hasBody;
  options.contentType = contentType;
  if (!parseHeaders(headersJson, &options.headers)) {
    cs_request_result(callback, code::kInvalidArgument, 0, "", 0, "", "");
    return 0;
  }
  const uint64_t call = session->request(method, target, std::move(options), [callback](const RequestOutcome& o) {
    cs_request_result(callback, o.code.c_str(), o.response.status, o.response.body.data(),
                      static_cast<int>(o.response.body.size()), o.response.rawHeaders.c_str(),
                      o.response.statusText.c_str());
  });
  return call <= static_cast<uint64_t>(INT_MAX) ? static_cast<int>(call) : 0;
}

// Cancels request `call` (an abort signal fired): its XHR is aborted and
// its result never delivered; the JS entry has rejected the promise itself.
void abortRequest(int handle, int call) {
  if (Session* session = find(handle)) session->cancel(static_cast<uint64_t>(call));
}

void resetCsrfToken(int handle) {
  if (Session* session = find(handle)) session->resetCsrfToken();
}

void resetApiState(int handle) {
  if (Session* session = find(handle)) session->resetApiState();
}

bool isAuthenticated(int handle) {
  Session* session = find(handle);
  return session != nullptr && session->isAuthenticated();
}

std::string user(int handle) {
  Session* session = find(handle);
  return session != nullptr ? session->userJson() : "null";
}

// The JS entry's word that the app's reset hooks and cleaners asked for with
// `token` have finished (or their bound passed).
void resetSettled(int handle, int token) {
  if (WasmSession* found = sessions().find(static_cast<uint64_t>(handle))) found->resetSettled(token);
}

void dispose(int handle) {
  Session* session = find(handle);
  if (session == nullptr) return;
  session->dispose();
  // Destroyed on a later turn: dispose() may be called from an event
  // listener while the session is still on the stack.
  emscripten_set_timeout(destroyLater, 0, reinterpret_cast<void*>(static_cast<intptr_t>(handle)));
}

}  // namespace
}  // namespace cleanslate

EMSCRIPTEN_BINDINGS(cleanslate) {
  using namespace cleanslate;
  emscripten::function("_create", &create);
  emscripten::function("_configError", &configError);
  emscripten::function("_login", &login);
  emscripten::function("logout", &logout);
  emscripten::function("_request", &request);
  emscripten::function("_abort", &abortRequest);
  emscripten::function("resetCsrfToken", &resetCsrfToken);
  emscripten::function("resetApiState", &resetApiState);
  emscripten::function("isAuthenticated", &isAuthenticated);
  emscripten::function("_user", &user);
  emscripten::function("dispose", &dispose);
  emscripten::function("_resetSettled", &resetSettled);
}
