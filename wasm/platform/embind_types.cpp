// The embind types this module passes across its boundary, and nothing else.
// embind's own bind.cpp registers every builtin type (wide and UTF-16/32
// strings, emscripten::val, 64-bit integers, floats, 17 memory views), and
// each registration pulls its JavaScript codec into the glue. Measured on
// Emscripten 3.1.6 (this file against plain --bind): web/dist/cleanslate.mjs
// is 3,321 B smaller (1,061 B gzip -9) and cleanslate.wasm 5,853 B smaller
// (2,913 B gzip -9): 3,974 B gzip in all. The bindings (wasm/bindings.cpp)
// take and return only void, bool, int and std::string, so the build links
// embind's JS libraries with this file in place of bind.cpp (see
// CMakeLists.txt). A binding that used any other type would fail loudly at
// startup with embind's UnboundTypeError.
#include <emscripten/bind.h>
#include <emscripten/emscripten.h>

#include <climits>
#include <cstring>
#include <string>
#include <typeinfo>

using emscripten::internal::TypeID;

extern "C" {

// Runs as a global constructor, before the EMSCRIPTEN_BINDINGS block.
__attribute__((constructor)) void __embind_register_native_and_builtin_types() {
  using namespace emscripten::internal;
  _embind_register_void(TypeID<void>::get(), "void");
  _embind_register_bool(TypeID<bool>::get(), "bool", sizeof(bool), true, false);
  _embind_register_integer(TypeID<int>::get(), "int", sizeof(int), INT_MIN, INT_MAX);
  _embind_register_std_string(TypeID<std::string>::get(), "std::string");
}

// A name for a type embind reports as unbound. Without RTTI there is no
// real one; the error names the binding that uses the type.
EMSCRIPTEN_KEEPALIVE const char* __getTypeName(const std::type_info*) { return strdup("(type without RTTI)"); }

}  // extern "C"
