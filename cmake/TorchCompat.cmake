# Builds against the LibTorch in the PyPI `torch` wheel (2.x) as well as Debian's 1.13.
#
# The wheel's include folder carries its own {fmt} (12.x) next to ATen and c10. Debian's spdlog is
# built against Debian's {fmt} (9.x), and every fer source that logs includes <fmt/...>: with the
# wheel's folder first on the include path, spdlog would meet the wrong {fmt} and not compile.
# fer_torch_fmt_shim(TARGET) puts a folder holding only a link to Debian's fmt/ ahead of
# LibTorch's (as -I, which comes before LibTorch's -isystem), for TARGET and what links it.
# LibTorch's public headers that fer includes (torch/torch.h) do not use {fmt}.
function(fer_torch_fmt_shim target)
  set(wheel_fmt "")
  foreach(dir ${TORCH_INCLUDE_DIRS})
    if(EXISTS "${dir}/fmt/format.h")
      set(wheel_fmt "${dir}/fmt")
    endif()
  endforeach()
  find_path(FER_SYSTEM_FMT_DIR fmt/format.h PATHS /usr/include NO_DEFAULT_PATH REQUIRED)
  if(NOT wheel_fmt OR wheel_fmt STREQUAL "${FER_SYSTEM_FMT_DIR}/fmt")  # Debian's LibTorch: /usr/include
    return()
  endif()
  set(shim "${CMAKE_BINARY_DIR}/fmt_shim")
  file(MAKE_DIRECTORY "${shim}")
  file(CREATE_LINK "${FER_SYSTEM_FMT_DIR}/fmt" "${shim}/fmt" SYMBOLIC)
  # Installed too (cmake/Install.cmake): a program built against the installed fer::fer needs it.
  target_include_directories(${target} BEFORE PUBLIC
    "$<BUILD_INTERFACE:${shim}>" "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/fer_fmt_shim>")
  set(FER_FMT_SHIM_DIR "${shim}" PARENT_SCOPE)
  message(STATUS "fer: LibTorch ships {fmt} (${wheel_fmt}); fer uses ${FER_SYSTEM_FMT_DIR}/fmt through ${shim}")
endfunction()

# The wheel's libtorch.so also exports its own copy of parts of libstdc++ (std::filesystem among
# them, linked in statically by the manylinux toolchain). In an executable that lists libtorch.so
# before libstdc++.so.6, the dynamic linker binds fer's std::filesystem calls to that copy, and
# std::filesystem::remove_all crashed (a jump to address 0). fer_libstdcxx_first(TARGET) makes
# everything that links TARGET name libstdc++ first, so the C++ library's own definitions win.
# Harmless with Debian's LibTorch, which exports no such copy.
function(fer_libstdcxx_first target)
  target_link_options(${target} INTERFACE "LINKER:--push-state,--no-as-needed" "-lstdc++" "LINKER:--pop-state")
endfunction()
