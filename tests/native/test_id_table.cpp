// IdTable / IdMap: the id-keyed tables the session and the adapters keep
// their live entries in.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/id_table.h"

using cleanslate::IdMap;
using cleanslate::IdTable;

TEST_CASE("IdTable: find, put, take; ids stay ascending whatever the insertion order") {
  IdTable table;
  int a = 1, b = 2, c = 3;
  CHECK(table.empty());
  CHECK(table.find(5) == nullptr);
  CHECK(table.take(5) == nullptr);
  CHECK(table.takeLast() == nullptr);
  CHECK(table.put(5, &a) == nullptr);
  CHECK(table.put(9, &b) == nullptr);
  CHECK(table.put(2, &c) == nullptr);
  CHECK(table.ids() == std::vector<uint64_t>{2, 5, 9});
  CHECK(table.find(5) == &a);
  CHECK(table.find(4) == nullptr);
  CHECK(table.put(5, &b) == &a);  // replaced
  CHECK(table.size() == 3);
  CHECK(table.take(5) == &b);
  CHECK(table.find(5) == nullptr);
  CHECK(table.ids() == std::vector<uint64_t>{2, 9});
  CHECK(table.takeLast() == &b);
  CHECK(table.takeLast() == &c);
  CHECK(table.empty());
}

TEST_CASE("IdMap: owns its values; references survive other inserts; erase and take destroy or hand over") {
  auto tracker = std::make_shared<int>(0);
  std::weak_ptr<int> watch = tracker;
  {
    IdMap<std::shared_ptr<int>> map;
    std::shared_ptr<int>& first = map.emplace(1, tracker);
    for (uint64_t id = 2; id < 100; ++id) map.emplace(id, tracker);
    CHECK(&first == map.find(1));  // not moved by the inserts
    CHECK(tracker.use_count() == 100);
    CHECK(map.erase(50));
    CHECK_FALSE(map.erase(50));
    CHECK(tracker.use_count() == 99);
    std::unique_ptr<std::shared_ptr<int>> taken = map.take(1);
    REQUIRE(taken != nullptr);
    CHECK(map.find(1) == nullptr);
    CHECK(map.size() == 97);
    map.emplace(2, std::make_shared<int>(7));  // replaces: the old value is destroyed
    CHECK(**map.find(2) == 7);
    CHECK(tracker.use_count() == 98);  // the taken one still holds its copy
    tracker.reset();
  }
  CHECK(watch.expired());  // the map destroyed what it still held
}

TEST_CASE("IdMap: a string value round trip") {
  IdMap<std::string> map;
  map.emplace(3, "three");
  REQUIRE(map.find(3) != nullptr);
  CHECK(*map.find(3) == "three");
  CHECK(map.ids() == std::vector<uint64_t>{3});
}
