{
  "targets": [
    {
      "target_name": "openslide_binding",
      "sources": ["src/native/openslide_binding.cc"],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")", "<!@(pkg-config --cflags-only-I openslide libtiff-4 | sed 's/-I//g')"],
      "libraries": ["<!@(pkg-config --libs openslide libtiff-4)"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-ffp-contract=off"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
