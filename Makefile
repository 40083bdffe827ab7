# Kiln: two commands on a fresh Debian 12 machine: `make demo` and `make test`.
BUILD_DIR ?= build
RELEASE_DIR ?= build-release
JOBS ?= $(shell nproc)

.PHONY: all deps configure build release test demo bench format clean

all: build

deps:
	@scripts/install-deps

# The test build: ASan + UBSan, every test through CTest.
configure: deps
	@test -f $(BUILD_DIR)/build.ninja || cmake -S . -B $(BUILD_DIR) -G Ninja \
	  -DCMAKE_BUILD_TYPE=Debug -DKILN_SANITIZE=ON

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The optimised binary used by the demo and the benchmarks.
release: deps
	@test -f $(RELEASE_DIR)/build.ninja || cmake -S . -B $(RELEASE_DIR) -G Ninja \
	  -DCMAKE_BUILD_TYPE=Release -DKILN_TESTS=OFF
	cmake --build $(RELEASE_DIR) -j $(JOBS) --target kiln

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

demo: release
	scripts/demo $(RELEASE_DIR)/src/kiln

bench: release
	bench/run-all $(RELEASE_DIR)/src/kiln

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h')

clean:
	rm -rf $(BUILD_DIR) $(RELEASE_DIR)
