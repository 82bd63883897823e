// A direct path beside OpenSlide for the reads the pipeline makes thousands of times: a region of a
// TIFF-based slide (generic-tiff, aperio) with JPEG tiles, at whole pixel positions of a level and
// inside it (one whole tile at 10x on a 40x slide; a 514 x 514 px region at level 0 of a 20x slide),
// assembled from tiles decoded by libtiff.
//
// Why: OpenSlide composites every tile through cairo with CAIRO_OPERATOR_SATURATE, which pixman runs on
// its slow general path; measured on our 40x benchmark slide with OpenSlide 3.4.1 (perf), ~80 % of a
// 256 x 256 read is pixman and ~16 % JPEG decoding: 2.1 ms of CPU per tile, against 0.33 ms for the same
// tile decoded by libtiff (JPEGCOLORMODE_RGB, same libjpeg-turbo). Upstream tracks this as
// openslide/openslide#440, #552 and #719 (still open for 4.0). On 2 cores that difference is ~12 % of
// the patch model's own CPU time.
//
// What keeps it honest: at whole pixel positions OpenSlide's answer is a plain copy of tile pixels, so
// this path serves only such reads, byte for byte as OpenSlide would (checked in
// test/slide/direct-tiles.test.ts against openslide_read_region on every tile and on random regions of
// real slides); everything else (other formats, fractional positions, regions crossing the level's
// edge, other compressions, any libtiff error or warning) returns false and the caller asks OpenSlide.
// H2G_TIFF_TILES=0 or OpenSlide.open(path, {directTiles: false}) turns it off.
#pragma once

#include <openslide.h>
#include <tiffio.h>

#include "tile_cache.h"

#include <atomic>
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace h2g {

class TiffTiles {
 public:
  // Maps OpenSlide's levels to TIFF directories; nullptr when the slide does not qualify.
  static std::unique_ptr<TiffTiles> Open(const std::string& path, const char* vendor, openslide_t* osr) {
    const char* off = std::getenv("H2G_TIFF_TILES");
    if (off != nullptr && std::strcmp(off, "0") == 0) return nullptr;
    if (vendor == nullptr || (std::strcmp(vendor, "generic-tiff") != 0 && std::strcmp(vendor, "aperio") != 0)) {
      return nullptr;
    }
    std::unique_ptr<TiffTiles> tiles(new TiffTiles(path));
    std::unique_ptr<Handle> handle = tiles->OpenHandle();
    if (!handle) return nullptr;
    TIFF* tiff = handle->tiff;
    const int32_t count = openslide_get_level_count(osr);
    for (int32_t level = 0; level < count; ++level) {
      Level l{};
      openslide_get_level_dimensions(osr, level, &l.width, &l.height);
      l.downsample = openslide_get_level_downsample(osr, level);
      l.dir = FindDirectory(tiff, l.width, l.height, &l.tile_w, &l.tile_h);
      tiles->levels_.push_back(l);
    }
    // Its directory is whatever the search ended on, and JPEGCOLORMODE is not set: mark it unknown.
    handle->dir = -1;
    tiles->Give(std::move(handle));
    return tiles;
  }

  // Writes the region as packed RGB into rgb (width * height * 3 bytes) when it lies at whole pixel
  // positions of the level and inside it: then OpenSlide's answer is a plain copy of tile pixels.
  // Returns false, having written nothing useful, otherwise.
  bool TryRead(int64_t x, int64_t y, int32_t level, int64_t width, int64_t height, uint8_t* rgb) {
    if (level < 0 || static_cast<size_t>(level) >= levels_.size()) return false;
    const Level& l = levels_[level];
    if (l.dir < 0) return false;
    // OpenSlide places the region at x / downsample in the level: only whole positions are plain
    // copies (anything else is resampled by cairo), and only inside the level (else clipped).
    const double lx = static_cast<double>(x) / l.downsample;
    const double ly = static_cast<double>(y) / l.downsample;
    if (lx != std::floor(lx) || ly != std::floor(ly) || lx < 0 || ly < 0) return false;
    const int64_t ix = static_cast<int64_t>(lx);
    const int64_t iy = static_cast<int64_t>(ly);
    if (ix + width > l.width || iy + height > l.height) return false;
    std::unique_ptr<Handle> h = Take(l.dir);
    if (!h) return false;
    h->problems = 0;
    const bool whole = ix % l.tile_w == 0 && iy % l.tile_h == 0 && width == l.tile_w && height == l.tile_h;
    const bool ok = whole ? ReadTile(*h, l, TileAt(*h, ix, iy), rgb) : Assemble(*h, l, ix, iy, width, height, rgb);
    // A warning counts as a failure: libjpeg only warns about corrupt data and returns grey, where
    // OpenSlide fails the read; falling back lets OpenSlide give its own answer and error.
    if (!ok || h->problems != 0) return false;  // the handle is dropped: its decoder state is unknown
    served_.fetch_add(1, std::memory_order_relaxed);
    Give(std::move(h));
    return true;
  }

  // How many reads this path served: tests check that it is really taken.
  uint64_t served() const { return served_.load(std::memory_order_relaxed); }
  // How many tiles regions took from the cache instead of decoding them again.
  uint64_t cache_hits() { return cache_.hits(); }

  // Decoded tiles kept for regions that span several (whole-tile reads bypass the cache): enough for
  // two tile rows of a 40,000 px wide level in 240 px tiles, the reuse a row-major patch grid has.
  static constexpr size_t kTileCacheBytes = size_t(64) << 20;

 private:
  struct Level {
    int64_t width, height;
    double downsample;
    int dir;  // -1: not served here
    int64_t tile_w, tile_h;
  };
  // One libtiff handle; problems counts the errors and warnings libtiff reported through it.
  struct Handle {
    TIFF* tiff = nullptr;
    int dir = -1;  // -1: unknown, or JPEGCOLORMODE not set yet
    int problems = 0;
    ~Handle() {
      if (tiff != nullptr) TIFFClose(tiff);
    }
  };

  static ttile_t TileAt(Handle& h, int64_t x, int64_t y) {
    return TIFFComputeTile(h.tiff, static_cast<uint32_t>(x), static_cast<uint32_t>(y), 0, 0);
  }

  // Decodes a tile into out (tile_w * tile_h * 3 bytes).
  static bool ReadTile(Handle& h, const Level& l, ttile_t tile, uint8_t* out) {
    const tmsize_t bytes = static_cast<tmsize_t>(l.tile_w * l.tile_h * 3);
    return TIFFReadEncodedTile(h.tiff, tile, out, bytes) == bytes;
  }

  // The tile at level pixel (tx, ty), from the cache or decoded (and cached unless libtiff complained
  // about it); nullptr when it cannot be decoded cleanly.
  TileCache::Tile CachedTile(Handle& h, const Level& l, int64_t tx, int64_t ty) {
    const ttile_t index = TileAt(h, tx, ty);
    const uint64_t key = (static_cast<uint64_t>(l.dir) << 32) | index;
    if (TileCache::Tile cached = cache_.Get(key)) return cached;
    auto tile = std::make_shared<DecodedTile>(static_cast<size_t>(l.tile_w * l.tile_h * 3));
    const int problems = h.problems;
    if (!ReadTile(h, l, index, tile->data.get()) || h.problems != problems) return nullptr;
    cache_.Put(key, tile);
    return tile;
  }

  // Copies the region out of every tile it overlaps; the whole-tile case above decodes straight into
  // rgb, without the copy or the cache.
  bool Assemble(Handle& h, const Level& l, int64_t x, int64_t y, int64_t w, int64_t hgt, uint8_t* rgb) {
    for (int64_t ty = y / l.tile_h * l.tile_h; ty < y + hgt; ty += l.tile_h) {
      for (int64_t tx = x / l.tile_w * l.tile_w; tx < x + w; tx += l.tile_w) {
        const TileCache::Tile tile = CachedTile(h, l, tx, ty);
        if (!tile) return false;
        const int64_t x0 = std::max(x, tx), x1 = std::min(x + w, tx + l.tile_w);
        const int64_t y0 = std::max(y, ty), y1 = std::min(y + hgt, ty + l.tile_h);
        for (int64_t row = y0; row < y1; ++row) {
          std::memcpy(rgb + ((row - y) * w + (x0 - x)) * 3, tile->data.get() + ((row - ty) * l.tile_w + (x0 - tx)) * 3,
                      static_cast<size_t>(x1 - x0) * 3);
        }
      }
    }
    return true;
  }

  static int CountProblem(TIFF*, void* user_data, const char*, const char*, va_list) {
    ++static_cast<Handle*>(user_data)->problems;
    return 1;  // handled: nothing reaches libtiff's global handlers (stderr)
  }

  // Per-handle error and warning handlers (libtiff >= 4.5), so that OpenSlide's own use of libtiff and
  // its global handlers are left alone.
  std::unique_ptr<Handle> OpenHandle() {
    auto h = std::make_unique<Handle>();
    TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
    if (opts == nullptr) return nullptr;
    TIFFOpenOptionsSetErrorHandlerExtR(opts, CountProblem, h.get());
    TIFFOpenOptionsSetWarningHandlerExtR(opts, CountProblem, h.get());
    h->tiff = TIFFOpenExt(path_.c_str(), "rm", opts);  // "m": no mmap, which would count in RSS
    TIFFOpenOptionsFree(opts);
    if (h->tiff == nullptr) return nullptr;
    return h;
  }

  explicit TiffTiles(std::string path) : path_(std::move(path)) {}

  // The first tiled directory of exactly this size holding 8-bit, 3-sample JPEG, as YCbCr (libvips,
  // most scanners) or RGB (Aperio): the layouts whose libtiff decoding is verified identical to
  // OpenSlide's (libjpeg-turbo converts YCbCr streams to RGB in both).
  static int FindDirectory(TIFF* tiff, int64_t width, int64_t height, int64_t* tile_w, int64_t* tile_h) {
    for (tdir_t d = 0; TIFFSetDirectory(tiff, d); ++d) {
      uint32_t w = 0, h = 0, tw = 0, th = 0;
      uint16_t compression = 0, photometric = 0, bits = 0, samples = 0, planar = 0;
      if (!TIFFIsTiled(tiff)) continue;
      TIFFGetField(tiff, TIFFTAG_IMAGEWIDTH, &w);
      TIFFGetField(tiff, TIFFTAG_IMAGELENGTH, &h);
      if (w != width || h != height) continue;
      TIFFGetField(tiff, TIFFTAG_TILEWIDTH, &tw);
      TIFFGetField(tiff, TIFFTAG_TILELENGTH, &th);
      TIFFGetFieldDefaulted(tiff, TIFFTAG_COMPRESSION, &compression);
      TIFFGetFieldDefaulted(tiff, TIFFTAG_PHOTOMETRIC, &photometric);
      TIFFGetFieldDefaulted(tiff, TIFFTAG_BITSPERSAMPLE, &bits);
      TIFFGetFieldDefaulted(tiff, TIFFTAG_SAMPLESPERPIXEL, &samples);
      TIFFGetFieldDefaulted(tiff, TIFFTAG_PLANARCONFIG, &planar);
      const bool colour = photometric == PHOTOMETRIC_YCBCR || photometric == PHOTOMETRIC_RGB;
      if (compression != COMPRESSION_JPEG || !colour || bits != 8 || samples != 3 ||
          planar != PLANARCONFIG_CONTIG || tw == 0 || th == 0) {
        return -1;
      }
      *tile_w = tw;
      *tile_h = th;
      return static_cast<int>(d);
    }
    return -1;
  }

  // A handle already on the directory if one is free; libtiff handles are not thread-safe, so each
  // read holds one alone. The pool grows to the number of reads in flight (libuv's pool size).
  std::unique_ptr<Handle> Take(int dir) {
    std::unique_ptr<Handle> h;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = 0; i < pool_.size(); ++i) {
        if (pool_[i]->dir == dir || i + 1 == pool_.size()) {
          h = std::move(pool_[i]);
          pool_.erase(pool_.begin() + static_cast<std::ptrdiff_t>(i));
          break;
        }
      }
    }
    if (!h) h = OpenHandle();
    if (!h) return nullptr;
    if (h->dir != dir) {
      h->dir = -1;
      if (!TIFFSetDirectory(h->tiff, static_cast<tdir_t>(dir))) return nullptr;
      // libjpeg, not libtiff, converts YCbCr to RGB, with the same upsampling as OpenSlide's decoder.
      uint16_t photometric = 0;
      TIFFGetFieldDefaulted(h->tiff, TIFFTAG_PHOTOMETRIC, &photometric);
      if (photometric == PHOTOMETRIC_YCBCR && !TIFFSetField(h->tiff, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB)) {
        return nullptr;
      }
      h->dir = dir;
    }
    return h;
  }

  void Give(std::unique_ptr<Handle> h) {
    std::lock_guard<std::mutex> lock(mu_);
    pool_.push_back(std::move(h));
  }

  std::string path_;
  std::vector<Level> levels_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> pool_;
  std::atomic<uint64_t> served_{0};
  TileCache cache_{kTileCacheBytes};
};

}  // namespace h2g
