# dataprep — the two quick-start commands are `make demo` and `make test`.
SWIFT ?= swift
# Debian packages the build links against (see shared/reference/toolchain.md), and the real data
# the demo runs on offline (Fashion-MNIST, under /usr/share/datasets), and what the Python reader's
# tests need (numpy; xxhash to check checksums), which `make test` runs with /usr/bin/python3.
PACKAGES := pkg-config libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libarchive-dev \
            libcurl4-openssl-dev libdnnl-dev dataset-fashion-mnist python3-numpy python3-xxhash
# The reference tools `make bench` compares with: tjbench, bsdtar, curl.
TOOL_PACKAGES := libjpeg-turbo-progs libarchive-tools curl
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Installs the packages in $(1) that dpkg does not list as installed; does nothing when all are.
define install_missing
	@missing=""; \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
endef

.PHONY: deps tools build relocatable install uninstall dist test-dist test test-python test-torch test-keras python demo bench bench-keras \
        test-slurm test-onnx test-s3 test-nginx clean

deps:
	$(call install_missing,$(PACKAGES))

tools:
	$(call install_missing,$(TOOL_PACKAGES))

build: deps
	$(SWIFT) build -c release --product dataprep

# The relocatable binary `make install` and `make dist` ship: release, with the Swift runtime and
# Foundation linked in (--static-swift-stdlib), so it runs without the toolchain; only the Debian
# packages of packaging/runtime-packages.txt are needed. Its own build folder, as `make python`'s,
# so these flags do not rebuild `make build`'s.
DIST_BUILD := .build-dist
DIST_BIN = $$($(SWIFT) build -c release --scratch-path $(DIST_BUILD) --show-bin-path)
VERSION := $(shell sed -n 's/.*static let version = "\(.*\)"/\1/p' Sources/dataprep/DataPrep.swift)
DIST_NAME := dataprep-$(VERSION)-linux-$(shell uname -m)
relocatable: deps
	$(SWIFT) build -c release --product dataprep --scratch-path $(DIST_BUILD) --static-swift-stdlib

# `make install` puts dataprep in $(DESTDIR)$(PREFIX)/bin (autotools' and CMake's names: PREFIX
# defaults to /usr/local; DESTDIR stages the tree for a package). `make uninstall` removes it.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
install: relocatable
	install -d "$(DESTDIR)$(BINDIR)"
	install -m 755 -s "$(DIST_BIN)/dataprep" "$(DESTDIR)$(BINDIR)/dataprep"
	@echo "installed $(DESTDIR)$(BINDIR)/dataprep"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/dataprep"

# `make dist` writes dist/$(DIST_NAME).tar.gz (bin/dataprep, the runtime package list, a README)
# for machines without Swift: clusters, and packaging/Dockerfile's image. The script refuses a
# binary that needs a toolchain library or a Debian library the list does not name.
dist: relocatable
	scripts/make_dist.sh "$(DIST_BIN)/dataprep" dist $(DIST_NAME) packaging/runtime-packages.txt

# Opt-in: the tarball, extracted into an empty folder, runs the pipeline with nothing of the
# toolchain on any path (scripts/test_dist.sh, 2 s), and `make install` into a DESTDIR works. The
# script is quick but the relocatable build is a release build of its own (5 minutes from scratch
# on 2 cores), which would double `make test`; `make test` checks the package list against what
# the binary links and the Dockerfile against the tarball (DistributionTests) instead.
test-dist: dist
	scripts/test_dist.sh dist/$(DIST_NAME).tar.gz
	rm -rf $(DIST_BUILD)/stage
	$(MAKE) --no-print-directory install DESTDIR=$(DIST_BUILD)/stage PREFIX=/usr
	test "$$(env -i $(DIST_BUILD)/stage/usr/bin/dataprep --version)" = $(VERSION)
	@echo "test-dist: make install DESTDIR=$(DIST_BUILD)/stage PREFIX=/usr installed a working usr/bin/dataprep"

# swift-format's lint first (the rules on in .swift-format; warnings fail under --strict). Then
# the engine library: the Python loader's tests and the documentation's Python examples (run by
# `swift test`: DocumentationTests runs every runnable block of README.md and docs/) load it from
# the debug build folder. Then the whole suite.
test: deps
	$(SWIFT) format lint --strict --recursive Sources Tests
	$(SWIFT) build --product DataPrepEngine
	$(SWIFT) test

# The Python package's tests alone: the sets and expected batches they read are written by the real
# dataprep, then python/tests runs with /usr/bin/python3 (numpy; xxhash for checksums).
test-python: deps
	$(SWIFT) build --product DataPrepEngine
	$(SWIFT) test --filter 'PythonReaderTests|PythonLoaderTests'

# The batch engine behind the Python loader, built with the Swift runtime and Foundation linked in
# (-static-stdlib), so the installed package needs no Swift toolchain at run time: only Debian's
# libturbojpeg0 and libpng16-16 (ldd lists them). It has its own build folder, so these flags do not
# rebuild `make build`'s. Then `pip install ./python` (with the library inside) into $(PYTHON)'s
# environment: a virtualenv's python, or PYTHON=.venv/bin/python.
ENGINE_BUILD := .build-engine
PYTHON ?= python3
python: deps
	$(SWIFT) build -c release --product DataPrepEngine --scratch-path $(ENGINE_BUILD) -Xswiftc -static-stdlib
	strip --strip-unneeded -o python/dataprep_shards/libDataPrepEngine.so \
	  "$$($(SWIFT) build -c release --scratch-path $(ENGINE_BUILD) --show-bin-path)/libDataPrepEngine.so"
	$(PYTHON) -m pip install --quiet --disable-pip-version-check ./python
	@echo "installed dataprep_shards for $$($(PYTHON) -c 'import sys; print(sys.executable)')"

# Opt-in: the Python package's PyTorch tests (the reader's ShardDataset, the loader's TorchLoader),
# the documentation's PyTorch blocks and examples/train_pytorch.py learning from the loader, with torch from PyPI in a virtualenv.
# PyPI's Linux torch wheels are CUDA builds (torch 2.15 with torchvision: 5.5 GB installed, about
# 2.5 minutes here); where the CPU index is reachable, TORCH_PIP="torch torchvision --index-url
# https://download.pytorch.org/whl/cpu" is far smaller. TORCH_FROM=debian instead installs Debian's
# CPU build (python3-torch) for /usr/bin/python3.
TORCH := .build-torch
TORCH_PIP ?= torch torchvision
TORCH_FROM ?= pypi
ifeq ($(TORCH_FROM),debian)
TORCH_PYTHON := /usr/bin/python3
else
TORCH_PYTHON := $(TORCH)/venv/bin/python
endif
test-torch: deps
ifeq ($(TORCH_FROM),debian)
	$(call install_missing,python3-torch)
else
	$(call install_missing,python3-venv)
endif
	@{ [ "$(TORCH_FROM)" = debian ] || scripts/python_venv.sh $(TORCH)/venv torch,numpy,xxhash --only-binary :all: numpy xxhash $(TORCH_PIP); } || { \
	  echo "test-torch skipped: pip could not install $(TORCH_PIP) into $(TORCH)/venv (see the error above)"; exit 0; }; \
	set -e; $(SWIFT) build --product DataPrepEngine; \
	DATAPREP_PYTHON=$(TORCH_PYTHON) $(SWIFT) test --filter 'PythonReaderTests|PythonLoaderTests|DocumentationTests'; \
	scripts/test_examples.sh pytorch $(TORCH_PYTHON) "$$($(SWIFT) build --show-bin-path)/dataprep" \
	  "$$($(SWIFT) build --show-bin-path)/libDataPrepEngine.so"

# Opt-in: the loader's Keras adapter tests, the documentation's Keras block and examples/train_keras.py
# learning from the loader, with
# Keras 3 and TensorFlow from PyPI in the virtualenv `make bench-keras` uses (KERAS_BACKEND=jax or
# torch work too, with that backend installed there).
KERAS := .build-keras
KERAS_PIP := tensorflow-cpu pillow scipy numpy xxhash
test-keras: deps
	$(call install_missing,python3-venv)
	@scripts/python_venv.sh $(KERAS)/venv keras,numpy,scipy,PIL,xxhash $(KERAS_PIP) || { \
	  echo "test-keras skipped: pip could not install $(KERAS_PIP) into $(KERAS)/venv (see the error above)"; exit 0; }; \
	set -e; $(SWIFT) build --product DataPrepEngine; \
	DATAPREP_PYTHON=$(KERAS)/venv/bin/python $(SWIFT) test --filter 'PythonLoaderTests|DocumentationTests'; \
	scripts/test_examples.sh keras $(KERAS)/venv/bin/python "$$($(SWIFT) build --show-bin-path)/dataprep" \
	  "$$($(SWIFT) build --show-bin-path)/libDataPrepEngine.so"

demo: deps build
	scripts/demo.sh "$$($(SWIFT) build -c release --show-bin-path)/dataprep"

bench: deps tools
	$(SWIFT) build -c release --product dataprep
	$(SWIFT) build -c release --product DataPrepEngine
	$(SWIFT) build -c release --product dataprep-bench
	BENCH_ONLY="$(ONLY)" "$$($(SWIFT) build -c release --show-bin-path)/dataprep-bench"

# Opt-in: Keras on the same files and model, in a virtualenv with tensorflow-cpu from PyPI.
bench-keras: deps tools
	$(SWIFT) build -c release --product dataprep-bench
	@scripts/python_venv.sh $(KERAS)/venv keras,numpy,scipy,PIL,xxhash $(KERAS_PIP)
	rm -rf $(KERAS)/images
	BENCH_ONLY=augment BENCH_KEEP_IMAGES=$(KERAS)/images BENCH_JSON=$(KERAS)/augment.json \
	  "$$($(SWIFT) build -c release --show-bin-path)/dataprep-bench"
	BENCH_ONLY=trainer BENCH_JSON=$(KERAS)/trainer.json "$$($(SWIFT) build -c release --show-bin-path)/dataprep-bench"
	python3 -c 'import json,sys; json.dump(sum((json.load(open(f)) for f in sys.argv[1:]), []), open("$(KERAS)/rows.json", "w"))' \
	  $(KERAS)/augment.json $(KERAS)/trainer.json
	OMP_NUM_THREADS=2 $(KERAS)/venv/bin/python scripts/bench_keras.py $(KERAS)/images $(KERAS)/rows.json

# Opt-in: a one-node SLURM cluster on loopback runs `augment --part` as a 4-task job array; the
# merged set must be byte-identical to a one-process run (docs/scale-out.md).
test-slurm: deps build
	scripts/test_slurm.sh "$$($(SWIFT) build -c release --show-bin-path)/dataprep"

# Opt-in: onnxruntime (onnx, onnxruntime and numpy from PyPI, in .build-onnx/venv) runs the ONNX
# export of tutorial, fashion and mlp on 20 images; its outputs must match `dataprep predict`
# within 1e-4. It uses the debug binary `make test` builds (the check is numeric, not a benchmark).
test-onnx: deps
	$(SWIFT) build --product dataprep
	scripts/test_onnx.sh "$$($(SWIFT) build --show-bin-path)/dataprep"

# Opt-in: a real S3-compatible server on loopback (moto's server mode, from PyPI in .build-s3/venv,
# with authentication enforced: every request past the setup must carry a valid SigV4 signature):
# pack --out s3:// (multipart too), train --shards s3://, the Python loader and reader from
# s3://, --part x3 + merge inside the bucket byte-identical to one local run, a wrong secret, a
# failed upload (no manifest) and its resumption. The script starts and stops the server.
test-s3: deps
	$(SWIFT) build --product dataprep
	$(SWIFT) build --product DataPrepEngine
	scripts/test_s3.sh "$$($(SWIFT) build --show-bin-path)/dataprep" "$$($(SWIFT) build --show-bin-path)/libDataPrepEngine.so"

# Opt-in: Debian's nginx serves a set over HTTPS with a self-signed certificate on loopback;
# verify and train read it with --cacert and with CURL_CA_BUNDLE, and refuse it without.
test-nginx: deps
	$(SWIFT) build --product dataprep
	scripts/test_nginx.sh "$$($(SWIFT) build --show-bin-path)/dataprep"

clean:
	rm -rf .build .build-keras .build-torch .build-onnx .build-engine .build-s3 .build-dist dist demo-output \
	  python/dataprep_shards/libDataPrepEngine.so
