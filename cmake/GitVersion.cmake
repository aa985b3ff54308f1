# Records the project version and the git commit the binary is built from (see fer --version).
# The commit is read at every build, not only at configure time: cmake/WriteVersion.cmake
# rewrites generated/version.cpp only when `git describe` changed, so an unchanged commit
# recompiles nothing.
find_package(Git QUIET)
set(FER_VERSION_CPP ${CMAKE_CURRENT_BINARY_DIR}/generated/version.cpp)
set(FER_VERSION_ARGS
  -DFER_SOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}
  -DFER_VERSION_IN=${CMAKE_CURRENT_SOURCE_DIR}/cmake/version.cpp.in
  -DFER_VERSION_OUT=${FER_VERSION_CPP}
  -DPROJECT_VERSION=${PROJECT_VERSION}
  -DGIT_EXECUTABLE=${GIT_EXECUTABLE})
# Once now, so the file exists for the first build's dependency scan.
execute_process(COMMAND ${CMAKE_COMMAND} ${FER_VERSION_ARGS} -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/WriteVersion.cmake)
add_custom_target(fer_version
  COMMAND ${CMAKE_COMMAND} ${FER_VERSION_ARGS} -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/WriteVersion.cmake
  BYPRODUCTS ${FER_VERSION_CPP}
  COMMENT "Reading the git commit"
  VERBATIM)
