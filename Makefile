# Kiln: two commands on a fresh Debian 12 machine: `make demo` and `make test`.
BUILD_DIR ?= build
RELEASE_DIR ?= build-release
JOBS ?= $(shell nproc)
# ccache (installed by install-deps) makes rebuilds of an unchanged file free.
# Paths relative to the checkout, so another clone of the tree hits the same cache entries.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
LAUNCHER := $(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache,)

.PHONY: all deps configure build release test demo bench fuzz format clean

all: build

deps:
	@scripts/install-deps

# The test build: ASan + UBSan, every test through CTest.
configure: deps
	@test -f $(BUILD_DIR)/build.ninja || cmake -S . -B $(BUILD_DIR) -G Ninja \
	  -DCMAKE_BUILD_TYPE=Debug -DKILN_SANITIZE=ON $(LAUNCHER)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The optimised binary used by the demo and the benchmarks.
release: deps
	@test -f $(RELEASE_DIR)/build.ninja || cmake -S . -B $(RELEASE_DIR) -G Ninja \
	  -DCMAKE_BUILD_TYPE=Release -DKILN_TESTS=OFF $(LAUNCHER)
	cmake --build $(RELEASE_DIR) -j $(JOBS) --target kiln

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

demo: release
	scripts/demo $(RELEASE_DIR)/src/kiln

bench: release
	@scripts/install-bench-deps
	bench/run-all $(RELEASE_DIR)/src/kiln

# Fuzz the parsers for FUZZ_SECONDS (default 60) with libFuzzer (clang, ASan). The seed corpora
# come from the shared conformance folder when it is there; without it the fuzzers start empty.
FUZZ_SECONDS ?= 60
CONFORMANCE_DIR ?= $(or $(KILN_CONFORMANCE_DIR),../shared/conformance)
fuzz: deps
	@test -f build-fuzz/build.ninja || CXX=clang++ cmake -S . -B build-fuzz -G Ninja \
	  -DCMAKE_BUILD_TYPE=Debug -DKILN_SANITIZE=ON -DKILN_FUZZ=ON -DKILN_TESTS=OFF
	cmake --build build-fuzz --target spec_fuzz webhook_fuzz http_request_fuzz api_intake_fuzz
	mkdir -p build-fuzz/corpus && cp $(CONFORMANCE_DIR)/buildspecs/*.yml build-fuzz/corpus/ 2>/dev/null || true
	build-fuzz/src/spec_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build-fuzz/corpus
	@# webhook_fuzz reads X-GitHub-Event from the first byte: 0 push, 1 pull_request, 2 ping.
	mkdir -p build-fuzz/webhook-corpus
	for pair in 0:push 1:pull_request 2:ping; do \
	  for f in $(CONFORMANCE_DIR)/webhooks/$${pair#*:}/*.json; do \
	    [ -f "$$f" ] || continue; \
	    { printf "\\00$${pair%%:*}"; cat "$$f"; } > build-fuzz/webhook-corpus/$${pair#*:}-$$(basename "$$f"); \
	  done; \
	done
	build-fuzz/src/webhook_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=131072 build-fuzz/webhook-corpus
	@# Raw HTTP requests: the parser, admission (Host, Origin, token, type, limits), targets.
	mkdir -p build-fuzz/http-corpus && cp fuzz/corpus/http_request/* build-fuzz/http-corpus/
	build-fuzz/src/http_request_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build-fuzz/http-corpus
	@# api_intake_fuzz: the first byte picks the body's parser (src/server/api_intake_fuzz.cc).
	mkdir -p build-fuzz/api-intake-corpus && cp fuzz/corpus/api_intake/* build-fuzz/api-intake-corpus/
	build-fuzz/src/api_intake_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=1048576 build-fuzz/api-intake-corpus

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h')

clean:
	rm -rf $(BUILD_DIR) $(RELEASE_DIR)
