# alx_add_module(<name> [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# One static library per module: alx_<name>, alias alx::<name>, sources in
# <module>/src/*.cpp, public headers in <module>/include/alx/<name>/.
function(alx_add_module name)
  cmake_parse_arguments(ARG "" "" "PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp)
  set(target alx_${name})
  if(NOT sources)  # a module still being written: keep the build configurable
    file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/alx_${name}_empty.cpp "// ${name} has no sources yet\n")
    set(sources ${CMAKE_CURRENT_BINARY_DIR}/alx_${name}_empty.cpp)
  endif()
  add_library(${target} STATIC ${sources})
  add_library(alx::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  target_include_directories(${target} PUBLIC
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_compile_features(${target} PUBLIC cxx_std_17)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  alx_warnings(${target})
  install(TARGETS ${target} EXPORT alxTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/include)
    install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  endif()
endfunction()
