# Thin front door over ops/ and CMake; the real work is in ops/setup and ctest.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all setup demo test test-unit test-asan bench clean stop

all setup:
	ops/setup

demo:
	ops/demo

stop:
	ops/demo stop

# The whole suite: unit tests, then integration tests (real redis-server, corrald, QEMU).
test: setup
	ops/test $(BUILD)

test-unit:
	cmake --build $(BUILD) -j$(JOBS) && cd $(BUILD) && ctest -L unit --output-on-failure

# Same suite on an ASan/UBSan build in build-asan/.
test-asan:
	CORRAL_SANITIZE=1 CORRAL_BUILD_DIR=$(CURDIR)/build-asan ops/setup
	ops/test build-asan

bench: setup
	ops/bench/run

clean:
	rm -rf $(BUILD) build-asan
