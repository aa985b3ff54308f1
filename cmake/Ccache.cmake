# Use ccache when it is installed: rebuilding the torch translation units is the slow part.
find_program(FER_CCACHE ccache)
if(FER_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${FER_CCACHE})
  message(STATUS "fer: using ccache (${FER_CCACHE})")
endif()
