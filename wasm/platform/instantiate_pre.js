// --pre-js: runs inside the module factory, before the minimal runtime's
// loader (CMakeLists.txt links with -sMINIMAL_RUNTIME=1).
//
// That loader ends with
//   WebAssembly.instantiate(Module['wasm'], imports).then(function (output) { ... ready(); });
// Rather than edit the generated text, this declares `WebAssembly` in the
// factory's own scope: the real namespace (its Memory, RuntimeError, ...
// through the prototype) with an instantiate() of our own, for two reasons.
//
// What to instantiate. The entry (web/src/cleanslate.js) calls the factory
// as soon as the load starts and passes Module['wasm'] as a promise: of the
// fetch() Response in a browser, of the file's bytes in Node. So the glue is
// evaluated while the wasm is still on the wire, and a Response served as
// application/wasm compiles while it downloads
// (WebAssembly.instantiateStreaming). A Response of another type (which
// instantiateStreaming refuses), one made by a fetch() replacement, and bytes
// go through WebAssembly.instantiate. Each resolves { module, instance }, as
// the loader expects.
//
// Failures. In Emscripten 3.1.6 the loader has no rejection handler: bytes
// that do not compile, a module whose imports do not link, or one that
// instantiates but is not the core (the callback then throws) would leave the
// factory's promise pending and raise an unhandled rejection. Here the
// returned `.then(callback)` runs the callback and hands any failure, of the
// fetch, of the instantiation or of the callback, to Module['csLoadFailed']
// (set by the entry, which rejects the load with it).
/* exported WebAssembly -- read by the glue that follows, in the same function */
var WebAssembly = Object.create(globalThis.WebAssembly, {
  instantiate: {
    value: function (source, imports) {
      var wasm = globalThis.WebAssembly;
      var instantiated = Promise.resolve(source).then(function (loaded) {
        // A Response, or what a fetch() replacement answers in its place.
        if (loaded && typeof loaded.arrayBuffer === 'function') {
          var streams = typeof Response === 'function' && loaded instanceof Response &&
            typeof wasm.instantiateStreaming === 'function' &&
            (loaded.headers.get('Content-Type') || '').trim().toLowerCase() === 'application/wasm';
          if (streams) return wasm.instantiateStreaming(loaded, imports);
          return loaded.arrayBuffer().then(function (bytes) {
            return wasm.instantiate(bytes, imports);
          });
        }
        return wasm.instantiate(loaded, imports);
      });
      return {
        then: function (onInstance) {
          return instantiated.then(onInstance).catch(Module['csLoadFailed']);
        },
      };
    },
  },
});
