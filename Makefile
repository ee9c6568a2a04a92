# haproxy-rs — see README.md. Every target works on a fresh machine that has cargo.
CARGO ?= cargo
EXAMPLE ?= examples/basic.cfg
BIN := target/debug/haproxy

.PHONY: all build release run test unit golden compat bench fmt clippy clean

all: build

build:
	$(CARGO) build

release:
	$(CARGO) build --release

# Build, then start the load balancer on the example configuration in the
# foreground, with three small local backends it routes to (see the script).
run: build
	BIN=$(BIN) EXAMPLE=$(EXAMPLE) bash examples/run-demo.sh

# Everything: unit tests, the golden corpus, end-to-end tests, and the
# differential suite against the real HAProxy (skipped loudly when it is
# missing; CI sets REQUIRE_ALL=1, which turns that skip into a failure).
test:
	$(CARGO) test --workspace
	$(MAKE) compat

# Runs every corpus config through our binary and the real HAProxy 2.6 and
# compares verdicts, exit codes and the file:line of each alert.
compat: build
	bash tests/compat/compat.sh

bench:
	bash tests/bench/check-bench.sh
	bash tests/bench/http-bench.sh
	bash tests/bench/tcp-bench.sh
	bash tests/bench/reload-bench.sh
	bash tests/bench/check-load.sh

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --workspace --all-targets

clean:
	$(CARGO) clean
