# `cmake --install build --prefix P`: the chimera program (bin/), the engine library and its
# public headers (lib/, include/chimera/), a CMake package so that another project's
#   find_package(Chimera REQUIRED)  +  target_link_libraries(app PRIVATE Chimera::engine)
# builds against it, and (cmake/python.cmake) the Python module in lib/python3.X/dist-packages,
# where Debian's Python finds it for the default prefix /usr/local.
#
# Public headers: the engine, model and train layers (tensors, autograd, ops, kernels, file
# formats, quantizers, layers, models, optimizers, data, trainers), which is what a program
# using the engine builds on; not the harness (the program's commands, experiments and logs)
# and not the kernels' per-ISA internals (micro-kernel tables, SIMD helpers).
include(CMakePackageConfigHelpers)

set_target_properties(chimera PROPERTIES INSTALL_RPATH "$ORIGIN/../lib" INSTALL_RPATH_USE_LINK_PATH ON)
install(TARGETS chimera RUNTIME DESTINATION bin)
install(TARGETS chimera_runtime_env LIBRARY DESTINATION lib)
install(TARGETS chimera_engine EXPORT ChimeraTargets ARCHIVE DESTINATION lib
        INCLUDES DESTINATION include/chimera)
install(DIRECTORY src/engine src/model src/train DESTINATION include/chimera
        FILES_MATCHING PATTERN "*.h"
        PATTERN "*_ukernels.h" EXCLUDE PATTERN "simd_*.h" EXCLUDE PATTERN "*_avx512.h" EXCLUDE
        PATTERN "conv2d_tap_rows_pack.h" EXCLUDE)
install(EXPORT ChimeraTargets NAMESPACE Chimera:: DESTINATION lib/cmake/Chimera)
configure_package_config_file(cmake/ChimeraConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/ChimeraConfig.cmake
                              INSTALL_DESTINATION lib/cmake/Chimera)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/ChimeraConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/ChimeraConfig.cmake ${CMAKE_BINARY_DIR}/ChimeraConfigVersion.cmake
        DESTINATION lib/cmake/Chimera)

# The installed package, tried as a user would: install into a fresh prefix, build the consumer
# project (tests/install/consumer) against it with find_package, run it, and run the installed
# program and Python module.
if(NOT CHIMERA_SANITIZE AND NOT CHIMERA_LIBFUZZER)
  add_test(NAME install.ConsumerProjectBuildsAgainstTheInstalledPackage
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/install/test_install.sh ${CMAKE_BINARY_DIR}
                   ${CMAKE_SOURCE_DIR}/tests/install/consumer)
  set_tests_properties(install.ConsumerProjectBuildsAgainstTheInstalledPackage PROPERTIES
    ENVIRONMENT "CHIMERA_DEFAULT_GOLDEN_DIR=${CHIMERA_GOLDEN_DIR};PYTHON=${Python3_EXECUTABLE}")
endif()
