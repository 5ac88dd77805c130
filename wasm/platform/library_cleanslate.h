// The functions wasm/platform/library_cleanslate.js gives the C++ side (the
// wasm module imports them; each is documented there). Strings are UTF-8 C
// strings; a `char*` a function returns or stores is malloc'd and the
// caller's to free.
#pragma once

extern "C" {

// Web Storage (kind 0 localStorage, 1 sessionStorage)
int cs_storage_get(int kind, const char* key, char** out);  // 1 found, 0 missing, -1 failed
int cs_storage_set(int kind, const char* key, const char* value);
int cs_storage_remove(int kind, const char* key);
char* cs_storage_error();

// Events, console, clocks
void cs_dispatch_event(const char* name, const char* detailJson);
void cs_console(int level, const char* line);
double cs_now();
double cs_monotonic_now();

// Cross-tab channel and lock
int cs_channel_open(int id, const char* name);  // 0 none, 1 BroadcastChannel, 2 storage event
void cs_channel_post(int id, const char* message);
void cs_channel_close(int id);
void cs_lock_request(int id, const char* name, double leaseMs);
void cs_lock_release(int id);

// emscripten_fetch's XMLHttpRequest
void cs_fetch_later(void* ctx, const char* url);
void cs_fetch_watch(const void* fetch, double cap);
double cs_fetch_body(const void* fetch, char* dst);
void cs_fetch_abort(const void* fetch);
void cs_fetch_trim();

// The app's reset hooks and cleaners of session `handle`; a non-zero `token`
// asks for WebReset::settle(token) once their asynchronous work has ended.
void cs_reset(int handle, const char* reason, int token);

// Results, one function per kind; `callback` names the waiting JS promise
// and `code` is an error code, or empty on success.
void cs_login_result(int callback, const char* code, const char* error, const char* userJson);
void cs_logout_result(int callback, const char* code, int backendNotified);
void cs_request_result(int callback, const char* code, int status, const char* body, int bodyLength,
                       const char* rawHeaders, const char* statusText);

}  // extern "C"
