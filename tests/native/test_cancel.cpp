// Cancelling one request (an abort signal in the JS entry): the pipeline
// drops the call wherever it waits, aborts its transport request, clears
// its deadline and never delivers it; everything else goes on. Also: bodies
// cross the core as bytes, NULs and invalid UTF-8 included.
#include <doctest/doctest.h>

#include "fakes.h"

using namespace cleanslate;
using cleanslate::testing::Harness;

namespace {

struct Result {
  int calls = 0;
  RequestOutcome outcome;
};

struct Started {
  uint64_t id = 0;
  std::shared_ptr<Result> result = std::make_shared<Result>();
};

Started start(Harness& h, const std::string& path, const std::string& method = "GET", std::string body = "") {
  Started started;
  RequestOptions options;
  if (method != "GET") {
    options.body = std::move(body);
    options.hasBody = true;
    options.contentType = "application/octet-stream";
  }
  auto result = started.result;
  started.id = h.session->request(method, path, std::move(options), [result](const RequestOutcome& o) {
    ++result->calls;
    result->outcome = o;
  });
  return started;
}

}  // namespace

TEST_CASE("cancel while in flight: the transport request is aborted, the deadline cleared, nothing delivered") {
  Harness h(R"(,"requestTimeoutMs":1000)");
  h.loginAs("a");
  Started r = start(h, "/slow");
  REQUIRE(r.id != 0);
  REQUIRE(h.transport.find("/slow") == 0);
  const uint64_t handle = h.transport.pending[0].handle;
  h.session->cancel(r.id);
  CHECK(h.transport.aborted == std::vector<uint64_t>{handle});
  CHECK(h.transport.pending.empty());
  CHECK(h.session->pendingCount() == 0);
  h.scheduler.advance(5000);  // past the deadline: no timeout is delivered either
  CHECK(r.result->calls == 0);
  // The session goes on as before.
  Started next = start(h, "/next");
  REQUIRE(h.transport.replyTo("/next", 200, "{}"));
  CHECK(next.result->calls == 1);
  CHECK(next.result->outcome.response.status == 200);
}

TEST_CASE("cancel while queued behind a refresh: the refresh goes on, only the others replay") {
  Harness h;
  h.loginAs("a");
  Started kept = start(h, "/data");
  Started dropped = start(h, "/data");
  while (h.transport.find("/data") >= 0) h.transport.replyTo("/data", 401, R"({"detail":"expired"})");
  REQUIRE(h.transport.count("/auth/refresh") == 1);
  h.session->cancel(dropped.id);
  CHECK(h.transport.aborted.empty());     // nothing of it was in the transport
  CHECK(h.session->pendingCount() == 2);  // the kept call and the refresh
  const std::string access = h.newAccess("a");
  REQUIRE(h.transport.replyTo("/auth/refresh", 200,
                              R"({"access_token":")" + access + R"(","refresh_token":"refresh-a2"})"));
  CHECK(h.store.values["refresh_token"] == "refresh-a2");
  REQUIRE(h.transport.pending.size() == 1);  // one replay: the kept call's
  CHECK(Harness::header(h.transport.pending[0].request, "Authorization") == "Bearer " + access);
  REQUIRE(h.transport.replyTo("/data", 200, "{}"));
  CHECK(kept.result->calls == 1);
  CHECK(kept.result->outcome.response.status == 200);
  CHECK(dropped.result->calls == 0);
  CHECK(h.transport.count("/data") == 3);  // two first tries, one replay
}

TEST_CASE("cancel while waiting for the CSRF token: the token still arrives, the request is never sent") {
  Harness h;
  h.loginAs("a");
  h.session->resetCsrfToken();
  Started dropped = start(h, "/upload", "POST", "x");
  Started kept = start(h, "/upload", "PUT", "y");
  REQUIRE(h.transport.pending.size() == 1);  // the CSRF fetch
  h.session->cancel(dropped.id);
  REQUIRE(h.transport.replyTo("/auth/csrf", 200, R"({"csrf_token":"c2"})"));
  REQUIRE(h.transport.pending.size() == 1);
  CHECK(h.transport.pending[0].request.method == "PUT");
  h.transport.reply(0, 204, "");
  CHECK(kept.result->calls == 1);
  CHECK(dropped.result->calls == 0);
  CHECK(h.transport.count("/upload") == 1);
}

TEST_CASE("cancel after completion, of an unknown id, of a login, or after dispose does nothing") {
  Harness h;
  h.loginAs("a");
  Started done = start(h, "/x");
  REQUIRE(h.transport.replyTo("/x", 200, "{}"));
  h.session->cancel(done.id);
  h.session->cancel(0);
  h.session->cancel(987654);
  CHECK(done.result->calls == 1);
  CHECK(h.transport.aborted.empty());

  // The session's own calls share the id space; they are not the caller's to cancel.
  bool loggedIn = false;
  h.session->login("b@test.com", "pw", [&](const LoginOutcome& o) { loggedIn = o.success; });
  REQUIRE(h.transport.replyTo("/auth/csrf", 200, R"({"csrf_token":"cb"})"));
  REQUIRE(h.transport.find("/auth/login") >= 0);
  const uint64_t loginCall = done.id + 1;  // ids are handed out in order: the CSRF fetch is not a pipeline call
  h.session->cancel(loginCall);
  CHECK(h.transport.aborted.empty());
  REQUIRE(h.transport.replyTo("/auth/login", 200, h.loginBody("b", h.newAccess("b"), "refresh-b")));
  CHECK(loggedIn);

  Started pending = start(h, "/y");
  h.session->dispose();
  CHECK(pending.result->outcome.code == "disposed");
  h.session->cancel(pending.id);
  CHECK(pending.result->calls == 1);
}

TEST_CASE("a refused request has id 0 and settles at once") {
  Harness h;
  Started bad = start(h, "/x", "BREW");
  CHECK(bad.id == 0);
  CHECK(bad.result->calls == 1);
  CHECK(bad.result->outcome.code == "invalid_argument");
}

TEST_CASE("bodies cross the core as bytes: NULs and invalid UTF-8 both ways") {
  Harness h;
  h.loginAs("a");
  std::string bytes;
  for (int i = 0; i < 512; ++i) bytes.push_back(static_cast<char>(i & 0xFF));
  Started r = start(h, "/files", "PUT", bytes);
  REQUIRE(h.transport.find("/files") == 0);
  CHECK(h.transport.pending[0].request.body == bytes);
  CHECK(h.transport.pending[0].request.body.size() == 512);
  HttpResponse response;
  response.status = 200;
  response.statusText = "OK";
  response.body = std::string("\0\xff\xfe\x80 tail", 9);
  response.rawHeaders = "content-type: application/octet-stream\r\n";
  h.transport.answer(0, response);
  REQUIRE(r.result->calls == 1);
  CHECK(r.result->outcome.response.body == response.body);
  CHECK(r.result->outcome.response.body.size() == 9);
  CHECK(r.result->outcome.response.statusText == "OK");
}
