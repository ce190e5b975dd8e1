# Included by the top-level CMakeLists.txt when N8N_FLEET_FUZZ is ON, before any library is
# defined: every library is built with libFuzzer's coverage and with ASan + UBSan, so the
# sanitizers check the product code the targets reach, not only the targets.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "N8N_FLEET_FUZZ needs clang (libFuzzer): configure a separate build "
                      "directory with CC=clang CXX=clang++, or use scripts/fuzz.sh")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                    -fno-sanitize-recover=all)
add_link_options(-fsanitize=address,undefined)
