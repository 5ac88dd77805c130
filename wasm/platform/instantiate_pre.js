// --pre-js: runs inside the module factory, before the minimal runtime's
// loader (CMakeLists.txt links with -sMINIMAL_RUNTIME=1).
//
// That loader ends with
//   WebAssembly.instantiate(Module['wasm'], imports).then(function (output) { ... ready(); });
// and, in Emscripten 3.1.6, no rejection handler: bytes that do not compile,
// a module whose imports do not link, or one that instantiates but is not the
// core (the callback then throws) would leave the factory's promise pending
// and raise an unhandled rejection. Rather than edit the generated text, this
// declares `WebAssembly` in the factory's own scope: the real namespace (its
// Memory, RuntimeError, ... through the prototype) with an instantiate()
// whose `.then(callback)` runs the callback and hands any failure, of the
// instantiation or of the callback, to Module['csLoadFailed'] (set by the
// entry, web/src/cleanslate.js, which rejects the load with it).
/* exported WebAssembly -- read by the glue that follows, in the same function */
var WebAssembly = Object.create(globalThis.WebAssembly, {
  instantiate: {
    value: function (bytes, imports) {
      var instantiated = globalThis.WebAssembly.instantiate(bytes, imports);
      return {
        then: function (onInstance) {
          return instantiated.then(onInstance).catch(Module['csLoadFailed']);
        },
      };
    },
  },
});
