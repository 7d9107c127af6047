# bpflink — the two commands README names:
#   make demo   sets up the machine, builds, and runs the demo
#   make test   sets up the machine, builds, and runs every test suite
SHELL := /bin/bash
PREFIX ?= /usr/local
BUILD := $(CURDIR)/build
# The test suites run against an installed copy, like a user's tools would.
STAGE := $(BUILD)/prefix
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo

.PHONY: all setup build libs install stage header check-header demo test vm-shell clean

all: build

setup:
	scripts/setup.sh

build:
	$(CARGO) build --release --locked
	scripts/build-libs.sh --release $(BUILD)/lib

install: build
	scripts/install.sh $(PREFIX) --libs $(BUILD)/lib

stage: build
	rm -rf $(STAGE)
	scripts/install.sh $(STAGE) --libs $(BUILD)/lib

# Regenerates the committed C header from the Rust sources.
header:
	cbindgen --config cbindgen.toml --crate bpflink --output include/bpflink.h

demo: setup stage
	scripts/demo.sh $(STAGE)

test: setup stage
	scripts/test-all.sh $(STAGE)

# An interactive-free shell command in the guest kernel, e.g. make vm CMD='uname -a'.
vm:
	scripts/vm-run -- sh -c '$(CMD)'

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
