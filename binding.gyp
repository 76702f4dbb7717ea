{
  # CPU-only fallback build for machines without CMake. Same sources as CMakeLists.txt
  # (read from native/sources.txt), CUDA excluded.
  "targets": [
    {
      "target_name": "radlearn",
      "sources": ["<!@(node scripts/list-sources.cjs)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/include",
        "native/src"
      ],
      # RADLEARN_*_TEXT: the build facts buildInfo() reports (native/src/bindings/build_info.cc).
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS",
                  "RADLEARN_VERSION_TEXT=\"<(radlearn_version)\"", "RADLEARN_BUILDER_TEXT=\"node-gyp\""],
      # RADLEARN_WERROR=1 in the environment at build time: warnings are errors (as in CMakeLists.txt).
      "variables": {
        "radlearn_werror%": "<!(node -p \"process.env.RADLEARN_WERROR === '1' ? 1 : 0\")",
        "radlearn_version%": "<!(node -p \"require('./package.json').version\")"
      },
      # Node's common.gypi adds -Wno-unused-parameter; our code is checked with it on, as in CMake.
      # -Werror goes in cflags_cc because common.gypi strips it from cflags.
      "cflags!": ["-fno-exceptions", "-Wno-unused-parameter"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-Wall", "-Wextra", "-Wpedantic"],
      "conditions": [
        ["OS=='linux' or OS=='mac'", { "cflags_cc": ["-march=native"], "defines": ["RADLEARN_FLAGS_TEXT=\"Release -O3 -march=native\""] }],
        # -Wno-psabi: see CMakeLists.txt (GCC's note on cpu/vexp.h's 64-byte vectors without AVX-512).
        ["OS=='linux'", { "libraries": ["-lpthread", "-ldl"], "cflags_cc": ["-Wno-psabi"] }],
        ["OS=='mac'", { "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES", "CLANG_CXX_LANGUAGE_STANDARD": "c++17", "OTHER_CPLUSPLUSFLAGS": ["-O3"], "WARNING_CFLAGS!": ["-Wno-unused-parameter"], "WARNING_CFLAGS": ["-Wall", "-Wextra", "-Wpedantic"] } }],
        ["radlearn_werror==1 and OS!='win'", { "cflags_cc": ["-Werror"], "xcode_settings": { "GCC_TREAT_WARNINGS_AS_ERRORS": "YES" } }],
        ["OS=='win'", { "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/O2"] } } }]
      ]
    }
  ]
}
