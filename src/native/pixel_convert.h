// Pixel conversions of the addon's reads, run on worker threads: OpenSlide's ARGB to RGB bytes, and
// RGB bytes to the patch model's 0..1 floats, converted or sampled exactly as the JavaScript patch
// reader does.
#pragma once

#include <openslide.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace h2g {

// Converts premultiplied ARGB to packed RGB in place (3i+2 < 4i+4, so each pixel is read before any
// write reaches it). Integer rule as openslide-python's _convert.c (255 * c / a, truncating), so
// results are byte-identical to OpenSlide's Python binding.
inline void ArgbToRgbInPlace(uint8_t* buf, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    uint32_t p;
    std::memcpy(&p, buf + i * 4, 4);
    const uint32_t a = p >> 24;
    uint8_t* o = buf + i * 3;
    if (a == 255) {
      o[0] = (p >> 16) & 0xff;
      o[1] = (p >> 8) & 0xff;
      o[2] = p & 0xff;
    } else if (a == 0) {
      o[0] = o[1] = o[2] = 255;
    } else {
      o[0] = static_cast<uint8_t>(255 * ((p >> 16) & 0xff) / a);
      o[1] = static_cast<uint8_t>(255 * ((p >> 8) & 0xff) / a);
      o[2] = static_cast<uint8_t>(255 * (p & 0xff) / a);
    }
  }
}

// Bytes to 0..1 floats, rounded exactly as JavaScript's `byte / 255` stored into a Float32Array (a
// double division rounded to float), so a read converted here equals one converted in JavaScript.
inline void RgbToUnit(const uint8_t* rgb, size_t count, float* out) {
  static const auto table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) t[i] = static_cast<float>(i / 255.0);
    return t;
  }();
  for (size_t i = 0; i < count; ++i) out[i] = table[rgb[i]];
}

// Bilinear sampling of a read region at each output pixel's centre, the patch reader's rule for slides
// without a level at the patch magnification (src/pipeline/patch-reader.ts, planPatchRead and
// sampleBilinear, whose arithmetic this repeats operation for operation in doubles, so both give the
// same floats).
struct Sampling {
  int64_t size;     // output is size x size pixels
  double scale;     // read-level pixels per output pixel
  double origin_u;  // output pixel (0, 0)'s corner in read-level pixels
  double origin_v;
  double u0;  // the read region's corner in read-level pixels
  double v0;
  double max_u;  // last usable column and row of the read region
  double max_v;
};

inline void SampleBilinear(const uint8_t* rgb, int64_t w, int64_t h, const Sampling& s, float* out) {
  const int64_t p = s.size;
  std::vector<int64_t> xa(p), xb(p);
  std::vector<double> wx(p);
  for (int64_t x = 0; x < p; ++x) {
    const double fu = std::min(std::max(s.origin_u + (x + 0.5) * s.scale - 0.5 - s.u0, 0.0), s.max_u);
    xa[x] = static_cast<int64_t>(std::floor(fu));
    xb[x] = std::min(xa[x] + 1, w - 1);
    wx[x] = fu - static_cast<double>(xa[x]);
  }
  for (int64_t y = 0; y < p; ++y) {
    const double fv = std::min(std::max(s.origin_v + (y + 0.5) * s.scale - 0.5 - s.v0, 0.0), s.max_v);
    const int64_t ya = static_cast<int64_t>(std::floor(fv));
    const int64_t yb = std::min(ya + 1, h - 1);
    const double wy = fv - static_cast<double>(ya);
    for (int64_t x = 0; x < p; ++x) {
      const uint8_t* a = rgb + (ya * w + xa[x]) * 3;
      const uint8_t* b = rgb + (ya * w + xb[x]) * 3;
      const uint8_t* d = rgb + (yb * w + xa[x]) * 3;
      const uint8_t* e = rgb + (yb * w + xb[x]) * 3;
      const double fx = wx[x];
      float* o = out + (y * p + x) * 3;
      for (int c = 0; c < 3; ++c) {
        const double top = a[c] + (b[c] - a[c]) * fx;
        const double bottom = d[c] + (e[c] - d[c]) * fx;
        o[c] = static_cast<float>((top + (bottom - top) * wy) / 255);
      }
    }
  }
}

// OpenSlide's ARGB answer in buf (count pixels) as RGB in place, or why the pixels cannot be decoded.
// OpenSlide's error state is sticky: every later read of this handle fails the same way.
inline std::string OpenSlideRgb(openslide_t* osr, uint8_t* buf, size_t count) {
  const char* err = openslide_get_error(osr);
  if (err != nullptr) return std::string("the slide's pixel data cannot be decoded (corrupt file?): ") + err;
  ArgbToRgbInPlace(buf, count);
  return {};
}

}  // namespace h2g
