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
