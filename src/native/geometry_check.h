// Slide geometry from the file is not trusted: a TIFF whose tile size or image size was edited (a few
// bytes) made OpenSlide's tile cache or our direct tile path allocate by it (terabytes), and GLib
// aborts the whole process when g_malloc fails. Every directory of a TIFF-based file is checked with
// libtiff before OpenSlide opens it, and every level OpenSlide reports (any format) afterwards,
// against bounds the caller gives (src/pipeline/limits.ts documents them). Header-only: the addon is
// one translation unit.
#pragma once

#include <openslide.h>
#include <tiffio.h>

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

namespace h2g {

struct GeometryBounds {
  int64_t max_tile_side = 4096;
  int64_t max_level_side = int64_t(1) << 20;
  int64_t max_levels = 64;
  // Associated images (label, macro, thumbnail) are decoded whole: bounded by their pixel count.
  int64_t max_associated_pixels = int64_t(1) << 28;
};

namespace geometry_detail {

inline int Quiet(TIFF*, void*, const char*, const char*, va_list) { return 1; }

inline bool IsTiff(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  unsigned char magic[4] = {0, 0, 0, 0};
  const size_t n = std::fread(magic, 1, 4, f);
  std::fclose(f);
  if (n != 4) return false;
  const bool le = magic[0] == 'I' && magic[1] == 'I' && (magic[2] == 42 || magic[2] == 43) && magic[3] == 0;
  const bool be = magic[0] == 'M' && magic[1] == 'M' && magic[2] == 0 && (magic[3] == 42 || magic[3] == 43);
  return le || be;
}

inline std::string Side(const char* what, int64_t value, int64_t max) {
  return std::string(what) + " " + std::to_string(value) + " is outside [1, " + std::to_string(max) + "]";
}

}  // namespace geometry_detail

// Checks every directory of a TIFF file (classic or BigTIFF; NDPI, SVS, generic, SCN, BIF...):
// image sides, and tile sides of tiled directories. Returns an empty string, or what is wrong. A
// file that is no TIFF, or that libtiff cannot parse, passes: OpenSlide then judges it, and the
// levels it reports are checked by CheckLevels.
inline std::string CheckTiffDirectories(const std::string& path, const GeometryBounds& b) {
  using namespace geometry_detail;
  if (!IsTiff(path)) return {};
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  if (opts == nullptr) return {};
  TIFFOpenOptionsSetErrorHandlerExtR(opts, Quiet, nullptr);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, Quiet, nullptr);
  // libtiff's own allocations while reading tags (offset arrays...) stay bounded too.
  TIFFOpenOptionsSetMaxSingleMemAlloc(opts, tmsize_t(256) << 20);
  TIFF* tiff = TIFFOpenExt(path.c_str(), "rm", opts);
  TIFFOpenOptionsFree(opts);
  if (tiff == nullptr) return {};
  std::string why;
  // Pyramid levels plus associated images; a directory chain longer than this is damaged.
  const int64_t max_dirs = b.max_levels * 4;
  int64_t d = 0;
  do {
    if (++d > max_dirs) {
      why = "more than " + std::to_string(max_dirs) + " TIFF directories";
      break;
    }
    uint32_t w = 0, h = 0;
    TIFFGetField(tiff, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tiff, TIFFTAG_IMAGELENGTH, &h);
    const std::string where = "TIFF directory " + std::to_string(d - 1) + ": ";
    if (w < 1 || w > b.max_level_side) why = where + Side("image width", w, b.max_level_side);
    else if (h < 1 || h > b.max_level_side) why = where + Side("image height", h, b.max_level_side);
    if (why.empty() && TIFFIsTiled(tiff)) {
      uint32_t tw = 0, th = 0;
      TIFFGetField(tiff, TIFFTAG_TILEWIDTH, &tw);
      TIFFGetField(tiff, TIFFTAG_TILELENGTH, &th);
      if (tw < 1 || tw > b.max_tile_side) why = where + Side("tile width", tw, b.max_tile_side);
      else if (th < 1 || th > b.max_tile_side) why = where + Side("tile height", th, b.max_tile_side);
    }
  } while (why.empty() && TIFFReadDirectory(tiff));
  TIFFClose(tiff);
  return why;
}

// Checks what OpenSlide reports: level count, level sides, downsamples (finite, level 0 at 1,
// increasing) and associated image sizes. Returns an empty string, or what is wrong.
inline std::string CheckLevels(openslide_t* osr, const GeometryBounds& b) {
  using namespace geometry_detail;
  const int32_t count = openslide_get_level_count(osr);
  if (count < 1 || count > b.max_levels) {
    return "level count " + std::to_string(count) + " is outside [1, " + std::to_string(b.max_levels) + "]";
  }
  double previous = 0;
  for (int32_t level = 0; level < count; ++level) {
    int64_t w = 0, h = 0;
    openslide_get_level_dimensions(osr, level, &w, &h);
    const double ds = openslide_get_level_downsample(osr, level);
    const std::string where = "level " + std::to_string(level) + ": ";
    if (w < 1 || w > b.max_level_side) return where + Side("width", w, b.max_level_side);
    if (h < 1 || h > b.max_level_side) return where + Side("height", h, b.max_level_side);
    const bool ds_ok = std::isfinite(ds) && (level == 0 ? std::fabs(ds - 1) < 1e-6 : ds >= previous);
    if (!ds_ok) return where + "downsample " + std::to_string(ds) + " is not finite and non-decreasing from 1";
    previous = ds;
  }
  for (const char* const* name = openslide_get_associated_image_names(osr); *name != nullptr; ++name) {
    int64_t w = 0, h = 0;
    openslide_get_associated_image_dimensions(osr, *name, &w, &h);
    if (w < 1 || h < 1 || w > b.max_associated_pixels / h) {
      return "associated image '" + std::string(*name) + "' of " + std::to_string(w) + " x " + std::to_string(h) +
             " px is outside the bound of " + std::to_string(b.max_associated_pixels) + " pixels";
    }
  }
  return {};
}

}  // namespace h2g
