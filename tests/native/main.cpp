// doctest entry point for the native suite. A contract broken on the core's
// side of a fake, or a failed Harness step, becomes a doctest failure here
// (the fuzz targets keep the fakes' default: print and abort).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "fakes.h"

namespace {

void failInDoctest(const char* file, int line, const std::string& what, bool fatal) {
  if (fatal) {
    ADD_FAIL_AT(file, line, what);  // throws: the test case stops here
  } else {
    ADD_FAIL_CHECK_AT(file, line, what);
  }
}

}  // namespace

int main(int argc, char** argv) {
  cleanslate::testing::failureReporter() = &failInDoctest;
  return doctest::Context(argc, argv).run();
}
