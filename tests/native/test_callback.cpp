// The core's small ownership helpers: Callback (a move-only std::function)
// and Liveness (a weak flag for callbacks that may outlive their owner).
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>

#include "core/callback.h"
#include "core/liveness.h"

using cleanslate::Callback;
using cleanslate::Liveness;

TEST_CASE("Callback: empty, called, moved, reset; captured state is destroyed exactly once") {
  Callback<int(int)> empty;
  CHECK_FALSE(empty);
  Callback<int(int)> null = nullptr;
  CHECK_FALSE(null);

  auto tracker = std::make_shared<int>(7);
  std::weak_ptr<int> watch = tracker;
  Callback<int(int)> add = [tracker](int x) { return x + *tracker; };
  tracker.reset();
  REQUIRE(add);
  CHECK(add(1) == 8);
  CHECK_FALSE(watch.expired());  // the capture lives in the callback

  Callback<int(int)> moved = std::move(add);
  CHECK_FALSE(add);  // NOLINT(bugprone-use-after-move): moved-from is empty, as documented
  CHECK(moved(2) == 9);

  Callback<int(int)> target = [](int x) { return -x; };
  target = std::move(moved);  // the old lambda is dropped, the new one taken
  CHECK(target(3) == 10);
  CHECK_FALSE(watch.expired());
  target = nullptr;
  CHECK_FALSE(target);
  CHECK(watch.expired());  // destroyed when released
}

TEST_CASE("Callback: calling an empty one does nothing and returns a default value") {
  Callback<int(int)> empty;
  CHECK(empty(5) == 0);
  Callback<void()> nothing = nullptr;
  nothing();  // no crash
  Callback<int(int)> moved = [](int x) { return x; };
  Callback<int(int)> taker = std::move(moved);
  CHECK(moved(3) == 0);  // NOLINT(bugprone-use-after-move)
  CHECK(taker(3) == 3);
}

TEST_CASE("Callback: arguments are forwarded, move-only captures work") {
  std::string seen;
  auto owned = std::make_unique<std::string>("held");
  Callback<void(std::string)> sink = [&seen, owned = std::move(owned)](std::string text) {
    seen = *owned + ":" + std::move(text);
  };
  sink(std::string(1000, 'x'));
  CHECK(seen.size() == 1005);
  CHECK(seen.compare(0, 5, "held:") == 0);
}

TEST_CASE("Liveness: watches read true while the owner lives, false after reset or destruction") {
  Liveness::Watch outlived;
  CHECK_FALSE(outlived);
  {
    Liveness owner;
    Liveness::Watch a = owner.watch();
    Liveness::Watch b = a;  // copies share the flag
    CHECK(a);
    CHECK(b);
    outlived = b;
    owner.reset();
    CHECK_FALSE(a);
    CHECK_FALSE(b);
    CHECK_FALSE(owner.watch());  // a watch taken after reset is dead too
  }
  CHECK_FALSE(outlived);  // and stays readable after the owner is gone (ASan checks the memory)
  {
    Liveness::Watch late;
    {
      Liveness owner;
      late = owner.watch();
      CHECK(late);
    }
    CHECK_FALSE(late);
  }
}
