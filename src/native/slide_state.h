// Thread-safe lifetime of one OpenSlide handle (and its direct tile path), shared by the addon's
// workers (openslide_binding.cc). Header-only: the addon is one translation unit.
#pragma once

#include <openslide.h>

#include "tiff_tiles.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

namespace h2g {

// close() may come while reads are in flight: the handle is reference-counted and the real
// openslide_close() happens when the last user releases it.
class SlideState {
 public:
  SlideState(openslide_t* osr, std::unique_ptr<TiffTiles> tiles) : osr_(osr), tiles_(std::move(tiles)) {}
  ~SlideState() { CloseNow(); }

  // Returns the handle and counts one more user, or nullptr once the slide is closed.
  openslide_t* Acquire() {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || osr_ == nullptr) return nullptr;
    ++inflight_;
    return osr_;
  }

  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    --inflight_;
    if (closed_ && inflight_ == 0) CloseLocked();
  }

  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    if (inflight_ == 0) CloseLocked();
  }

  // The direct tile path, or nullptr; valid while the caller holds an Acquire().
  TiffTiles* tiles() { return tiles_.get(); }

  uint64_t DirectTileReads() {
    std::lock_guard<std::mutex> lock(mu_);
    return tiles_ ? tiles_->served() : 0;
  }

  uint64_t TileCacheHits() {
    std::lock_guard<std::mutex> lock(mu_);
    return tiles_ ? tiles_->cache_hits() : 0;
  }

  bool closed() {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }

 private:
  void CloseNow() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    CloseLocked();
  }
  void CloseLocked() {
    if (osr_ != nullptr) {
      openslide_close(osr_);
      osr_ = nullptr;
    }
    tiles_.reset();
  }

  std::mutex mu_;
  openslide_t* osr_;
  std::unique_ptr<TiffTiles> tiles_;
  int inflight_ = 0;
  bool closed_ = false;
};

}  // namespace h2g
