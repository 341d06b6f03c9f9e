# saturn's two front doors: `make demo` and `make test` (both install what is missing first).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
ifeq ($(CI),true)
  CMAKE_FLAGS += -DSATURN_WERROR=ON
endif

.PHONY: all deps build test test-interop demo asan asan-lang fuzz fuzz-smoke fuzz-long bench \
	bench-torch format clean doctest doctest-full doc-sessions python test-python

all: build

deps:
	bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# `import saturn` for the system's Python (Debian's /usr/bin/python3, docs/python.md): builds the
# module and installs the package into /usr/local/lib/python3.X/dist-packages (no pip: PEP 668).
python: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target _saturn
	cmake --install $(BUILD) --component python

# The package's pytest suite alone (make test runs it too), from the build tree.
test-python: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target _saturn saturn
	cd $(BUILD) && ctest --output-on-failure -L python

# PyTorch parity (tests/interop/): logits to 1e-4 and one Adam step to 1e-5, from saturn's
# checkpoints, for pre/post LayerNorm x softmax/relu attention.
test-interop: build
	bash scripts/install-deps.sh --interop
	/usr/bin/python3 tests/interop/torch_parity.py $(BUILD)/saturn

# The demo runs only the `saturn` binary: it builds that target alone (`make test` builds the
# tests and benchmarks).
demo: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target saturn
	bash scripts/demo.sh $(BUILD)/saturn

# AddressSanitizer + UndefinedBehaviorSanitizer build running the whole suite. Without -Werror:
# sanitizer instrumentation makes GCC's flow-sensitive warnings misfire inside Boost and
# libstdc++ headers; the normal CI build is the one that treats warnings as errors.
asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSATURN_SANITIZE=ON -DSATURN_WERROR=OFF
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)

# base/ and lang/ under ASan + UBSan without the binary's [cli] tests and the two longest
# exact-count sweeps (they run in `make test` and `make asan`): what CI adds to the fuzz run.
asan-lang: deps
	cmake -S . -B build-asan-lang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSATURN_SANITIZE=ON \
	  -DSATURN_WERROR=OFF -DSATURN_CLI_TESTS=OFF
	cmake --build build-asan-lang -j $(JOBS) --target base_tests lang_tests
	build-asan-lang/tests/base_tests
	build-asan-lang/tests/lang_tests '~[cli]' '~Dyck-k counts*' '~every built-in samples*'

# libFuzzer targets, one per reader (tests/fuzz/), built with clang, ASan and UBSan.
FUZZ_SECONDS ?= 20
FUZZ_RUNS ?= 1000000
fuzz:
	bash scripts/install-deps.sh --fuzz
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DSATURN_FUZZ=ON -DBUILD_TESTING=OFF
	cmake --build build-fuzz -j $(JOBS) --target fuzz_all

# Each target for FUZZ_SECONDS over its seed corpus (CI); fails on a crash, leak or timeout.
fuzz-smoke: fuzz
	bash scripts/fuzz.sh build-fuzz --seconds $(FUZZ_SECONDS)

# Each target for FUZZ_RUNS executions (the figures in bench/RESULTS.md).
fuzz-long: fuzz
	bash scripts/fuzz.sh build-fuzz --runs $(FUZZ_RUNS)

bench: build
	bash bench/run_lang.sh $(BUILD)

# Training throughput against PyTorch, with the default (native) build.
bench-torch: build
	bash scripts/install-deps.sh --interop
	bash bench/train_vs_torch.sh $(BUILD)

# The documentation's sessions, run and compared (scripts/doctest.py: what varies is marked in the
# text, `~0.98` and `...`). doctest-full adds the blocks marked full; doc-sessions rewrites the
# sessions with what the commands print now, keeping the marks.
# The README and every page under docs/.
DOC_PAGES ?= README.md $(wildcard docs/*.md)
# docs/python.md imports the package: its module too, unless the build leaves it out.
PYTHON_MODULE = if grep -q '^SATURN_PYTHON:BOOL=ON' $(BUILD)/CMakeCache.txt; then \
	  cmake --build $(BUILD) -j $(JOBS) --target _saturn; fi
doctest: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target saturn
	$(PYTHON_MODULE)
	/usr/bin/python3 scripts/doctest.py --jobs $(JOBS) --saturn $(BUILD)/saturn $(DOC_PAGES)

doctest-full: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target saturn
	$(PYTHON_MODULE)
	/usr/bin/python3 scripts/doctest.py --jobs $(JOBS) --full --saturn $(BUILD)/saturn $(DOC_PAGES)

doc-sessions: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target saturn
	$(PYTHON_MODULE)
	/usr/bin/python3 scripts/doctest.py --update --full --saturn $(BUILD)/saturn $(DOC_PAGES)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) build-asan build-asan-lang build-native build-fuzz
