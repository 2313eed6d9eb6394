# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
include("/work/main/build/tests/cli_test_include-b12d07c.cmake")
include("/work/main/build/tests/golden_test_include-b12d07c.cmake")
