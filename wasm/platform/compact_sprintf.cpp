// A compact integer-only sprintf for the wasm build only. The one caller
// left in the module is embind's __getTypeName, which formats a type's
// address with "%p" (the compiler turns that sprintf into siprintf, the
// variant without floating point); musl's printf engine would bring about
// 7 KB of wasm for it. This handles the conversions %% %c %s %d
// %i %u %x %X %p with the '0' flag, a width and the l/ll/z modifiers, which
// covers every format the C++ runtime and the core use; anything else is
// copied as it stands.
#include <cstdarg>
#include <cstddef>
#include <cstdint>

namespace {

char* unsignedText(char* out, uint64_t value, unsigned base, bool upper, int width, char pad) {
  char digits[24];
  int n = 0;
  do {
    const unsigned d = static_cast<unsigned>(value % base);
    digits[n++] = static_cast<char>(d < 10 ? '0' + d : (upper ? 'A' : 'a') + d - 10);
    value /= base;
  } while (value != 0);
  while (width-- > n) *out++ = pad;
  while (n > 0) *out++ = digits[--n];
  return out;
}

int format(char* out, const char* format, va_list args) {
  char* const start = out;
  for (const char* p = format; *p != '\0'; ++p) {
    if (*p != '%') {
      *out++ = *p;
      continue;
    }
    const char* const directive = p++;
    char pad = ' ';
    if (*p == '0') {
      pad = '0';
      ++p;
    }
    int width = 0;
    while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
    int longs = 0;
    while (*p == 'l' || *p == 'z') {
      longs += *p == 'z' ? 1 : 1;
      ++p;
    }
    switch (*p) {
      case '%': *out++ = '%'; break;
      case 'c': *out++ = static_cast<char>(va_arg(args, int)); break;
      case 's':
        for (const char* s = va_arg(args, const char*); *s != '\0'; ++s) *out++ = *s;
        break;
      case 'd':
      case 'i': {
        const int64_t v = longs >= 2 ? va_arg(args, long long) : longs == 1 ? va_arg(args, long) : va_arg(args, int);
        if (v < 0) *out++ = '-';
        out = unsignedText(out, v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v), 10, false,
                           width - (v < 0), pad);
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        const uint64_t v = longs >= 2  ? va_arg(args, unsigned long long)
                           : longs == 1 ? va_arg(args, unsigned long)
                                        : va_arg(args, unsigned);
        out = unsignedText(out, v, *p == 'u' ? 10 : 16, *p == 'X', width, pad);
        break;
      }
      case 'p':
        *out++ = '0';
        *out++ = 'x';
        out = unsignedText(out, reinterpret_cast<uintptr_t>(va_arg(args, void*)), 16, false, 0, ' ');
        break;
      default:  // not handled: copy the directive
        for (const char* q = directive; q <= p && *q != '\0'; ++q) *out++ = *q;
        if (*p == '\0') --p;
    }
  }
  *out = '\0';
  return static_cast<int>(out - start);
}

}  // namespace

extern "C" int siprintf(char* out, const char* pattern, ...) {
  va_list args;
  va_start(args, pattern);
  const int n = format(out, pattern, args);
  va_end(args);
  return n;
}
