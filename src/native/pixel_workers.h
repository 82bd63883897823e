// The addon's pixel reads (openslide_binding.cc): each runs on libuv's worker pool and produces packed
// RGB bytes, or 0..1 floats written straight into a caller's Float32Array (so that a batch tensor is
// filled off the JavaScript thread, which onnxruntime-node blocks while it infers).
#pragma once

#include <napi.h>
#include <openslide.h>

#include "slide_state.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

namespace h2g {

// Largest region one read may return; larger requests are almost certainly a bug in the caller.
constexpr int64_t kMaxRegionPixels = int64_t(1) << 28;

inline Napi::Error CodedError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

inline void FreeBuffer(Napi::Env, uint8_t* data) { std::free(data); }

// Shared by region and associated-image reads: owns the ARGB scratch and produces the RGB buffer.
// The handle is acquired when the read is queued (on the JS thread), so a close() that comes after
// the call lets it finish, and released when the worker is destroyed.
class PixelWorker : public Napi::AsyncWorker {
 public:
  PixelWorker(Napi::Env env, std::shared_ptr<SlideState> state, openslide_t* osr)
      : Napi::AsyncWorker(env), state_(std::move(state)), osr_(osr), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    if (!Read(osr_)) return;
    const size_t count = static_cast<size_t>(width_) * static_cast<size_t>(height_);
    if (!rgb_) {
      const char* err = openslide_get_error(osr_);
      if (err != nullptr) {
        // OpenSlide's error state is sticky: every later read of this handle fails the same way.
        code_ = "CORRUPT";
        SetError(std::string("the slide's pixel data cannot be decoded (corrupt file?): ") + err);
        return;
      }
      ArgbToRgbInPlace(buf_, count);
    }
    if (target_ != nullptr) {
      if (sampling_.size > 0) {
        SampleBilinear(buf_, width_, height_, sampling_, target_);
      } else {
        RgbToUnit(buf_, count * 3, target_);
      }
      std::free(buf_);
      buf_ = nullptr;
      return;
    }
    // One allocation per read, of ARGB's size: give the quarter RGB does not use back.
    void* shrunk = std::realloc(buf_, count * 3);
    if (shrunk != nullptr) buf_ = static_cast<uint8_t*>(shrunk);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (target_ != nullptr) {
      deferred_.Resolve(env.Undefined());
      return;
    }
    const size_t bytes = static_cast<size_t>(width_) * static_cast<size_t>(height_) * 3;
    Napi::Object result = Napi::Object::New(env);
    result.Set("width", Napi::Number::New(env, static_cast<double>(width_)));
    result.Set("height", Napi::Number::New(env, static_cast<double>(height_)));
    result.Set("data", Napi::Buffer<uint8_t>::New(env, buf_, bytes, FreeBuffer));
    buf_ = nullptr;
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& e) override {
    deferred_.Reject(CodedError(Env(), code_, e.Message()).Value());
  }

  ~PixelWorker() override {
    std::free(buf_);
    state_->Release();
  }

 protected:
  // Fills buf_ (as ARGB, or as RGB after setting rgb_), width_ and height_; false after SetError.
  virtual bool Read(openslide_t* osr) = 0;
  // Not zero-filled: OpenSlide writes (or clears) every pixel itself.
  bool Allocate() {
    const size_t count = static_cast<size_t>(width_) * static_cast<size_t>(height_);
    buf_ = static_cast<uint8_t*>(std::malloc(count * 4));
    if (buf_ == nullptr) {
      code_ = "OUT_OF_MEMORY";
      SetError("cannot allocate the region buffer");
      return false;
    }
    return true;
  }
  uint32_t* argb() { return reinterpret_cast<uint32_t*>(buf_); }

  std::shared_ptr<SlideState> state_;
  openslide_t* osr_;
  Napi::Promise::Deferred deferred_;
  std::string code_ = "READ_FAILED";
  uint8_t* buf_ = nullptr;
  bool rgb_ = false;
  int64_t width_ = 0;
  int64_t height_ = 0;
  // Where floats go instead of a returned Buffer (a caller's Float32Array, kept alive by target_ref_).
  float* target_ = nullptr;
  Napi::ObjectReference target_ref_;
  // With size > 0: the floats are the region sampled bilinearly (size x size x 3), not converted.
  Sampling sampling_{};
};

class RegionWorker : public PixelWorker {
 public:
  RegionWorker(Napi::Env env, std::shared_ptr<SlideState> state, openslide_t* osr, int64_t x, int64_t y,
               int32_t level, int64_t w, int64_t h)
      : PixelWorker(env, std::move(state), osr), x_(x), y_(y), level_(level) {
    width_ = w;
    height_ = h;
  }

  // Sample bilinearly into the target instead of converting (with SetTarget).
  void SetSampling(const Sampling& sampling) { sampling_ = sampling; }

  // Write 0..1 floats into array at element offset (checked by the caller to fit) instead.
  void SetTarget(Napi::Float32Array array, size_t offset) {
    target_ref_ = Napi::Persistent(static_cast<Napi::Object>(array));
    target_ = array.Data() + offset;
  }

 protected:
  bool Read(openslide_t* osr) override {
    if (!Allocate()) return false;
    // The direct path writes RGB into the buffer's first three quarters; if it declines, OpenSlide
    // overwrites the whole buffer with ARGB.
    TiffTiles* tiles = state_->tiles();
    rgb_ = tiles != nullptr && tiles->TryRead(x_, y_, level_, width_, height_, buf_);
    if (rgb_) return true;
    openslide_read_region(osr, argb(), x_, y_, level_, width_, height_);
    return true;
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
  bool Read(openslide_t* osr) override {
    openslide_get_associated_image_dimensions(osr, name_.c_str(), &width_, &height_);
    if (width_ <= 0 || height_ <= 0) {
      code_ = "NOT_FOUND";
      SetError("the slide has no associated image named '" + name_ + "'");
      return false;
    }
    if (width_ * height_ > kMaxRegionPixels) {
      code_ = "INVALID_ARGUMENT";
      SetError("associated image '" + name_ + "' is too large");
      return false;
    }
    if (!Allocate()) return false;
    openslide_read_associated_image(osr, name_.c_str(), argb());
    return true;
  }

 private:
  std::string name_;
};

}  // namespace h2g
