{
  "targets": [
    {
      "target_name": "adex_emulator",
      "sources": ["addon.cc", "simulate.cc", "kernel.cc", "kernel_generic.cc", "kernel_avx2.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-ffp-contract=off", "-fno-math-errno"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/fp:precise"] } },
      "conditions": [
        ["target_arch=='x64' and OS!='win'", {
          "sources!": [],
          "dependencies": ["adex_emulator_avx2"],
          "sources/": [["exclude", "kernel_avx2\\.cc$"]]
        }]
      ]
    },
    {
      "target_name": "adex_emulator_avx2",
      "type": "static_library",
      "sources": ["kernel_avx2.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-mavx2", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"],
      "conditions": [["target_arch!='x64' or OS=='win'", { "type": "none", "sources": [] }]]
    }
  ]
}
