// A flag that outlives its owner: callbacks that may run after the owner is
// gone hold a Watch and check it first. (What std::weak_ptr would do, without
// shared_ptr's control block, which drags RTTI support into the wasm.)
#pragma once

namespace cleanslate {

class Liveness {
  struct Block {
    unsigned refs;
    bool alive;
  };

  static void release(Block* block) {
    if (block != nullptr && --block->refs == 0) delete block;
  }

 public:
  class Watch {
   public:
    Watch() = default;
    explicit Watch(Block* block) : block_(block) { ++block_->refs; }
    Watch(const Watch& other) : block_(other.block_) {
      if (block_ != nullptr) ++block_->refs;
    }
    Watch(Watch&& other) noexcept : block_(other.block_) { other.block_ = nullptr; }
    Watch& operator=(Watch other) noexcept {
      Block* held = block_;
      block_ = other.block_;
      other.block_ = held;
      return *this;
    }
    ~Watch() { release(block_); }
    explicit operator bool() const { return block_ != nullptr && block_->alive; }

   private:
    Block* block_ = nullptr;
  };

  Liveness() : block_(new Block{1, true}) {}
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;
  ~Liveness() { reset(); }

  // Ends life early: every Watch reads false from now on.
  void reset() {
    if (block_ == nullptr) return;
    block_->alive = false;
    release(block_);
    block_ = nullptr;
  }
  Watch watch() const { return block_ != nullptr ? Watch(block_) : Watch(); }

 private:
  Block* block_;
};

}  // namespace cleanslate
