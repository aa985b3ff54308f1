# Script mode (cmake -P): writes FER_VERSION_OUT from FER_VERSION_IN with PROJECT_VERSION and
# the git commit of FER_SOURCE_DIR; configure_file leaves the file untouched when nothing changed.
set(FER_GIT_COMMIT "unknown")
if(GIT_EXECUTABLE AND EXISTS ${FER_SOURCE_DIR}/.git)
  execute_process(COMMAND ${GIT_EXECUTABLE} describe --always --dirty --abbrev=12
    WORKING_DIRECTORY ${FER_SOURCE_DIR}
    OUTPUT_VARIABLE FER_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT FER_GIT_COMMIT)
    set(FER_GIT_COMMIT "unknown")
  endif()
endif()
configure_file(${FER_VERSION_IN} ${FER_VERSION_OUT} @ONLY)
