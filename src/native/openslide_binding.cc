// Native binding to libopenslide, written by hand because no maintained npm package binds OpenSlide.
// What it must guarantee, and why it is shaped this way:
//  - every call that touches pixels runs on libuv's worker pool (Napi::AsyncWorker), so the event loop
//    never blocks and many reads can be in flight (OpenSlide allows concurrent reads on one handle);
//  - close() may be called while reads are in flight: the handle is reference-counted and the real
//    openslide_close() happens when the last read finishes, so no read ever touches a freed handle;
//  - pixels come back as packed RGB: OpenSlide returns premultiplied ARGB, which we un-premultiply with
//    the same integer rule as openslide-python, and fully transparent pixels become white.
#include <napi.h>
#include <openslide.h>

#include "pixel_workers.h"
#include "slide_state.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace {

using h2g::AssociatedWorker;
using h2g::CodedError;
using h2g::kMaxRegionPixels;
using h2g::RegionWorker;
using h2g::SlideState;

struct LevelInfo {
  int64_t width, height;
  double downsample;
};

struct SlideMetadata {
  std::string vendor;
  std::vector<std::pair<std::string, std::string>> properties;
  std::vector<LevelInfo> levels;
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> associated;
};

class Slide : public Napi::ObjectWrap<Slide> {
 public:
  static Napi::FunctionReference* constructor;

  static Napi::Function Init(Napi::Env env) {
    Napi::Function fn = DefineClass(env, "NativeSlide",
                                    {
                                        InstanceMethod("readRegion", &Slide::ReadRegion),
                                        InstanceMethod("readAssociatedImage", &Slide::ReadAssociated),
                                        InstanceMethod("close", &Slide::Close),
                                        InstanceAccessor("closed", &Slide::Closed, nullptr),
                                        InstanceAccessor("directTileReads", &Slide::DirectTileReads, nullptr),
                                    });
    constructor = new Napi::FunctionReference(Napi::Persistent(fn));
    return fn;
  }

  Slide(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Slide>(info) {
    // Only Open() creates slides: it passes the state through an External.
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(info.Env(), "NativeSlide cannot be constructed directly; use open()");
    }
    auto* holder = info[0].As<Napi::External<std::shared_ptr<SlideState>>>().Data();
    state_ = *holder;
  }

  // Garbage collection closes the handle (after in-flight reads finish) even without close().
  ~Slide() override {
    if (state_) state_->Close();
  }

  std::shared_ptr<SlideState> state() const { return state_; }

 private:
  Napi::Value ReadRegion(const Napi::CallbackInfo& info);
  Napi::Value ReadAssociated(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info) {
    state_->Close();
    return info.Env().Undefined();
  }
  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), state_->closed()); }
  Napi::Value DirectTileReads(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(state_->DirectTileReads()));
  }

  std::shared_ptr<SlideState> state_;
};

Napi::FunctionReference* Slide::constructor = nullptr;

class OpenWorker : public Napi::AsyncWorker {
 public:
  OpenWorker(Napi::Env env, std::string path, bool direct_tiles)
      : Napi::AsyncWorker(env),
        path_(std::move(path)),
        direct_tiles_(direct_tiles),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    const char* vendor = openslide_detect_vendor(path_.c_str());
    openslide_t* osr = openslide_open(path_.c_str());
    if (osr == nullptr) {
      if (vendor != nullptr) {
        code_ = "CORRUPT";
        SetError("OpenSlide recognises " + path_ + " as a " + vendor + " slide but cannot open it (corrupt or truncated)");
      } else {
        code_ = "UNSUPPORTED";
        SetError("OpenSlide does not recognise " + path_ + " (an unsupported format, or a damaged file)");
      }
      return;
    }
    const char* err = openslide_get_error(osr);
    if (err != nullptr) {
      std::string message = err;
      openslide_close(osr);
      code_ = "CORRUPT";
      SetError("OpenSlide cannot read " + path_ + ": " + message);
      return;
    }
    meta_.vendor = vendor != nullptr ? vendor : "";
    for (const char* const* name = openslide_get_property_names(osr); *name != nullptr; ++name) {
      const char* value = openslide_get_property_value(osr, *name);
      meta_.properties.emplace_back(*name, value != nullptr ? value : "");
    }
    const int32_t count = openslide_get_level_count(osr);
    for (int32_t level = 0; level < count; ++level) {
      LevelInfo l{};
      openslide_get_level_dimensions(osr, level, &l.width, &l.height);
      l.downsample = openslide_get_level_downsample(osr, level);
      meta_.levels.push_back(l);
    }
    for (const char* const* name = openslide_get_associated_image_names(osr); *name != nullptr; ++name) {
      int64_t w = 0, h = 0;
      openslide_get_associated_image_dimensions(osr, *name, &w, &h);
      meta_.associated.push_back({*name, {w, h}});
    }
    err = openslide_get_error(osr);
    if (count < 1 || err != nullptr) {
      std::string message = err != nullptr ? err : "no pyramid levels";
      openslide_close(osr);
      code_ = "CORRUPT";
      SetError("OpenSlide cannot read " + path_ + ": " + message);
      return;
    }
    state_ = std::make_shared<SlideState>(osr, direct_tiles_ ? h2g::TiffTiles::Open(path_, vendor, osr) : nullptr);
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    auto holder = std::make_unique<std::shared_ptr<SlideState>>(state_);
    Napi::External<std::shared_ptr<SlideState>> ext = Napi::External<std::shared_ptr<SlideState>>::New(env, holder.get());
    result.Set("slide", Slide::constructor->New({ext}));
    result.Set("vendor", meta_.vendor.empty() ? env.Null() : Napi::String::New(env, meta_.vendor));
    Napi::Object props = Napi::Object::New(env);
    for (const auto& p : meta_.properties) props.Set(p.first, p.second);
    result.Set("properties", props);
    Napi::Array levels = Napi::Array::New(env, meta_.levels.size());
    for (size_t i = 0; i < meta_.levels.size(); ++i) {
      Napi::Object l = Napi::Object::New(env);
      l.Set("width", Napi::Number::New(env, static_cast<double>(meta_.levels[i].width)));
      l.Set("height", Napi::Number::New(env, static_cast<double>(meta_.levels[i].height)));
      l.Set("downsample", Napi::Number::New(env, meta_.levels[i].downsample));
      levels.Set(i, l);
    }
    result.Set("levels", levels);
    Napi::Object assoc = Napi::Object::New(env);
    for (const auto& a : meta_.associated) {
      Napi::Object dims = Napi::Object::New(env);
      dims.Set("width", Napi::Number::New(env, static_cast<double>(a.second.first)));
      dims.Set("height", Napi::Number::New(env, static_cast<double>(a.second.second)));
      assoc.Set(a.first, dims);
    }
    result.Set("associatedImages", assoc);
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& e) override {
    deferred_.Reject(CodedError(Env(), code_, e.Message()).Value());
  }

 private:
  std::string path_;
  bool direct_tiles_;
  Napi::Promise::Deferred deferred_;
  std::string code_ = "READ_FAILED";
  SlideMetadata meta_;
  std::shared_ptr<SlideState> state_;
};

bool IsInteger(const Napi::Value& v) {
  if (!v.IsNumber()) return false;
  const double d = v.As<Napi::Number>().DoubleValue();
  return d == static_cast<double>(static_cast<int64_t>(d));
}

Napi::Value RejectWith(Napi::Env env, const std::string& code, const std::string& message) {
  auto deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(CodedError(env, code, message).Value());
  return deferred.Promise();
}

// readRegion(x, y, level, width, height) resolves to {width, height, data: Buffer of RGB bytes};
// readRegion(x, y, level, width, height, target, offset) writes byte / 255 floats into the
// Float32Array target from element offset on and resolves to undefined;
// readRegion(x, y, level, width, height, target, offset, sampling) writes the region sampled
// bilinearly instead: sampling is a Float64Array [size, scale, originU, originV, u0, v0, maxU, maxV]
// (h2g::Sampling), and size * size * 3 floats are written.
Napi::Value Slide::ReadRegion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t argc = info.Length();
  if (argc != 5 && argc != 7 && argc != 8) {
    return RejectWith(env, "INVALID_ARGUMENT", "readRegion(x, y, level, width, height[, target, offset[, sampling]])");
  }
  for (size_t i = 0; i < 5; ++i) {
    if (!IsInteger(info[i])) return RejectWith(env, "INVALID_ARGUMENT", "region coordinates must be integers");
  }
  const int64_t x = info[0].As<Napi::Number>().Int64Value();
  const int64_t y = info[1].As<Napi::Number>().Int64Value();
  const int64_t level = info[2].As<Napi::Number>().Int64Value();
  const int64_t w = info[3].As<Napi::Number>().Int64Value();
  const int64_t h = info[4].As<Napi::Number>().Int64Value();
  if (w <= 0 || h <= 0 || w > kMaxRegionPixels || h > kMaxRegionPixels || w * h > kMaxRegionPixels) {
    return RejectWith(env, "INVALID_ARGUMENT",
                      "region size " + std::to_string(w) + "x" + std::to_string(h) +
                          " is not allowed (each side > 0, at most " + std::to_string(kMaxRegionPixels) +
                          " pixels)");
  }
  if (level < 0 || level > INT32_MAX) return RejectWith(env, "INVALID_ARGUMENT", "level out of range");
  Napi::Float32Array target;
  size_t offset = 0;
  h2g::Sampling sampling{};
  if (argc == 8) {
    const bool f64 = info[7].IsTypedArray() && info[7].As<Napi::TypedArray>().TypedArrayType() == napi_float64_array;
    if (!f64 || info[7].As<Napi::Float64Array>().ElementLength() != 8) {
      return RejectWith(env, "INVALID_ARGUMENT", "sampling must be a Float64Array of 8 numbers");
    }
    const double* v = info[7].As<Napi::Float64Array>().Data();
    sampling = {static_cast<int64_t>(v[0]), v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
    const bool inside = v[6] >= 0 && v[7] >= 0 && v[6] <= static_cast<double>(w - 1) && v[7] <= static_cast<double>(h - 1);
    if (!(v[0] >= 1 && v[0] <= 65536 && v[0] == std::floor(v[0])) || !(v[1] > 0) || !inside) {
      return RejectWith(env, "INVALID_ARGUMENT", "sampling: size must be a whole number >= 1, scale > 0, max inside the region");
    }
  }
  const int64_t out_pixels = argc == 8 ? sampling.size * sampling.size : w * h;
  if (argc >= 7) {
    if (!info[5].IsTypedArray() || info[5].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      return RejectWith(env, "INVALID_ARGUMENT", "target must be a Float32Array");
    }
    target = info[5].As<Napi::Float32Array>();
    const double off = info[6].IsNumber() ? info[6].As<Napi::Number>().DoubleValue() : -1;
    if (!IsInteger(info[6]) || off < 0 || off + static_cast<double>(out_pixels * 3) > static_cast<double>(target.ElementLength())) {
      return RejectWith(env, "INVALID_ARGUMENT",
                        "target offset must be an integer with room for the region's floats after it");
    }
    offset = static_cast<size_t>(off);
  }
  openslide_t* osr = state_->Acquire();
  if (osr == nullptr) return RejectWith(env, "CLOSED", "the slide is closed");
  auto* worker = new RegionWorker(env, state_, osr, x, y, static_cast<int32_t>(level), w, h);
  if (argc >= 7) worker->SetTarget(target, offset);
  if (argc == 8) worker->SetSampling(sampling);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value Slide::ReadAssociated(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) {
    return RejectWith(env, "INVALID_ARGUMENT", "readAssociatedImage(name)");
  }
  openslide_t* osr = state_->Acquire();
  if (osr == nullptr) return RejectWith(env, "CLOSED", "the slide is closed");
  auto* worker = new AssociatedWorker(env, state_, osr, info[0].As<Napi::String>().Utf8Value());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // open(path[, directTiles = true]): directTiles false reads every pixel through OpenSlide.
  const bool bad_flag = info.Length() == 2 && !info[1].IsBoolean();
  if (info.Length() < 1 || info.Length() > 2 || !info[0].IsString() || bad_flag) {
    return RejectWith(env, "INVALID_ARGUMENT", "open(path[, directTiles])");
  }
  const bool direct_tiles = info.Length() == 1 || info[1].As<Napi::Boolean>().Value();
  auto* worker = new OpenWorker(env, info[0].As<Napi::String>().Utf8Value(), direct_tiles);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), openslide_get_version());
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeSlide", Slide::Init(env));
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("version", Napi::Function::New(env, Version));
  return exports;
}

}  // namespace

NODE_API_MODULE(openslide_binding, InitModule)
