// The addon's pixel reads (openslide_binding.cc) that return packed RGB bytes; each runs on libuv's
// worker pool. Batch reads into float tensors are in batch_worker.h.
#pragma once

#include <napi.h>
#include <openslide.h>

#include "pixel_convert.h"
#include "slide_state.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

namespace h2g {

// Largest region one read may return; larger requests are almost certainly a bug in the caller.
constexpr int64_t kMaxRegionPixels = int64_t(1) << 28;

// Why a region of this size and level cannot be read, or an empty string (readRegion and readRegions).
inline std::string RegionProblem(int64_t w, int64_t h, int64_t level) {
  if (w <= 0 || h <= 0 || w > kMaxRegionPixels || h > kMaxRegionPixels || w * h > kMaxRegionPixels) {
    return "region size " + std::to_string(w) + "x" + std::to_string(h) + " is not allowed (each side > 0, at most " +
           std::to_string(kMaxRegionPixels) + " pixels)";
  }
  if (level < 0 || level > INT32_MAX) return "level out of range";
  return {};
}

inline Napi::Error CodedError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

inline void FreeBuffer(Napi::Env, uint8_t* data) { std::free(data); }

// Reads a region as packed RGB into buf (width * height * 4 bytes of scratch): straight from the
// slide's tiles when it can (TiffTiles), else through OpenSlide (ARGB, converted in place). Returns
// an empty string, or why the pixels cannot be decoded. Runs on a worker thread.
inline std::string ReadRegionRgb(SlideState& state, openslide_t* osr, int64_t x, int64_t y, int32_t level,
                                 int64_t width, int64_t height, uint8_t* buf) {
  TiffTiles* tiles = state.tiles();
  if (tiles != nullptr && tiles->TryRead(x, y, level, width, height, buf)) return {};
  openslide_read_region(osr, reinterpret_cast<uint32_t*>(buf), x, y, level, width, height);
  return OpenSlideRgb(osr, buf, static_cast<size_t>(width) * static_cast<size_t>(height));
}

// The handle is acquired when a read is queued (on the JS thread), so a close() that comes after the
// call lets it finish, and released when the worker is destroyed.
class SlideWorker : public Napi::AsyncWorker {
 public:
  SlideWorker(Napi::Env env, std::shared_ptr<SlideState> state, openslide_t* osr)
      : Napi::AsyncWorker(env), state_(std::move(state)), osr_(osr), deferred_(Napi::Promise::Deferred::New(env)) {}
  ~SlideWorker() override { state_->Release(); }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(CodedError(Env(), code_, e.Message()).Value()); }

 protected:
  void Fail(const std::string& code, const std::string& message) {
    code_ = code;
    SetError(message);
  }

  std::shared_ptr<SlideState> state_;
  openslide_t* osr_;
  Napi::Promise::Deferred deferred_;

 private:
  std::string code_ = "READ_FAILED";
};

// Region and associated-image reads: one allocation of ARGB's size, returned as an RGB Buffer.
class PixelWorker : public SlideWorker {
 public:
  using SlideWorker::SlideWorker;
  ~PixelWorker() override { std::free(buf_); }

  void Execute() override {
    if (!Read()) return;
    // Give back the quarter RGB does not use.
    void* shrunk = std::realloc(buf_, static_cast<size_t>(width_) * static_cast<size_t>(height_) * 3);
    if (shrunk != nullptr) buf_ = static_cast<uint8_t*>(shrunk);
  }

  void OnOK() override {
    Napi::Env env = Env();
    const size_t bytes = static_cast<size_t>(width_) * static_cast<size_t>(height_) * 3;
    Napi::Object result = Napi::Object::New(env);
    result.Set("width", Napi::Number::New(env, static_cast<double>(width_)));
    result.Set("height", Napi::Number::New(env, static_cast<double>(height_)));
    result.Set("data", Napi::Buffer<uint8_t>::New(env, buf_, bytes, FreeBuffer));
    buf_ = nullptr;
    deferred_.Resolve(result);
  }

 protected:
  // Fills buf_ with RGB and sets width_ and height_; false after Fail().
  virtual bool Read() = 0;
  // Not zero-filled: OpenSlide writes (or clears) every pixel itself.
  bool Allocate() {
    buf_ = static_cast<uint8_t*>(std::malloc(static_cast<size_t>(width_) * static_cast<size_t>(height_) * 4));
    if (buf_ == nullptr) Fail("OUT_OF_MEMORY", "cannot allocate the region buffer");
    return buf_ != nullptr;
  }

  uint8_t* buf_ = nullptr;
  int64_t width_ = 0;
  int64_t height_ = 0;
};

class RegionWorker : public PixelWorker {
 public:
  RegionWorker(Napi::Env env, std::shared_ptr<SlideState> state, openslide_t* osr, int64_t x, int64_t y,
               int32_t level, int64_t w, int64_t h)
      : PixelWorker(env, std::move(state), osr), x_(x), y_(y), level_(level) {
    width_ = w;
    height_ = h;
  }

 protected:
  bool Read() override {
    if (!Allocate()) return false;
    const std::string err = ReadRegionRgb(*state_, osr_, x_, y_, level_, width_, height_, buf_);
    if (!err.empty()) Fail("CORRUPT", err);
    return err.empty();
  }

 private:
  int64_t x_, y_;
  int32_t level_;
};

class AssociatedWorker : public PixelWorker {
 public:
  AssociatedWorker(Napi::Env env, std::shared_ptr<SlideState> state, openslide_t* osr, std::string name)
      : PixelWorker(env, std::move(state), osr), name_(std::move(name)) {}

 protected:
  bool Read() override {
    openslide_get_associated_image_dimensions(osr_, name_.c_str(), &width_, &height_);
    if (width_ <= 0 || height_ <= 0) {
      Fail("NOT_FOUND", "the slide has no associated image named '" + name_ + "'");
      return false;
    }
    if (width_ * height_ > kMaxRegionPixels) {
      Fail("INVALID_ARGUMENT", "associated image '" + name_ + "' is too large");
      return false;
    }
    if (!Allocate()) return false;
    openslide_read_associated_image(osr_, name_.c_str(), reinterpret_cast<uint32_t*>(buf_));
    const std::string err = OpenSlideRgb(osr_, buf_, static_cast<size_t>(width_) * static_cast<size_t>(height_));
    if (!err.empty()) Fail("CORRUPT", err);
    return err.empty();
  }

 private:
  std::string name_;
};

}  // namespace h2g
