# Every external dependency of the libraries, found the same way when alx is
# built and when an installed alx is used through find_package(alx).
# All of them come from Debian 12 packages (see scripts/install-deps.sh).
include(CMakeFindDependencyMacro)

find_dependency(Threads)
find_dependency(ZLIB)
find_dependency(fmt)
find_dependency(spdlog)
find_dependency(yaml-cpp)
find_dependency(OpenCV COMPONENTS core imgproc imgcodecs)
# FindHDF5 probes with a C compiler.
get_property(_alx_languages GLOBAL PROPERTY ENABLED_LANGUAGES)
if(NOT "C" IN_LIST _alx_languages)
  enable_language(C)
endif()
find_dependency(HDF5 COMPONENTS C CXX)
find_dependency(nlohmann_json)
find_dependency(pugixml)
find_dependency(Eigen3)
find_dependency(Torch)

# at::parallel_for is a header template. With LibTorch's OpenMP backend (Debian's) it runs in
# parallel only where the calling code is compiled with -fopenmp; without it every alx loop
# written with at::parallel_for silently runs on one thread. So whoever uses torch gets OpenMP.
foreach(_alx_dir IN LISTS TORCH_INCLUDE_DIRS)
  if(EXISTS "${_alx_dir}/ATen/Config.h")
    file(STRINGS "${_alx_dir}/ATen/Config.h" _alx_aten_openmp REGEX "^#define AT_PARALLEL_OPENMP 1")
    break()
  endif()
endforeach()
if(_alx_aten_openmp AND TARGET torch)
  find_dependency(OpenMP COMPONENTS CXX)
  get_target_property(_alx_torch_links torch INTERFACE_LINK_LIBRARIES)
  if(NOT "OpenMP::OpenMP_CXX" IN_LIST _alx_torch_links)
    set_property(TARGET torch APPEND PROPERTY INTERFACE_LINK_LIBRARIES OpenMP::OpenMP_CXX)
  endif()
endif()

# Debian's yaml-cpp 0.7 exports the plain target name `yaml-cpp`.
if(TARGET yaml-cpp AND NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp INTERFACE IMPORTED)
  set_target_properties(yaml-cpp::yaml-cpp PROPERTIES INTERFACE_LINK_LIBRARIES yaml-cpp)
endif()
# OpenCV exports plain library names; gather the ones alx uses under one target.
if(NOT TARGET alx_opencv)
  add_library(alx_opencv INTERFACE IMPORTED)
  set_target_properties(alx_opencv PROPERTIES
      INTERFACE_LINK_LIBRARIES "opencv_core;opencv_imgproc;opencv_imgcodecs"
      INTERFACE_INCLUDE_DIRECTORIES "${OpenCV_INCLUDE_DIRS}")
endif()
