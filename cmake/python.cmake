# The Python module `chimera` (src/harness/python/ bound with pybind11, python/chimera/ the
# package around it), built into build/python/chimera so that PYTHONPATH=build/python imports
# it, installed beside Debian's Python, and its pytest suite (tests/python/) run by ctest.
# Not in the sanitizer and fuzzing builds: an instrumented module needs the sanitizer runtime
# preloaded into the interpreter.
if(CHIMERA_SANITIZE OR CHIMERA_LIBFUZZER)
  return()
endif()
# Debian's interpreter, the one apt's python3-numpy and python3-torch belong to, rather than
# whichever python3 comes first on PATH.
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3)
endif()
find_package(Python3 COMPONENTS Interpreter Development.Module)
find_package(pybind11 CONFIG QUIET)
if(NOT Python3_FOUND OR NOT pybind11_FOUND)
  message(STATUS "Python module off: needs python3-dev and pybind11-dev (scripts/setup.sh installs them)")
  return()
endif()

file(GLOB CHIMERA_PYTHON_SOURCES CONFIGURE_DEPENDS src/harness/python/*.cpp)
pybind11_add_module(chimera_python MODULE ${CHIMERA_PYTHON_SOURCES} src/harness/cli/ranks.cpp
                    $<TARGET_OBJECTS:chimera_commands>)
set(CHIMERA_PYTHON_DIR ${CMAKE_BINARY_DIR}/python)
set_target_properties(chimera_python PROPERTIES
  OUTPUT_NAME _chimera
  LIBRARY_OUTPUT_DIRECTORY ${CHIMERA_PYTHON_DIR}/chimera
  # installed in <prefix>/lib/python3.X/dist-packages/chimera: the runtime_env library is in
  # <prefix>/lib, OpenBLAS's OpenMP build where it was found
  INSTALL_RPATH "$ORIGIN/../../.."
  INSTALL_RPATH_USE_LINK_PATH ON)
target_compile_options(chimera_python PRIVATE ${CHIMERA_COMMON_FLAGS})
# As the program: the runtime_env library last, so its settings precede libgomp's start-up
# (when the interpreter has not loaded libgomp already).
target_link_libraries(chimera_python PRIVATE chimera_engine gomp -Wl,--no-as-needed
                      chimera_runtime_env -Wl,--as-needed)

# The package's Python files next to the module, refreshed on every build.
file(GLOB CHIMERA_PYTHON_FILES CONFIGURE_DEPENDS python/chimera/*.py)
set(copied)
foreach(py ${CHIMERA_PYTHON_FILES})
  get_filename_component(name ${py} NAME)
  add_custom_command(OUTPUT ${CHIMERA_PYTHON_DIR}/chimera/${name}
                     COMMAND ${CMAKE_COMMAND} -E copy_if_different ${py} ${CHIMERA_PYTHON_DIR}/chimera/${name}
                     DEPENDS ${py})
  list(APPEND copied ${CHIMERA_PYTHON_DIR}/chimera/${name})
endforeach()
add_custom_target(chimera_python_files ALL DEPENDS ${copied})
add_dependencies(chimera_python chimera_python_files)

set(CHIMERA_PYTHON_INSTALL_DIR
    lib/python${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}/dist-packages/chimera)
install(TARGETS chimera_python LIBRARY DESTINATION ${CHIMERA_PYTHON_INSTALL_DIR})
install(FILES ${CHIMERA_PYTHON_FILES} DESTINATION ${CHIMERA_PYTHON_INSTALL_DIR})

# One ctest per tests/python/test_*.py, run by Debian's pytest against the build tree.
file(GLOB CHIMERA_PYTEST_FILES CONFIGURE_DEPENDS tests/python/test_*.py)
foreach(py ${CHIMERA_PYTEST_FILES})
  get_filename_component(name ${py} NAME_WE)
  add_test(NAME python.${name}
           COMMAND ${Python3_EXECUTABLE} -m pytest -q -p no:cacheprovider ${py})
  set_tests_properties(python.${name} PROPERTIES ENVIRONMENT
    "PYTHONPATH=${CHIMERA_PYTHON_DIR};CHIMERA_BINARY=$<TARGET_FILE:chimera>;CHIMERA_DEFAULT_GOLDEN_DIR=${CHIMERA_GOLDEN_DIR};CHIMERA_SOURCE_DIR=${CMAKE_SOURCE_DIR};OMP_WAIT_POLICY=passive")
endforeach()

# The README's Python example stays runnable: a few steps of it.
add_test(NAME python.example_quickstart
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/examples/quickstart.py --max-batches 3
                 --out ${CMAKE_BINARY_DIR}/example_quickstart)
set_tests_properties(python.example_quickstart PROPERTIES ENVIRONMENT
  "PYTHONPATH=${CHIMERA_PYTHON_DIR};OMP_WAIT_POLICY=passive")
