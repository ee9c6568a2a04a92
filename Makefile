# haproxy-rs — see README.md. Every target works on a fresh machine that has cargo.
CARGO ?= cargo
EXAMPLE ?= examples/basic.cfg
# Cargo's output directory (CARGO_TARGET_DIR is honoured, as cargo does).
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
BIN := $(TARGET_DIR)/debug/haproxy

# `make install` locations. PREFIX and DESTDIR as usual; the configuration,
# the state directory and the sysconfig file stay where the distributions and
# the unit expect them (/etc, /var) whatever PREFIX is.
PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/haproxy-rs
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
# The binary to install; empty: `cargo build --release` and take its output.
HAPROXY_BIN ?=

.PHONY: all build release run test unit golden compat rpm rpm-test install install-service bench fmt clippy clean

all: build

build:
	$(CARGO) build

release:
	$(CARGO) build --release

# Build, then start the load balancer on the example configuration in the
# foreground, with three small local backends it routes to (see the script).
run: build
	BIN=$(BIN) EXAMPLE=$(EXAMPLE) bash examples/run-demo.sh

# Everything: unit tests, the golden corpus, end-to-end tests, the
# differential suite against the real HAProxy, and the rpm package test
# (each skipped loudly when its tools are missing; CI sets REQUIRE_ALL=1,
# which turns a skip into a failure).
test:
	$(CARGO) test --workspace
	$(MAKE) compat
	$(MAKE) rpm-test

# Runs every corpus config through our binary and the real HAProxy 2.6 and
# compares verdicts, exit codes and the file:line of each alert.
compat: build
	bash tests/compat/compat.sh

# The binary rpm and the source rpm of the committed tree (HEAD), in dist/;
# the binary rpm is rebuilt from the source rpm. See packaging/README.md.
rpm:
	bash packaging/build-rpm.sh

# Builds the rpm of the working tree, installs, upgrades and erases it in
# throw-away roots with dnf --installroot, and checks the systemd unit.
rpm-test:
	bash tests/rpm/rpm.sh

# The program: binary, manual page, documentation. Builds the release binary
# first, unless HAPROXY_BIN names one (or cargo is not there, as often under
# sudo, and the release binary is).
install:
	@if [ -n "$(HAPROXY_BIN)" ]; then :; \
	elif command -v $(CARGO) >/dev/null 2>&1; then echo "$(CARGO) build --release"; $(CARGO) build --release; \
	elif [ -x $(TARGET_DIR)/release/haproxy ]; then echo "no $(CARGO) here: installing $(TARGET_DIR)/release/haproxy as built"; \
	else echo "no $(CARGO) and no $(TARGET_DIR)/release/haproxy: run 'make release' first" >&2; exit 1; fi
	install -D -m 0755 $(or $(HAPROXY_BIN),$(TARGET_DIR)/release/haproxy) $(DESTDIR)$(SBINDIR)/haproxy
	install -D -m 0644 packaging/haproxy.1 $(DESTDIR)$(MANDIR)/man1/haproxy.1
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -D -m 0644 packaging/README.md $(DESTDIR)$(DOCDIR)/README.packaging.md
	install -D -m 0644 -t $(DESTDIR)$(DOCDIR)/examples examples/basic.cfg examples/rhel-default.cfg

# What a systemd host needs to run it as the distributions' haproxy package
# does: the unit (pointing at $(SBINDIR)/haproxy), /etc/haproxy with a default
# haproxy.cfg (an existing one is never overwritten), /etc/sysconfig/haproxy,
# logrotate, the sysusers.d entry of the haproxy user, the rsyslog snippet and
# /var/lib/haproxy. Create the user with `systemd-sysusers` afterwards.
install-service:
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/haproxy/conf.d \
		$(DESTDIR)$(SYSCONFDIR)/sysconfig $(DESTDIR)$(SYSCONFDIR)/logrotate.d \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DATADIR)/haproxy-rs $(DESTDIR)$(LOCALSTATEDIR)/lib/haproxy
	sed -e 's|/usr/sbin/haproxy|$(SBINDIR)/haproxy|g' -e 's|/etc/sysconfig/|$(SYSCONFDIR)/sysconfig/|g' \
		-e 's|/etc/haproxy/|$(SYSCONFDIR)/haproxy/|g' \
		packaging/haproxy.service > $(DESTDIR)$(UNITDIR)/haproxy.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/haproxy.service
	for f in haproxy/haproxy.cfg:haproxy.cfg sysconfig/haproxy:haproxy.sysconfig logrotate.d/haproxy:haproxy.logrotate; do \
		dst=$(DESTDIR)$(SYSCONFDIR)/$${f%%:*}; \
		if [ -e "$$dst" ]; then echo "keeping $$dst"; else install -m 0644 packaging/$${f#*:} "$$dst"; fi; \
	done
	install -m 0644 packaging/haproxy.sysusers $(DESTDIR)$(SYSUSERSDIR)/haproxy.conf
	install -m 0644 packaging/rsyslog-haproxy.conf $(DESTDIR)$(DATADIR)/haproxy-rs/rsyslog-haproxy.conf

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
