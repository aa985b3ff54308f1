# `cmake --install BUILD [--prefix P]` installs what a program needs to link fer:
#   include/fer/...                 the public headers (include/fer in the source tree)
#   lib/libfer_core.a, libfer_face.a, libfer_torch.a
#   lib/cmake/fer/ferConfig.cmake   find_package(fer) -> fer::core (torch-free: config, data,
#                                   augment, eval), fer::face (detection, alignment; dlib),
#                                   fer::fer (models, training, inference; LibTorch)
#   bin/fer                         the command-line tool
# `find_package(fer COMPONENTS core)` (or face) does not look for LibTorch. examples/classify is a
# program built this way; tests/e2e/install_test.sh installs into a temporary prefix and builds it.
include(CMakePackageConfigHelpers)

set(FER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/fer)
set_target_properties(fer_core PROPERTIES EXPORT_NAME core)
set_target_properties(fer_face PROPERTIES EXPORT_NAME face)
set_target_properties(fer_options PROPERTIES EXPORT_NAME options)

install(DIRECTORY include/fer DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# fer_options carries the warning flags: linked PRIVATE, but a static library's private links are
# part of its export.
install(TARGETS fer_options fer_core fer_face EXPORT ferCoreTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT ferCoreTargets NAMESPACE fer:: DESTINATION ${FER_CMAKE_DIR})

set(FER_WITH_TORCH OFF)
if(TARGET fer_torch)
  set(FER_WITH_TORCH ON)
  set_target_properties(fer_torch PROPERTIES EXPORT_NAME fer)
  install(TARGETS fer_torch EXPORT ferTorchTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(TARGETS fer RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(EXPORT ferTorchTargets NAMESPACE fer:: DESTINATION ${FER_CMAKE_DIR})
  if(FER_FMT_SHIM_DIR)  # the PyPI LibTorch: see cmake/TorchCompat.cmake
    install(DIRECTORY ${FER_FMT_SHIM_DIR}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fer_fmt_shim)
  endif()
endif()

configure_package_config_file(cmake/ferConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/ferConfig.cmake
  INSTALL_DESTINATION ${FER_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/ferConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ferConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/ferConfigVersion.cmake
        DESTINATION ${FER_CMAKE_DIR})
