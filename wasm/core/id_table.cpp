// The shared id table (see id_table.h).
#include "id_table.h"

#include <cstring>

namespace cleanslate {

IdTable::~IdTable() { delete[] entries_; }

std::size_t IdTable::lowerBound(uint64_t id) const {
  // Ids are handed out in increasing order, so new entries usually go last:
  // scan from the end.
  std::size_t i = size_;
  while (i > 0 && entries_[i - 1].id >= id) --i;
  return i;
}

void* IdTable::find(uint64_t id) const {
  const std::size_t i = lowerBound(id);
  return i < size_ && entries_[i].id == id ? entries_[i].value : nullptr;
}

void* IdTable::put(uint64_t id, void* value) {
  const std::size_t i = lowerBound(id);
  if (i < size_ && entries_[i].id == id) {
    void* old = entries_[i].value;
    entries_[i].value = value;
    return old;
  }
  if (size_ == capacity_) {
    capacity_ = capacity_ == 0 ? 8 : capacity_ * 2;
    auto* grown = new Entry[capacity_];
    if (size_ != 0) std::memcpy(grown, entries_, size_ * sizeof(Entry));
    delete[] entries_;
    entries_ = grown;
  }
  std::memmove(entries_ + i + 1, entries_ + i, (size_ - i) * sizeof(Entry));
  entries_[i] = Entry{id, value};
  ++size_;
  return nullptr;
}

void* IdTable::take(uint64_t id) {
  const std::size_t i = lowerBound(id);
  if (i == size_ || entries_[i].id != id) return nullptr;
  void* value = entries_[i].value;
  --size_;
  std::memmove(entries_ + i, entries_ + i + 1, (size_ - i) * sizeof(Entry));
  return value;
}

void* IdTable::takeLast() { return size_ == 0 ? nullptr : entries_[--size_].value; }

std::vector<uint64_t> IdTable::ids() const {
  std::vector<uint64_t> out(size_);
  for (std::size_t i = 0; i < size_; ++i) out[i] = entries_[i].id;
  return out;
}

}  // namespace cleanslate
