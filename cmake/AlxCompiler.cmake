# Compiler set-up shared by every target: ccache, warnings, sanitizers and one
# precompiled header for LibTorch (torch/torch.h costs ~15 s per translation unit).

find_program(ALX_CCACHE ccache)
if(ALX_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # pch_defines/time_macros: let ccache cache translation units that use the PCH.
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env
      CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime ${ALX_CCACHE})
endif()

# Warnings are set per target (PRIVATE), never globally, so that consumers keep theirs.
function(alx_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wno-unused-parameter)
endfunction()

if(ALX_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# alx_use_torch_pch(target): give a target the shared <torch/torch.h> precompiled header.
# Only translation units that need the full C++ frontend (nn, optim, jit) should use it;
# tensor math needs only <ATen/ATen.h> (~4 s instead of ~15 s).
function(alx_use_torch_pch target)
  if(NOT TARGET alx_torch_pch)
    message(FATAL_ERROR "alx_torch_pch is not defined yet")
  endif()
  # GCC rejects a PCH built with -fPIC in a -fPIE compile: executables compile their
  # objects with -fPIC as the PCH was (they still link as PIE, Debian's default).
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "EXECUTABLE")
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
    target_compile_options(${target} PRIVATE -fPIC)
  endif()
  target_precompile_headers(${target} REUSE_FROM alx_torch_pch)
endfunction()
