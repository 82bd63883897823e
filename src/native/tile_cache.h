// Decoded tiles of the direct path (tiff_tiles.h), the least recently used evicted past a byte budget.
// OpenSlide keeps such a cache too (32 MiB per slide in 3.4.1). Without one, a 20x slide without a 10x
// level decodes each 240 px tile ~2.3 times: its patches are 514 px regions of level 0, and
// neighbouring patches share tile columns (along a grid row) and a tile row (with the next grid row).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace h2g {

// One decoded tile's packed RGB; never written after it is cached.
struct DecodedTile {
  explicit DecodedTile(size_t n) : size(n), data(new uint8_t[n]) {}  // not zero-filled: decoded over
  size_t size;
  std::unique_ptr<uint8_t[]> data;
};

class TileCache {
 public:
  using Tile = std::shared_ptr<const DecodedTile>;

  explicit TileCache(size_t budget_bytes) : budget_(budget_bytes) {}

  // The tile, now the most recently used, or nullptr.
  Tile Get(uint64_t key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    ++hits_;
    return it->second->second;
  }

  // Two threads may decode the same tile at once: the first to put it wins, the other's copy is freed.
  void Put(uint64_t key, Tile tile) {
    std::lock_guard<std::mutex> lock(mu_);
    if (tile->size > budget_ || index_.count(key) != 0) return;
    order_.emplace_front(key, std::move(tile));
    index_[key] = order_.begin();
    bytes_ += order_.front().second->size;
    while (bytes_ > budget_) {
      bytes_ -= order_.back().second->size;
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }

  uint64_t hits() {
    std::lock_guard<std::mutex> lock(mu_);
    return hits_;
  }

 private:
  using Entry = std::pair<uint64_t, Tile>;
  std::mutex mu_;
  const size_t budget_;
  size_t bytes_ = 0;
  uint64_t hits_ = 0;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<uint64_t, std::list<Entry>::iterator> index_;
};

}  // namespace h2g
