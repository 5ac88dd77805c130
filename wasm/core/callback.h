// A move-only callable holder, used for every callback in the core and the
// platform adapters. std::function would do, but each lambda stored in one
// costs the wasm a clone/copy/destroy/target family of functions; this costs
// a call and a destructor.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace cleanslate {

template <typename Signature>
class Callback;

template <typename R, typename... Args>
class Callback<R(Args...)> {
  struct Base {
    virtual ~Base() = default;
    virtual R call(Args... args) = 0;
  };
  template <typename F>
  struct Holder final : Base {
    explicit Holder(F&& fn) : f(std::move(fn)) {}
    R call(Args... args) override { return f(std::forward<Args>(args)...); }
    F f;
  };

 public:
  Callback() = default;
  Callback(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): as std::function
  template <typename F, typename = std::enable_if_t<!std::is_same<std::decay_t<F>, Callback>::value &&
                                                    std::is_invocable_r<R, std::decay_t<F>&, Args...>::value>>
  Callback(F f)  // NOLINT(google-explicit-constructor): takes lambdas as std::function does
      : held_(new Holder<std::decay_t<F>>(std::move(f))) {}
  Callback(Callback&& other) noexcept : held_(other.held_) { other.held_ = nullptr; }
  Callback& operator=(Callback&& other) noexcept {
    Callback moved(std::move(other));
    std::swap(held_, moved.held_);
    return *this;
  }
  Callback& operator=(std::nullptr_t) {
    Callback empty;
    std::swap(held_, empty.held_);
    return *this;
  }
  Callback(const Callback&) = delete;
  Callback& operator=(const Callback&) = delete;
  ~Callback() { delete held_; }

  explicit operator bool() const { return held_ != nullptr; }
  // Calling an empty Callback does nothing (and returns R()), where
  // std::function would throw.
  R operator()(Args... args) const {
    if (held_ == nullptr) return R();
    return held_->call(std::forward<Args>(args)...);
  }

 private:
  Base* held_ = nullptr;
};

}  // namespace cleanslate
