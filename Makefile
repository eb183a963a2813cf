# The two commands a user needs: `make demo` (the main job) and `make test` (the test suite).
# Each installs missing Debian packages first (needs root or sudo on a fresh machine).

SYSTEM_PACKAGES := libfftw3-dev libopenblas-dev pkg-config
SWIFT ?= swift
# Release builds compile our Swift kernels for this machine's CPU (AVX-512 on the development machines: the
# simulator's SIMD loops and the im2col, batch-norm and optimizer loops use it). `make NATIVE= ...` builds
# binaries that run on any x86-64. `DEEPLENSE_NATIVE` lets the code know (e.g. the direct convolution kernel is
# only chosen in such builds).
NATIVE ?= -Xswiftc -target-cpu -Xswiftc native -Xswiftc -DDEEPLENSE_NATIVE
RELEASE = $(SWIFT) build -c release $(NATIVE)
RELEASE_BIN = $(shell $(RELEASE) --show-bin-path)
DEMO_OUT ?= out/demo

.PHONY: deps demo test test-debug test-kernels tsan bench notebooks build-release fuzz slurm-check mpi-deps mpi-check

deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build-release: deps
	$(RELEASE) --product deeplense

demo: build-release
	$(RELEASE_BIN)/deeplense compare --profile demo --out $(DEMO_OUT)

# The whole suite in a debug build, then the Core tests (every convolution kernel against im2col on both backbones'
# shapes, batch norm, optimizers, pooling, SIMD maths) again in a release build with the native flags: the kernels
# `make demo` runs. Release test builds need `-enable-testing` (the tests reach internal API) and get their own
# build directory so they do not rebuild `make demo`'s.
test: test-debug test-kernels

test-debug: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

KERNEL_TESTS ?= CoreTests
RELEASE_TESTS = -c release $(NATIVE) -Xswiftc -enable-testing --scratch-path .build-release-tests

test-kernels: deps
	$(SWIFT) build $(RELEASE_TESTS) --build-tests
	$(SWIFT) test $(RELEASE_TESTS) --skip-build --filter '$(KERNEL_TESTS)'

# ThreadSanitizer over the compute pool, the lock and cache wrappers, the FFT plan cache and the parallel convolution
# schedules (debug build in its own directory; TSAN_TESTS picks the tests).
TSAN_TESTS ?= CoreTests\.(ParallelTests|LockedTests|FFTPlanCacheTests|ConvolutionTests|TapConvolutionTests)
tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --filter '$(TSAN_TESTS)'

# The comparison grid on a one-node Slurm cluster on 127.0.0.1 (as root: installs slurmctld, slurmd, slurm-client, munge
# and jq if missing), checked against the serial comparison. CI runs it after the tests.
slurm-check: build-release
	scripts/slurm-grid-check.sh $(RELEASE_BIN)/deeplense

# Data-parallel training over Open MPI (package trait MPI): installs libopenmpi-dev and openmpi-bin if missing, builds
# deeplense with MPI in its own directory, and checks 2 ranks against one process (scripts/mpi-check.sh).
MPI_PACKAGES := libopenmpi-dev openmpi-bin
MPI_RELEASE = $(SWIFT) build -c release $(NATIVE) --traits MPI --scratch-path .build-mpi

mpi-deps: deps
	@$(MAKE) --no-print-directory deps SYSTEM_PACKAGES="$(MPI_PACKAGES)"

mpi-check: mpi-deps
	$(MPI_RELEASE) --product deeplense
	scripts/mpi-check.sh "$$($(MPI_RELEASE) --show-bin-path)/deeplense"

# Mutation fuzzing of the file parsers (.npy header and data, safetensors, checkpoints), FUZZ_CASES mutated inputs
# each (the test suite runs a few hundred). A crash or hang leaves the input in $(FUZZ_ARTIFACTS).
FUZZ_CASES ?= 10000
FUZZ_ARTIFACTS ?= .build/fuzz
FUZZ_SUITES := LensingTests.NpyFuzzTests CoreTests.SafetensorsFuzzTests DomainAdaptationTests.CheckpointFuzzTests

fuzz: deps
	$(SWIFT) build --build-tests
	@mkdir -p $(FUZZ_ARTIFACTS); rm -f $(FUZZ_ARTIFACTS)/*-current.bin $(FUZZ_ARTIFACTS)/*-hang.bin; failed=""; \
	for suite in $(FUZZ_SUITES); do \
	  FUZZ_CASES=$(FUZZ_CASES) FUZZ_ARTIFACTS=$(FUZZ_ARTIFACTS) $(SWIFT) test --skip-build --filter $$suite \
	    > $(FUZZ_ARTIFACTS)/$$suite.log 2>&1; status=$$?; \
	  grep -h '^fuzz ' $(FUZZ_ARTIFACTS)/$$suite.log; \
	  if [ $$status -ne 0 ]; then \
	    failed="$$failed $$suite"; \
	    echo "$$suite: FAILED (exit $$status, a crash, hang or failed expectation); log $(FUZZ_ARTIFACTS)/$$suite.log"; \
	    ls $(FUZZ_ARTIFACTS)/*-current.bin $(FUZZ_ARTIFACTS)/*-hang.bin 2>/dev/null | sed 's/^/  input: /'; \
	  fi; \
	done; \
	if [ -n "$$failed" ]; then exit 1; fi; echo "fuzz: no crashes, no hangs"

bench: deps
	$(RELEASE) --product Bench
	$(RELEASE_BIN)/Bench $(BENCH_ARGS)

notebooks: build-release
	./notebooks-md/regenerate.sh

# Side-by-side reference run (PyTorch, e2cnn, lenstronomy venvs outside the repo; see bench/README.md). Never in CI.
.PHONY: bench-reference
bench-reference: deps
	$(RELEASE) --product Bench
	BENCH=$(RELEASE_BIN)/Bench bench/reference/side_by_side.sh $(BENCH_REFERENCE_ARGS)
