// The core's side of the cross-tab protocol, with a fake channel bus and a
// fake lock shared by several sessions ("tabs").
#include <doctest/doctest.h>

#include <deque>
#include <map>

#include "fakes.h"

using namespace cleanslate;
using namespace cleanslate::testing;

namespace {

class Bus;

class FakeChannel final : public TabChannel {
 public:
  FakeChannel(Bus* bus, bool secrets) : bus_(bus), secrets_(secrets) {}
  void open(const std::string& name, Receive onMessage) override;
  void post(const std::string& messageJson) override;
  void close() override;
  bool mayCarrySecrets() const override { return secrets_; }
  Receive receive;
  std::vector<std::string> posted;

 private:
  Bus* bus_;
  bool secrets_;
};

// Delivers each post to every other open channel, when the test says so.
class Bus {
 public:
  void deliverAll() {
    while (!queue.empty()) {
      auto [from, message] = queue.front();
      queue.pop_front();
      for (FakeChannel* c : members) {
        if (c != from && c->receive) c->receive(message);
      }
    }
  }
  std::vector<FakeChannel*> members;
  std::deque<std::pair<FakeChannel*, std::string>> queue;
  std::string name;
};

void FakeChannel::open(const std::string& name, Receive onMessage) {
  bus_->name = name;
  receive = std::move(onMessage);
  bus_->members.push_back(this);
}
void FakeChannel::post(const std::string& messageJson) {
  posted.push_back(messageJson);
  bus_->queue.emplace_back(this, messageJson);
}
void FakeChannel::close() { receive = nullptr; }

// A lock granted in FIFO order; grants happen when the test calls pump().
class FakeLock final : public TabLock {
 public:
  void acquire(const std::string& name, double, Callback<void(Release)> granted) override {
    lastName = name;
    waiting.push_back(std::move(granted));
  }
  bool pump() {
    if (held || waiting.empty()) return false;
    auto granted = std::move(waiting.front());
    waiting.pop_front();
    held = true;
    ++grants;
    granted([this] {
      CHECK(held);  // released exactly once
      held = false;
    });
    return true;
  }
  std::deque<Callback<void(Release)>> waiting;
  bool held = false;
  int grants = 0;
  std::string lastName;
};

struct Tab {
  FakeTransport transport;
  FakeEvents events;
  FakeLog log;
  FakeReset reset;
  std::unique_ptr<FakeChannel> channel;
  std::unique_ptr<Session> session;
};

struct Browser {
  FakeStore sharedStore;  // localStorage is shared by the tabs of an origin
  FakeScheduler scheduler;
  Bus bus;
  FakeLock lock;
  std::vector<std::unique_ptr<Tab>> tabs;
  std::vector<std::unique_ptr<FakeStore>> ownStores;

  Tab& open(const std::string& storage = "local", bool secrets = true) {
    auto tab = std::make_unique<Tab>();
    tab->channel = std::make_unique<FakeChannel>(&bus, secrets);
    KeyValueStore* store = &sharedStore;
    if (storage != "local") {
      ownStores.push_back(std::make_unique<FakeStore>());
      store = ownStores.back().get();
    }
    ConfigResult parsed =
        parseConfig(R"({"apiBase":"https://api.test/v1","logLevel":"info","storage":")" + storage + R"("})");
    REQUIRE(parsed.error.empty());
    tab->session = std::make_unique<Session>(
        parsed.config,
        Platform{&tab->transport, store, &tab->events, &scheduler, &tab->log, tab->channel.get(), &lock, &tab->reset});
    tabs.push_back(std::move(tab));
    return *tabs.back();
  }

  // Delivers the queued messages while the receiving tabs' view of storage
  // still lags (shows nothing); returns what it shows once it catches up.
  std::map<std::string, std::string> deliverBeforeStorageShows() {
    auto saved = sharedStore.values;
    sharedStore.values.clear();
    bus.deliverAll();
    return saved;
  }
};

void login(Tab& tab, const std::string& access, const std::string& refresh, int userId = 1) {
  tab.session->login("a@test.com", "pw", [](const LoginOutcome& o) { REQUIRE(o.success); });
  REQUIRE(tab.transport.replyToLast("/auth/csrf", 200, R"({"csrf_token":"c"})"));
  REQUIRE(tab.transport.replyToLast("/auth/login", 200,
                                    R"({"access_token":")" + access + R"(","refresh_token":")" + refresh +
                                        R"(","user":{"id":)" + std::to_string(userId) + R"(,"email":"a@test.com"}})"));
}

}  // namespace

TEST_CASE("logout in one tab ends the session in the others: remote, in-flight rejected, no second notice") {
  Browser browser;
  Tab& one = browser.open();
  Tab& two = browser.open();
  login(one, "acc", "ref");
  browser.bus.deliverAll();
  CHECK(two.session->isAuthenticated());
  CHECK(two.events.fired.back().first == "auth:login");
  RequestOutcome inFlight;
  two.session->request("GET", "/data", {}, [&](const RequestOutcome& o) { inFlight = o; });

  one.session->logout(nullptr);
  CHECK(one.channel->posted.back().find("\"type\":\"logout\"") != std::string::npos);
  CHECK(one.channel->posted.back().find("ref") == std::string::npos);
  two.log.lines.clear();
  browser.bus.deliverAll();
  CHECK(inFlight.code == "session_changed");
  CHECK_FALSE(two.session->isAuthenticated());
  CHECK(two.events.fired.back().first == "auth:logout");
  CHECK(parseJson(two.events.fired.back().second)["reason"] == "remote");
  CHECK(two.transport.count("/auth/logout") == 0);
  CHECK(one.transport.count("/auth/csrf") >= 1);  // only the tab that logged out tells the backend
  const auto lines = two.log.texts();
  REQUIRE(lines.size() >= 3);
  CHECK(lines[0] == "[Auth] Logged out in another tab");
  CHECK(lines[1] == "[CSRF] Token cache reset for new session");
  CHECK(lines[2] == "[API] Interceptor state reset for new session");
  CHECK(browser.bus.name == "cleanslate:https://api.test/v1");
}

TEST_CASE("session and memory storage: login and logout travel through the channel, with tokens") {
  for (const char* mode : {"session", "memory"}) {
    CAPTURE(mode);
    Browser browser;
    Tab& one = browser.open(mode);
    Tab& two = browser.open(mode);
    login(one, "acc-1", "ref-1");
    CHECK(one.channel->posted.back().find("acc-1") != std::string::npos);
    browser.bus.deliverAll();
    CHECK(two.session->isAuthenticated());
    CHECK(parseJson(two.session->userJson())["email"] == "a@test.com");
    two.session->request("GET", "/data", {}, [](const RequestOutcome&) {});
    CHECK(Harness::header(two.transport.sent.back(), "Authorization") == "Bearer acc-1");
    two.session->logout(nullptr);
    browser.bus.deliverAll();
    CHECK_FALSE(one.session->isAuthenticated());
    CHECK(parseJson(one.events.fired.back().second)["reason"] == "remote");
  }
}

TEST_CASE("with shared storage, or a channel through storage, messages carry no tokens") {
  Browser shared;
  Tab& local = shared.open("local");
  login(local, "acc-x", "ref-x");
  for (const auto& m : local.channel->posted) CHECK(m.find("acc-x") == std::string::npos);

  Browser leaky;
  Tab& viaStorage = leaky.open("memory", /*secrets=*/false);
  login(viaStorage, "acc-y", "ref-y");
  for (const auto& m : viaStorage.channel->posted) {
    CHECK(m.find("acc-y") == std::string::npos);
    CHECK(m.find("ref-y") == std::string::npos);
  }
}

TEST_CASE("three tabs whose tokens expired together: one refresh POST, all replay, none logged out") {
  Browser browser;
  Tab& one = browser.open();
  Tab& two = browser.open();
  Tab& three = browser.open();
  login(one, "old", "ref-0");
  browser.bus.deliverAll();
  std::vector<RequestOutcome> results(3);
  Tab* tabs[] = {&one, &two, &three};
  for (int i = 0; i < 3; ++i) {
    tabs[i]->session->request("GET", "/data", {}, [&results, i](const RequestOutcome& o) { results[i] = o; });
  }
  for (Tab* t : tabs) REQUIRE(t->transport.replyTo("/data", 401, "{}"));
  CHECK(browser.lock.waiting.size() == 3);
  CHECK(browser.lock.lastName == "cleanslate-refresh:https://api.test/v1");
  // Tab one gets the lock first and refreshes.
  REQUIRE(browser.lock.pump());
  one.transport.replyToLast("/auth/csrf", 200, R"({"csrf_token":"c2"})");  // if the cached one is gone
  REQUIRE(one.transport.replyTo("/auth/refresh", 200, R"({"access_token":"new","refresh_token":"ref-1"})"));
  browser.bus.deliverAll();
  CHECK(browser.lock.held);  // held a moment longer, so the write shows everywhere first
  browser.scheduler.advance(50);
  CHECK_FALSE(browser.lock.held);
  // The others find the rotated tokens in storage under the lock.
  REQUIRE(browser.lock.pump());
  REQUIRE(browser.lock.pump());
  int refreshes = 0;
  for (Tab* t : tabs) refreshes += static_cast<int>(t->transport.count("/auth/refresh"));
  CHECK(refreshes == 1);
  for (Tab* t : tabs) {
    REQUIRE(t->transport.find("/data") >= 0);
    CHECK(Harness::header(t->transport.pending[static_cast<std::size_t>(t->transport.find("/data"))].request,
                          "Authorization") == "Bearer new");
    t->transport.replyTo("/data", 200, R"({"ok":true})");
    CHECK(t->session->isAuthenticated());
    for (const auto& e : t->events.fired) CHECK(e.first != "auth:logout");
  }
  for (const auto& r : results) CHECK(r.response.status == 200);
}

TEST_CASE("waiting for the cross-tab lock is bounded; a late grant is released at once") {
  Browser browser;
  Tab& one = browser.open();
  login(one, "old", "ref-0");
  RequestOutcome result;
  one.session->request("GET", "/data", {}, [&](const RequestOutcome& o) { result = o; });
  one.transport.replyTo("/data", 401, "{}");
  REQUIRE(browser.lock.waiting.size() == 1);
  browser.scheduler.advance(30000);
  CHECK(result.code == "timeout");
  CHECK(one.session->isAuthenticated());
  REQUIRE(browser.lock.pump());
  CHECK_FALSE(browser.lock.held);
  CHECK(one.transport.count("/auth/refresh") == 0);
}

TEST_CASE("logout while waiting for the lock: the grant is released and nothing is refreshed") {
  Browser browser;
  Tab& one = browser.open();
  login(one, "old", "ref-0");
  RequestOutcome result;
  one.session->request("GET", "/data", {}, [&](const RequestOutcome& o) { result = o; });
  one.transport.replyTo("/data", 401, "{}");
  one.session->logout(nullptr);
  CHECK(result.code == "session_changed");
  REQUIRE(browser.lock.pump());
  CHECK_FALSE(browser.lock.held);
  CHECK(one.transport.count("/auth/refresh") == 0);
}

TEST_CASE("junk on the channel is ignored") {
  Browser browser;
  Tab& one = browser.open();
  login(one, "acc", "ref");
  for (const char* junk :
       {"", "null", "[]", "{\"type\":5}", "{\"type\":\"login\"}", "{\"type\":\"login\",\"user\":7}",
        "{\"type\":\"unknown\"}", "{\"type\":\"refresh\",\"access_token\":\"a\\nb\",\"refresh_token\":\"r\"}"}) {
    CAPTURE(junk);
    one.channel->receive(junk);
    CHECK(one.session->isAuthenticated());
  }
  CHECK(browser.sharedStore.values["access_token"] == "acc");
}

TEST_CASE("a logout that arrives while a tab still waits to see the login in storage cancels the join") {
  Browser browser;
  Tab& one = browser.open();
  Tab& two = browser.open();
  login(one, "acc", "ref");
  const auto saved = browser.deliverBeforeStorageShows();
  CHECK_FALSE(two.session->isAuthenticated());
  two.channel->receive(R"({"type":"logout","reason":"user"})");
  browser.sharedStore.values = saved;  // the stale view catches up with the old session
  browser.scheduler.advance(2000);
  CHECK_FALSE(two.session->isAuthenticated());
  for (const auto& e : two.events.fired) CHECK(e.first != "auth:login");
}

TEST_CASE("a login seen late in storage is joined once it shows") {
  Browser browser;
  Tab& one = browser.open();
  Tab& two = browser.open();
  login(one, "acc", "ref");
  const auto saved = browser.deliverBeforeStorageShows();
  CHECK_FALSE(two.session->isAuthenticated());
  browser.sharedStore.values = saved;
  browser.scheduler.advance(40);
  CHECK(two.session->isAuthenticated());
  CHECK(two.events.fired.back().first == "auth:login");
}

namespace {

// Every POST /auth/logout any tab sent, as the refresh tokens they carried.
std::vector<std::string> revoked(Browser& browser) {
  std::vector<std::string> tokens;
  for (const auto& tab : browser.tabs) {
    for (const auto& r : tab->transport.sent) {
      if (r.url.size() >= 12 && r.url.compare(r.url.size() - 12, 12, "/auth/logout") == 0) {
        tokens.push_back(parseJson(r.body)["refresh_token"].get<std::string>());
      }
    }
  }
  return tokens;
}

// Answers the logout notice a tab has started (CSRF, then the POST).
void answerNotice(Tab& tab) {
  REQUIRE(tab.transport.replyToLast("/auth/csrf", 200, R"({"csrf_token":"n"})"));
  REQUIRE(tab.transport.replyToLast("/auth/logout", 200, R"({"message":"Logout successful"})"));
}

}  // namespace

TEST_CASE("logout while still joining another tab's login: the tab that wrote the token revokes it, once") {
  Browser browser;
  Tab& one = browser.open();
  Tab& two = browser.open();
  login(one, "acc", "ref-1");
  browser.deliverBeforeStorageShows();  // two's view of storage never catches up; no timer runs (a hidden tab)
  REQUIRE_FALSE(two.session->isAuthenticated());
  LogoutOutcome outcome{true};
  two.session->logout([&](const LogoutOutcome& o) { outcome = o; });
  CHECK_FALSE(outcome.backendNotified);  // two could not tell the backend itself
  CHECK(two.transport.sent.empty());     // and sent nothing
  const std::string& message = two.channel->posted.back();
  CHECK(message.find("\"revoke\":\"") != std::string::npos);
  CHECK(message.find("ref-1") == std::string::npos);  // a fingerprint, never the token
  browser.bus.deliverAll();
  CHECK_FALSE(one.session->isAuthenticated());
  CHECK(parseJson(one.events.fired.back().second)["reason"] == "remote");
  answerNotice(one);
  CHECK(revoked(browser) == std::vector<std::string>{"ref-1"});
}

TEST_CASE("logout while joining, once storage shows the login: the tab logging out revokes it itself, once") {
  Browser browser;
  Tab& one = browser.open();
  Tab& two = browser.open();
  login(one, "acc", "ref-1");
  browser.sharedStore.values = browser.deliverBeforeStorageShows();  // shows now; the poll has not run yet
  REQUIRE_FALSE(two.session->isAuthenticated());
  two.session->logout(nullptr);
  CHECK(two.channel->posted.back().find("revoke") == std::string::npos);
  browser.bus.deliverAll();
  answerNotice(two);
  CHECK(one.transport.count("/auth/csrf") == 1);  // only its own login's
  CHECK(revoked(browser) == std::vector<std::string>{"ref-1"});
}

TEST_CASE("a logout naming a token no tab wrote revokes nothing") {
  Browser browser;
  Tab& one = browser.open();
  Tab& two = browser.open();
  login(one, "acc", "ref-1");
  browser.bus.deliverAll();
  REQUIRE(two.session->isAuthenticated());
  one.channel->receive(R"({"type":"logout","reason":"user","revoke":"0000000000000000"})");
  CHECK_FALSE(one.session->isAuthenticated());
  CHECK(revoked(browser).empty());
  CHECK(one.transport.pending.empty());
}

TEST_CASE("with the clock 20 minutes ahead, a joining tab schedules from the time left the login's tab measured") {
  Browser browser;
  browser.scheduler.skewMs = 20 * 60 * 1000.0;
  Tab& one = browser.open();
  Tab& two = browser.open();
  const auto nowSec = static_cast<long long>(browser.scheduler.now / 1000);
  const std::string access =
      makeJwt(R"({"sub":"1","iat":)" + std::to_string(nowSec) + R"(,"exp":)" + std::to_string(nowSec + 900) + "}");
  one.session->login("a@test.com", "pw", [](const LoginOutcome& o) { REQUIRE(o.success); });
  REQUIRE(one.transport.replyToLast("/auth/csrf", 200, R"({"csrf_token":"c"})"));
  REQUIRE(one.transport.replyToLast(
      "/auth/login", 200,
      R"({"access_token":")" + access + R"(","refresh_token":"ref","expires_in":900,"user":{"id":1}})"));
  CHECK(one.channel->posted.back().find("\"ttl\":900000") != std::string::npos);
  browser.bus.deliverAll();
  REQUIRE(two.session->isAuthenticated());
  browser.scheduler.advance(10000);
  CHECK(one.transport.count("/auth/refresh") + two.transport.count("/auth/refresh") == 0);
}

TEST_CASE(
    "the app's reset runs in every tab: 'remote' on another tab's logout, 'switch' on its login of another user") {
  Browser browser;
  Tab& one = browser.open();
  Tab& two = browser.open();
  login(one, "acc-a", "ref-a", 1);
  browser.bus.deliverAll();
  REQUIRE(two.session->isAuthenticated());

  one.session->logout(nullptr);
  browser.bus.deliverAll();
  CHECK(one.reset.reasons == std::vector<std::string>{"user"});
  CHECK(two.reset.reasons == std::vector<std::string>{"remote"});

  // After that reset, user 2 is no switch in either tab.
  login(one, "acc-b", "ref-b", 2);
  browser.bus.deliverAll();
  CHECK(two.session->isAuthenticated());
  CHECK(two.reset.reasons.size() == 1);

  // User 3 logs in in tab one with no reset: a switch there, and in tab two
  // when it joins, before its auth:login.
  one.session->login("c@test.com", "pw", [](const LoginOutcome&) {});
  REQUIRE(one.transport.replyToLast("/auth/csrf", 200, R"({"csrf_token":"c"})"));
  REQUIRE(one.transport.replyToLast(
      "/auth/login", 200, R"({"access_token":"acc-c","refresh_token":"ref-c","user":{"id":3,"email":"c@test.com"}})"));
  CHECK(one.reset.reasons.back() == "switch");
  one.reset.settle();
  const std::size_t loginsBefore = two.events.fired.size();
  browser.bus.deliverAll();
  CHECK(two.reset.reasons.back() == "switch");
  CHECK(two.events.fired.size() == loginsBefore);  // auth:login waits for the reset
  two.reset.settle();
  REQUIRE(two.events.fired.size() == loginsBefore + 1);
  CHECK(two.events.fired.back().first == "auth:login");
  CHECK(parseJson(two.events.fired.back().second)["user"]["id"] == 3);
}
