// A batch of region reads written as 0..1 floats into one caller's Float32Array (a patch model's batch
// tensor), all on one libuv worker thread. One worker per batch rather than one per region: on a
// machine whose cores onnxruntime already keeps busy, every worker woken is a context switch that
// preempts inference (16 wake-ups per batch cost ~5 ms of blocked event loop on 2 cores, measured),
// while one thread decodes a batch of 256 px tiles in a small fraction of the batch's inference time.
#pragma once

#include <napi.h>
#include <openslide.h>

#include "pixel_convert.h"
#include "pixel_workers.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace h2g {

// One region of a batch and where its floats go.
struct RegionInto {
  int64_t x, y;
  int32_t level;
  int64_t width, height;
  size_t offset;      // element offset in the target
  Sampling sampling;  // size 0: the region converted whole (width * height * 3 floats)
};

// Doubles per region in readRegions()'s packed argument: x, y, level, width, height, offset, then the
// sampling's size, scale, originU, originV, u0, v0, maxU, maxV (size 0: no sampling).
constexpr size_t kRegionFields = 14;

inline bool IsWhole(double d) { return std::isfinite(d) && d == std::floor(d); }

// Checks and unpacks one region; an empty string, or what is wrong with it.
inline std::string UnpackRegion(const double* v, size_t target_length, RegionInto* out) {
  for (int i = 0; i < 7; ++i) {
    if (!IsWhole(v[i])) return "coordinates, level, offset and sampling size must be integers";
  }
  // Whole numbers this large are no region at all; below it they convert to int64_t exactly.
  for (int i = 0; i < 5; ++i) {
    if (std::fabs(v[i]) > 1e15) return "region position, size or level out of range";
  }
  const double w = v[3], h = v[4];
  const std::string problem = RegionProblem(static_cast<int64_t>(w), static_cast<int64_t>(h), static_cast<int64_t>(v[2]));
  if (!problem.empty()) return problem;
  const Sampling s{static_cast<int64_t>(v[6]), v[7], v[8], v[9], v[10], v[11], v[12], v[13]};
  if (v[6] != 0) {
    const bool inside = s.max_u >= 0 && s.max_v >= 0 && s.max_u <= w - 1 && s.max_v <= h - 1;
    if (!(v[6] >= 1 && v[6] <= 65536) || !(s.scale > 0) || !inside) {
      return "sampling: size must be a whole number >= 1, scale > 0, max inside the region";
    }
  }
  const double floats = (v[6] != 0 ? v[6] * v[6] : w * h) * 3;
  if (v[5] < 0 || v[5] + floats > static_cast<double>(target_length)) {
    return "target offset must leave room for the region's floats after it";
  }
  *out = {static_cast<int64_t>(v[0]), static_cast<int64_t>(v[1]), static_cast<int32_t>(v[2]),
          static_cast<int64_t>(w),    static_cast<int64_t>(h),    static_cast<size_t>(v[5]), s};
  return {};
}

class RegionsIntoWorker : public SlideWorker {
 public:
  RegionsIntoWorker(Napi::Env env, std::shared_ptr<SlideState> state, openslide_t* osr,
                    std::vector<RegionInto> regions, Napi::Float32Array target)
      : SlideWorker(env, std::move(state), osr),
        regions_(std::move(regions)),
        target_ref_(Napi::Persistent(static_cast<Napi::Object>(target))),
        target_(target.Data()) {}

  void Execute() override {
    int64_t most = 0;
    for (const RegionInto& r : regions_) most = std::max(most, r.width * r.height);
    // One scratch buffer for the whole batch, not zero-filled: every read writes all of it it uses.
    std::unique_ptr<uint8_t, decltype(&std::free)> buf(static_cast<uint8_t*>(std::malloc(most * 4)), std::free);
    if (!buf) return Fail("OUT_OF_MEMORY", "cannot allocate the region buffer");
    for (const RegionInto& r : regions_) {
      const std::string err = ReadRegionRgb(*state_, osr_, r.x, r.y, r.level, r.width, r.height, buf.get());
      if (!err.empty()) return Fail("CORRUPT", err);
      float* out = target_ + r.offset;
      if (r.sampling.size > 0) {
        SampleBilinear(buf.get(), r.width, r.height, r.sampling, out);
      } else {
        RgbToUnit(buf.get(), static_cast<size_t>(r.width * r.height) * 3, out);
      }
    }
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

 private:
  std::vector<RegionInto> regions_;
  // Keeps the caller's array alive until the worker is done with target_.
  Napi::ObjectReference target_ref_;
  float* target_;
};

}  // namespace h2g
