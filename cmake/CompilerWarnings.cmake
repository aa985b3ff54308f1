# Warnings on an interface target, so third-party headers are not affected.
function(fer_set_warnings target)
  set(warnings -Wall -Wextra -Wshadow=local -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual)
  if(FER_WARNINGS_AS_ERRORS)
    list(APPEND warnings -Werror)
  endif()
  target_compile_options(${target} INTERFACE $<$<COMPILE_LANGUAGE:CXX>:${warnings}>)
endfunction()
