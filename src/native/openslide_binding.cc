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

#include "batch_worker.h"
#include "geometry_check.h"
#include "pixel_workers.h"
#include "slide_state.h"

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
using h2g::RegionProblem;
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
                                        InstanceMethod("readRegions", &Slide::ReadRegions),
                                        InstanceMethod("readAssociatedImage", &Slide::ReadAssociated),
                                        InstanceMethod("close", &Slide::Close),
                                        InstanceAccessor("closed", &Slide::Closed, nullptr),
                                        InstanceAccessor("directTileReads", &Slide::DirectTileReads, nullptr),
                                        InstanceAccessor("tileCacheHits", &Slide::TileCacheHits, nullptr),
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
  Napi::Value ReadRegions(const Napi::CallbackInfo& info);
  Napi::Value ReadAssociated(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info) {
    state_->Close();
    return info.Env().Undefined();
  }
  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), state_->closed()); }
  Napi::Value DirectTileReads(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(state_->DirectTileReads()));
  }
  Napi::Value TileCacheHits(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(state_->TileCacheHits()));
  }

  std::shared_ptr<SlideState> state_;
};

Napi::FunctionReference* Slide::constructor = nullptr;

class OpenWorker : public Napi::AsyncWorker {
 public:
  OpenWorker(Napi::Env env, std::string path, bool direct_tiles, h2g::GeometryBounds bounds)
      : Napi::AsyncWorker(env),
        path_(std::move(path)),
        direct_tiles_(direct_tiles),
        bounds_(bounds),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    // Before OpenSlide sees the file: its tile and image sizes decide what OpenSlide allocates.
    const std::string bad = h2g::CheckTiffDirectories(path_, bounds_);
    if (!bad.empty()) return Refuse(bad);
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
    const std::string bad_levels = h2g::CheckLevels(osr, bounds_);
    if (!bad_levels.empty()) {
      openslide_close(osr);
      return Refuse(bad_levels);
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
  void Refuse(const std::string& why) {
    code_ = "CORRUPT";
    SetError("the geometry of " + path_ + " is outside what this tool reads (damaged file?): " + why);
  }

  std::string path_;
  bool direct_tiles_;
  h2g::GeometryBounds bounds_;
  Napi::Promise::Deferred deferred_;
  std::string code_ = "READ_FAILED";
  SlideMetadata meta_;
  std::shared_ptr<SlideState> state_;
};

bool IsInteger(const Napi::Value& v) { return v.IsNumber() && h2g::IsWhole(v.As<Napi::Number>().DoubleValue()); }

Napi::Value RejectWith(Napi::Env env, const std::string& code, const std::string& message) {
  auto deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(CodedError(env, code, message).Value());
  return deferred.Promise();
}

// readRegion(x, y, level, width, height) resolves to {width, height, data: Buffer of RGB bytes}.
Napi::Value Slide::ReadRegion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 5) return RejectWith(env, "INVALID_ARGUMENT", "readRegion(x, y, level, width, height)");
  for (size_t i = 0; i < 5; ++i) {
    if (!IsInteger(info[i])) return RejectWith(env, "INVALID_ARGUMENT", "region coordinates must be integers");
  }
  const int64_t x = info[0].As<Napi::Number>().Int64Value();
  const int64_t y = info[1].As<Napi::Number>().Int64Value();
  const int64_t level = info[2].As<Napi::Number>().Int64Value();
  const int64_t w = info[3].As<Napi::Number>().Int64Value();
  const int64_t h = info[4].As<Napi::Number>().Int64Value();
  const std::string problem = RegionProblem(w, h, level);
  if (!problem.empty()) return RejectWith(env, "INVALID_ARGUMENT", problem);
  openslide_t* osr = state_->Acquire();
  if (osr == nullptr) return RejectWith(env, "CLOSED", "the slide is closed");
  auto* worker = new RegionWorker(env, state_, osr, x, y, static_cast<int32_t>(level), w, h);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// readRegions(packed, target): regions read one after another on one worker thread, each written as
// byte / 255 floats (or sampled bilinearly) into the Float32Array target; packed is a Float64Array of
// h2g::kRegionFields numbers per region (see batch_worker.h). Resolves to undefined.
Napi::Value Slide::ReadRegions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto is = [&](size_t i, napi_typedarray_type type) {
    return info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == type;
  };
  if (info.Length() != 2 || !is(0, napi_float64_array)) {
    return RejectWith(env, "INVALID_ARGUMENT", "readRegions(packed: Float64Array, target: Float32Array)");
  }
  if (!is(1, napi_float32_array)) return RejectWith(env, "INVALID_ARGUMENT", "target must be a Float32Array");
  const Napi::Float64Array packed = info[0].As<Napi::Float64Array>();
  const Napi::Float32Array target = info[1].As<Napi::Float32Array>();
  const size_t count = packed.ElementLength() / h2g::kRegionFields;
  if (count == 0 || packed.ElementLength() % h2g::kRegionFields != 0) {
    return RejectWith(env, "INVALID_ARGUMENT", "packed must hold whole regions, at least one");
  }
  std::vector<h2g::RegionInto> regions(count);
  for (size_t i = 0; i < count; ++i) {
    const std::string why = h2g::UnpackRegion(packed.Data() + i * h2g::kRegionFields, target.ElementLength(), &regions[i]);
    if (!why.empty()) return RejectWith(env, "INVALID_ARGUMENT", "region " + std::to_string(i) + ": " + why);
  }
  openslide_t* osr = state_->Acquire();
  if (osr == nullptr) return RejectWith(env, "CLOSED", "the slide is closed");
  auto* worker = new h2g::RegionsIntoWorker(env, state_, osr, std::move(regions), target);
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
  // open(path[, directTiles = true[, bounds]]): directTiles false reads every pixel through OpenSlide;
  // bounds {maxTileSide, maxLevelSide, maxLevels, maxAssociatedPixels} replace the defaults given.
  const bool bad_flag = info.Length() >= 2 && !info[1].IsBoolean();
  const bool bad_bounds = info.Length() == 3 && !info[2].IsObject();
  if (info.Length() < 1 || info.Length() > 3 || !info[0].IsString() || bad_flag || bad_bounds) {
    return RejectWith(env, "INVALID_ARGUMENT", "open(path[, directTiles[, bounds]])");
  }
  const bool direct_tiles = info.Length() == 1 || info[1].As<Napi::Boolean>().Value();
  h2g::GeometryBounds bounds;
  if (info.Length() == 3) {
    Napi::Object given = info[2].As<Napi::Object>();
    const std::pair<const char*, int64_t*> fields[] = {{"maxTileSide", &bounds.max_tile_side},
                                                       {"maxLevelSide", &bounds.max_level_side},
                                                       {"maxLevels", &bounds.max_levels},
                                                       {"maxAssociatedPixels", &bounds.max_associated_pixels}};
    for (const auto& f : fields) {
      Napi::Value v = given.Get(f.first);
      if (v.IsUndefined()) continue;
      if (!IsInteger(v) || v.As<Napi::Number>().DoubleValue() < 1 || v.As<Napi::Number>().DoubleValue() > 9e15) {
        return RejectWith(env, "INVALID_ARGUMENT", std::string("bounds.") + f.first + " must be a whole number >= 1");
      }
      *f.second = v.As<Napi::Number>().Int64Value();
    }
  }
  auto* worker = new OpenWorker(env, info[0].As<Napi::String>().Utf8Value(), direct_tiles, bounds);
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
