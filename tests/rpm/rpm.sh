#!/usr/bin/env bash
# The rpm package test (`make rpm-test`, part of `make test`).
#
# Builds the source rpm of the working tree and the binary rpm from it
# (packaging/build-rpm.sh), inspects them, then, in throw-away roots with
# dnf --installroot from a local createrepo_c repository:
#   1. installs into an empty root, runs the installed haproxy -c on the
#      installed haproxy.cfg, and runs the installed unit's command lines
#      (start, reload, stop) in a network namespace of their own;
#   2. upgrades to a newer build and checks that a modified haproxy.cfg is kept;
#   3. erases it and checks that the service is stopped and disabled;
#   4. replaces a stand-in of the distribution's haproxy package whose
#      service is enabled and running, and checks that it still is afterwards;
# and runs systemd-analyze verify on the installed unit.
#
# The roots get a copied /bin/sh (and mkdir, rm) and tests/rpm/fixtures.spec's
# stub systemctl/useradd/groupadd/getent, which record what the scriptlets do.
# Nothing is installed on this host. Needs root (rpm's scriptlets chroot).
# Without the tools it prints a SKIP banner and exits 0 (1 with REQUIRE_ALL=1).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/rpm
cd "$top"
target_dir=${CARGO_TARGET_DIR:-$top/target}
t0=$SECONDS

skip() {
    echo "SKIP ********************************************************************"
    echo "SKIP rpm package test: $1"
    echo "SKIP the rpm package was not built nor tested."
    echo "SKIP ********************************************************************"
    [ "${REQUIRE_ALL:-0}" = 1 ] && { echo "REQUIRE_ALL=1: a skip is a failure"; exit 1; }
    exit 0
}
missing=()
for tool in rpm rpmbuild createrepo_c dnf systemd-analyze python3 chroot unshare git cargo; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} = 0 ] || skip "missing ${missing[*]} (apt-get install -y rpm createrepo-c dnf systemd)"
[ "$(id -u)" = 0 ] || skip "needs root (rpm runs the scriptlets chrooted in the test roots)"
musl_std=$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-musl
[ -d "$musl_std" ] || skip "the Rust target x86_64-unknown-linux-musl is missing (rustup target add x86_64-unknown-linux-musl)"

W=$(mktemp -d /tmp/haproxy-rs-rpm-test.XXXXXX)
keep=1
cleanup() { if [ "$keep" = 0 ]; then rm -rf "$W"; else echo "rpm test: work files kept in $W"; fi; }
trap cleanup EXIT
mkdir -p "$W"/{out,repo,log,hostdb}
n=0
ok() { echo "ok - $*"; }
fail() { echo "not ok - $*"; exit 1; }
# run NAME COMMAND...: runs COMMAND with its output in $W/log; shows the end
# of it if it fails.
run() {
    local name=$1
    shift
    n=$((n + 1))
    if ! "$@" >"$W/log/$n-$name.log" 2>&1; then
        tail -n 30 "$W/log/$n-$name.log"
        fail "$name: $*"
    fi
}
# rpmq ARGS...: rpm queries on files, with a database of our own (Debian's
# rpm would otherwise create ~/.rpmdb).
rpmq() { rpm --dbpath "$W/hostdb" "$@" 2>/dev/null; }
stamp() { echo "   [$((SECONDS - t0)) s] $*"; }

### Build ######################################################################
run build-rpm env REF=worktree OUT="$W/out" bash packaging/build-rpm.sh
version=$(sed -n 's/^Version:[[:space:]]*//p' packaging/haproxy-rs.spec)
P1=$W/out/haproxy-rs-$version-1.x86_64.rpm
SRPM=$W/out/haproxy-rs-$version-1.src.rpm
[ -f "$P1" ] && [ -f "$SRPM" ] || fail "build-rpm did not produce $P1 and $SRPM"
ok "source rpm built, binary rpm rebuilt from it: $(basename "$SRPM"), $(basename "$P1")"
stamp "built"

### Inspect ####################################################################
files=$(rpmq -qlp "$P1")
for f in /usr/sbin/haproxy /usr/share/man/man1/haproxy.1 /etc/haproxy /etc/haproxy/conf.d \
    /etc/haproxy/haproxy.cfg /etc/sysconfig/haproxy /etc/logrotate.d/haproxy \
    /usr/lib/systemd/system/haproxy.service /usr/lib/sysusers.d/haproxy.conf \
    /usr/share/haproxy-rs/rsyslog-haproxy.conf /var/lib/haproxy \
    /usr/share/doc/haproxy-rs/README.md; do
    grep -qx -- "$f\(\.gz\)\{0,1\}" <<<"$files" || fail "rpm -qlp: $f is not in the package"
done
ok "rpm -qlp: binary, man page, /etc/haproxy{,/conf.d,/haproxy.cfg}, sysconfig, logrotate, unit, sysusers, rsyslog snippet, /var/lib/haproxy, docs"
[ "$(rpmq -qcp "$P1" | sort | tr '\n' ' ')" = "/etc/haproxy/haproxy.cfg /etc/logrotate.d/haproxy /etc/sysconfig/haproxy " ] ||
    fail "rpm -qcp: the config files are $(rpmq -qcp "$P1" | tr '\n' ' ')"
rpmq -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$P1" | grep -q '^cn /etc/haproxy/haproxy.cfg$' ||
    fail "haproxy.cfg is not %config(noreplace)"
ok "rpm -qcp: haproxy.cfg, sysconfig and logrotate are %config(noreplace)"
[ "$(rpmq -qp --qf '[%{FILEUSERNAME}:%{FILEGROUPNAME}:%{FILEMODES:perms} %{FILENAMES}\n]' "$P1" | grep ' /var/lib/haproxy$')" = \
    "root:root:drwxr-xr-x /var/lib/haproxy" ] || fail "/var/lib/haproxy is not root:root 0755"
ok "/var/lib/haproxy is root:root 0755, as current Fedora"

requires=$(rpmq -qp --requires "$P1")
echo "$requires" | sed 's/^/     requires: /'
for bad in GLIBC libc.so ld-linux rtld PayloadIsZstd; do
    ! grep -q "$bad" <<<"$requires" || fail "rpm -qp --requires: $bad (the package would not install on every EL)"
done
for need in shadow-utils systemd; do
    grep -q "^$need$" <<<"$requires" || fail "rpm -qp --requires: no $need for the scriptlets"
done
ok "rpm -qp --requires: no glibc or loader dependency, no zstd payload; shadow-utils and systemd for the scriptlets"
payload=$(rpmq -qp --qf '%{PAYLOADCOMPRESSOR}' "$P1")
case $payload in xz | gzip) ;; *) fail "payload compressed with $payload: EL7's rpm reads only gzip and xz" ;; esac
ok "payload: $payload"
rpmq -qp --provides "$P1" | grep -qx 'haproxy = 2.6.0' || fail "rpm -qp --provides: no 'haproxy = 2.6.0'"
[ "$(rpmq -qp --conflicts "$P1")" = haproxy ] || fail "rpm -qp --conflicts: $(rpmq -qp --conflicts "$P1")"
[ -z "$(rpmq -qp --obsoletes "$P1")" ] || fail "the package obsoletes $(rpmq -qp --obsoletes "$P1"): see packaging/README.md"
ok "rpm -qp --provides/--conflicts: provides haproxy = 2.6.0, conflicts with haproxy, obsoletes nothing"
scripts=$(rpmq -qp --scripts --triggers "$P1")
for want in 'preinstall scriptlet' 'useradd -r -g haproxy -d /var/lib/haproxy -s /sbin/nologin' \
    'postinstall scriptlet' 'preset haproxy.service' 'preuninstall scriptlet' 'disable --now haproxy.service' \
    'postuninstall scriptlet' 'try-restart haproxy.service' 'triggerun scriptlet' 'posttrans scriptlet'; do
    grep -qF -- "$want" <<<"$scripts" || fail "rpm -qp --scripts: no '$want'"
done
ok "rpm -qp --scripts: user creation, preset, disable --now on erase, try-restart on upgrade, trigger and posttrans"
# A static binary has no program interpreter (PT_INTERP).
cp "$P1" "$W/payload.rpm"
run rpm2archive rpm2archive "$W/payload.rpm"
python3 - "$W/payload.rpm.tgz" <<'EOF' || fail "/usr/sbin/haproxy in the package is not a static executable"
import sys, tarfile
elf = tarfile.open(sys.argv[1]).extractfile("./usr/sbin/haproxy").read()
assert elf[:4] == b"\x7fELF", "not an ELF file"
phoff = int.from_bytes(elf[32:40], "little")
size, count = int.from_bytes(elf[54:56], "little"), int.from_bytes(elf[56:58], "little")
types = [int.from_bytes(elf[phoff + k * size:phoff + k * size + 4], "little") for k in range(count)]
sys.exit(1 if 3 in types else 0)  # 3: PT_INTERP
EOF
ok "/usr/sbin/haproxy is static (no program interpreter): it runs whatever glibc EL7/8/9 have"
[ "$(rpmq -qp --qf '%{VERSION}-%{RELEASE}' "$SRPM")" = "$version-1" ] || fail "source rpm version"
srpm_files=$(rpmq -qlp "$SRPM" | tr '\n' ' ')
[ "$srpm_files" = "haproxy-rs-$version-vendor.tar.xz haproxy-rs-$version.tar.gz haproxy-rs.spec " ] ||
    fail "source rpm holds: $srpm_files"
ok "source rpm: the spec, the source tarball and the vendored crates"

### Fixtures, the upgrade build, the repository ###############################
run fixtures rpmbuild -bb --nodeps --define "_topdir $W/fixtures" --define "_sourcedir $here/stubs" \
    --define "_dbpath $W/hostdb" "$here/fixtures.spec"
cp "$W"/fixtures/RPMS/noarch/*.rpm "$W/repo/"

# Release 2 of the same sources, whose default haproxy.cfg differs (so that
# the upgrade has to choose between the admin's file and the new default).
# Its sources are those of the source rpm.
v2=$W/v2
run unpack-srpm rpm --dbpath "$W/hostdb" -i --define "_topdir $v2" "$SRPM"
mkdir -p "$v2/edit"
tar -C "$v2/edit" -xzf "$v2/SOURCES/haproxy-rs-$version.tar.gz"
echo "# release 2 of the default configuration" >>"$v2/edit/haproxy-rs-$version/packaging/haproxy.cfg"
tar -C "$v2/edit" -czf "$v2/SOURCES/haproxy-rs-$version.tar.gz" "haproxy-rs-$version"
sed -i 's/^Release:.*/Release:        2%{?dist}/' "$v2/SPECS/haproxy-rs.spec"
# Built where the first build was (build-rpm.sh's WORK), with cargo's output
# of that build: the Rust sources and their dates are the same, nothing is
# compiled again.
run build-release-2 rpmbuild -bb --nodeps --define "_topdir $v2" --define "_dbpath $W/hostdb" \
    --define "_builddir $target_dir/rpmbuild/BUILD" \
    --define "cargo_target_dir ${RPM_CARGO_TARGET_DIR:-$target_dir/rpm-cargo}" "$v2/SPECS/haproxy-rs.spec"
P2=$v2/RPMS/x86_64/haproxy-rs-$version-2.x86_64.rpm
[ -f "$P2" ] || fail "no $P2"
cp "$P1" "$W/repo/"
run createrepo createrepo_c "$W/repo"
ok "local repository: haproxy-rs $version-1 and the test fixtures (createrepo_c)"
stamp "release 2 built, repository made"

# A root with nothing but /bin/sh, mkdir and rm (and their libraries),
# /dev/null, /tmp and /var/log.
seed() {
    local r=$1 bin lib
    mkdir -p "$r/bin" "$r/dev" "$r/tmp" "$r/var/log"
    mknod -m 666 "$r/dev/null" c 1 3
    for bin in /bin/dash:/bin/sh /bin/mkdir:/bin/mkdir /bin/rm:/bin/rm; do
        cp "${bin%%:*}" "$r${bin#*:}"
        for lib in $(ldd "${bin%%:*}" | grep -o '/[^ ]*'); do cp --parents -L "$lib" "$r/"; done
    done
}
# dnf_in ROOT ARGS...: dnf on ROOT, from the local repository only.
dnf_in() {
    local r=$1
    shift
    dnf -y --nogpgcheck --releasever=9 --installroot "$r" --repofrompath "local,$W/repo" \
        --disablerepo='*' --enablerepo=local --setopt=clean_requirements_on_remove=False "$@"
}
# systemctl_log ROOT: what the scriptlets asked systemctl, so far.
systemctl_log() { cat "$1/var/log/stub-systemctl.log" 2>/dev/null || true; }
# service_state ROOT: "enabled active", "enabled", "active" or "".
service_state() {
    local s=""
    [ -e "$1/var/lib/stub-systemd/haproxy.service.enabled" ] && s="enabled"
    [ -e "$1/var/lib/stub-systemd/haproxy.service.active" ] && s="${s:+$s }active"
    echo "$s"
}

### 1. Install into an empty root ##############################################
R1=$W/root1
seed "$R1"
run install-1 dnf_in "$R1" install haproxy-rs
[ "$(rpm --root "$R1" -q --qf '%{VERSION}-%{RELEASE}' haproxy-rs 2>/dev/null)" = "$version-1" ] || fail "haproxy-rs is not installed in $R1"
ok "dnf --installroot install haproxy-rs into an empty root"
grep -qx 'haproxy:x:[0-9]*:[0-9]*:haproxy:/var/lib/haproxy:/sbin/nologin' "$R1/etc/passwd" ||
    fail "no haproxy user: $(cat "$R1/etc/passwd" 2>/dev/null)"
grep -q '^haproxy:x:[0-9]*:$' "$R1/etc/group" || fail "no haproxy group"
ok "%pre created the haproxy group and user (home /var/lib/haproxy, /sbin/nologin)"
[ "$(stat -c '%U:%G %a' "$R1/var/lib/haproxy")" = "root:root 755" ] || fail "/var/lib/haproxy: $(stat -c '%U:%G %a' "$R1/var/lib/haproxy")"
grep -qx 'systemctl --no-reload preset haproxy.service' <(systemctl_log "$R1") || fail "%post did not preset the unit"
[ -z "$(service_state "$R1")" ] || fail "a first install enabled or started the service"
ok "%post applied the preset (disabled, as the distributions' haproxy); nothing started"

out=$(chroot "$R1" /usr/sbin/haproxy -c -f /etc/haproxy/haproxy.cfg 2>&1) || fail "haproxy -c in the root: $out"
grep -q "Configuration file is valid" <<<"$out" || fail "haproxy -c said: $out"
ok "chroot root1 /usr/sbin/haproxy -c -f /etc/haproxy/haproxy.cfg: $out"

if unshare --net --mount true 2>/dev/null; then
    unshare --net --mount bash "$here/run-unit.sh" "$R1" >"$W/log/unit.log" 2>&1 || { cat "$W/log/unit.log"; fail "the installed unit's command lines"; }
    sed 's/^ok - /ok - unit: /' "$W/log/unit.log"
else
    echo "SKIP ********************************************************************"
    echo "SKIP unit run: unshare --net --mount is not allowed here"
    echo "SKIP ********************************************************************"
    [ "${REQUIRE_ALL:-0}" = 1 ] && fail "REQUIRE_ALL=1: a skip is a failure"
fi

# systemd-analyze verify on the installed unit, with the installed binary;
# the root also needs systemd's targets and /bin/kill (ExecReload).
V=$W/verify-root
mkdir -p "$V/usr/lib/systemd/system" "$V/usr/sbin" "$V/bin"
cp "$R1/usr/lib/systemd/system/haproxy.service" "$V/usr/lib/systemd/system/"
cp "$R1/usr/sbin/haproxy" "$V/usr/sbin/"
cp "$(type -P kill)" "$V/bin/kill"
cp -a "$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)"/*.target "$V/usr/lib/systemd/system/"
verify=$(systemd-analyze verify --root="$V" haproxy.service 2>&1) || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify complains: $verify"
ok "systemd-analyze verify accepts the installed haproxy.service"
stamp "installed and run"

# make install / install-service elsewhere than the package's /usr (the
# package itself is staged with PREFIX=/usr): paths in the unit follow.
S=$W/stage
run make-install make -s install install-service DESTDIR="$S" PREFIX=/usr/local HAPROXY_BIN="$R1/usr/sbin/haproxy"
for f in /usr/local/sbin/haproxy /usr/local/share/man/man1/haproxy.1 /usr/local/lib/systemd/system/haproxy.service \
    /etc/haproxy/haproxy.cfg /etc/sysconfig/haproxy /var/lib/haproxy; do
    [ -e "$S$f" ] || fail "make install: no $f"
done
[ "$(grep -c '^Exec[A-Za-z]*=/usr/local/sbin/haproxy ' "$S/usr/local/lib/systemd/system/haproxy.service")" = 3 ] ||
    fail "make install-service PREFIX=/usr/local: the unit does not run /usr/local/sbin/haproxy"
echo "# mine" >>"$S/etc/haproxy/haproxy.cfg"
run make-install-again make -s install-service DESTDIR="$S" PREFIX=/usr/local
grep -q "# mine" "$S/etc/haproxy/haproxy.cfg" || fail "make install-service overwrote an existing haproxy.cfg"
ok "make install install-service DESTDIR=... PREFIX=/usr/local: the unit runs /usr/local/sbin/haproxy, an existing haproxy.cfg is kept"
if command -v logrotate >/dev/null 2>&1; then
    run logrotate logrotate -d -s "$W/logrotate.state" "$R1/etc/logrotate.d/haproxy"
    ok "logrotate -d accepts /etc/logrotate.d/haproxy"
fi

### 2. Upgrade: a modified haproxy.cfg is kept #################################
echo "# local admin change" >>"$R1/etc/haproxy/haproxy.cfg"
before=$(systemctl_log "$R1" | wc -l)
cp "$P2" "$W/repo/"
run createrepo-update createrepo_c --update "$W/repo"
run upgrade dnf_in "$R1" --refresh upgrade haproxy-rs
[ "$(rpm --root "$R1" -q --qf '%{VERSION}-%{RELEASE}' haproxy-rs 2>/dev/null)" = "$version-2" ] || fail "not upgraded to release 2"
grep -q "# local admin change" "$R1/etc/haproxy/haproxy.cfg" || fail "the upgrade replaced the modified haproxy.cfg"
grep -q "release 2 of the default" "$R1/etc/haproxy/haproxy.cfg.rpmnew" || fail "no haproxy.cfg.rpmnew with the new default"
ok "dnf upgrade to $version-2: the modified haproxy.cfg is kept, the new default is haproxy.cfg.rpmnew"
systemctl_log "$R1" | tail -n +$((before + 1)) | grep -qx 'systemctl try-restart haproxy.service' ||
    fail "the upgrade did not try-restart the service"
! systemctl_log "$R1" | tail -n +$((before + 1)) | grep -q disable || fail "the upgrade disabled the service"
[ "$(grep -c '^useradd' "$R1/var/log/stub-accounts.log")" = 1 ] || fail "the upgrade created the user again"
ok "the upgrade restarts a running service (try-restart), disables nothing, keeps the user"
chroot "$R1" /usr/sbin/haproxy -c -q -f /etc/haproxy/haproxy.cfg -f /etc/haproxy/conf.d || fail "haproxy -c after the upgrade"

### 3. Erase: the service is stopped and disabled #############################
chroot "$R1" /usr/bin/systemctl enable --now haproxy.service
[ "$(service_state "$R1")" = "enabled active" ] || fail "stub systemctl"
before=$(systemctl_log "$R1" | wc -l)
run erase dnf_in "$R1" remove haproxy-rs
! rpm --root "$R1" -q haproxy-rs >/dev/null 2>&1 || fail "haproxy-rs is still installed"
systemctl_log "$R1" | tail -n +$((before + 1)) | grep -qx 'systemctl --no-reload disable --now haproxy.service' ||
    fail "erasing did not disable --now the service"
[ -z "$(service_state "$R1")" ] || fail "after erasing, the service is: $(service_state "$R1")"
[ ! -e "$R1/usr/sbin/haproxy" ] || fail "/usr/sbin/haproxy left behind"
grep -q "# local admin change" "$R1/etc/haproxy/haproxy.cfg.rpmsave" || fail "the modified haproxy.cfg was not saved as .rpmsave"
ok "dnf remove: the service is stopped and disabled, the modified haproxy.cfg saved as haproxy.cfg.rpmsave"
stamp "upgraded and erased"

### 4. Replacing the distribution's haproxy ####################################
R2=$W/root2
seed "$R2"
run install-distro dnf_in "$R2" install haproxy
chroot "$R2" /usr/bin/systemctl enable --now haproxy.service
echo "# the admin's configuration" >>"$R2/etc/haproxy/haproxy.cfg"
if dnf_in "$R2" install haproxy-rs >"$W/log/conflict.log" 2>&1; then fail "haproxy-rs installed over haproxy without --allowerasing"; fi
grep -q "conflicts with haproxy" "$W/log/conflict.log" || { cat "$W/log/conflict.log"; fail "no conflict reported"; }
rpm --root "$R2" -q haproxy >/dev/null 2>&1 || fail "the refused install removed haproxy"
ok "dnf install haproxy-rs over the distribution's haproxy is refused (Conflicts): nothing is replaced unasked"
before=$(systemctl_log "$R2" | wc -l)
# The README's command, with the rpm file.
run replace dnf_in "$R2" install --allowerasing "$P2"
! rpm --root "$R2" -q haproxy >/dev/null 2>&1 || fail "haproxy is still installed"
rpm --root "$R2" -q haproxy-rs >/dev/null 2>&1 || fail "haproxy-rs is not installed"
calls=$(systemctl_log "$R2" | tail -n +$((before + 1)))
echo "$calls" | sed 's/^/     during the swap: /'
# The distribution's %preun stops and disables the unit after our install;
# our %posttrans, last, enables and restarts it.
grep -qx 'systemctl --no-reload disable --now haproxy.service' <<<"$calls" || fail "the old package's %preun did not run"
[ "$(grep -n -e 'disable --now' -e 'enable haproxy' -e 'restart haproxy' <<<"$calls" | cut -d: -f2- | tr '\n' '|')" = \
    "systemctl --no-reload disable --now haproxy.service|systemctl --no-reload enable haproxy.service|systemctl restart haproxy.service|" ] ||
    fail "not disable --now, then enable, then restart"
[ "$(service_state "$R2")" = "enabled active" ] || fail "after the swap the service is '$(service_state "$R2")', it was enabled and active"
[ ! -e "$R2/var/lib/rpm-state/haproxy-rs.service-state" ] || fail "the state file was left behind"
ok "dnf install --allowerasing ./haproxy-rs-$version-2.x86_64.rpm: the old %preun stopped and disabled haproxy.service, %posttrans enabled and restarted it"
grep -q "# the admin's configuration" "$R2/etc/haproxy/haproxy.cfg" || fail "the swap replaced the admin's haproxy.cfg"
[ -f "$R2/etc/haproxy/haproxy.cfg.rpmnew" ] || fail "no haproxy.cfg.rpmnew after the swap"
grep -q '^haproxy:x:188:188:' "$R2/etc/passwd" || fail "the haproxy user changed: $(grep haproxy "$R2/etc/passwd")"
[ "$(grep -c '^useradd' "$R2/var/log/stub-accounts.log")" = 1 ] || fail "a second haproxy user was created"
ok "the swap keeps the admin's haproxy.cfg (new default in .rpmnew) and the distribution's haproxy user (uid 188)"
run needs-haproxy dnf_in "$R2" install needs-haproxy
! rpm --root "$R2" -q haproxy >/dev/null 2>&1 || fail "installing a package that requires haproxy brought haproxy back"
ok "a package that requires 'haproxy >= 1.8' installs against haproxy-rs (Provides)"
# And back, as the README says.
run swap-back dnf_in "$R2" install --allowerasing haproxy
rpm --root "$R2" -q haproxy >/dev/null 2>&1 && ! rpm --root "$R2" -q haproxy-rs >/dev/null 2>&1 ||
    fail "dnf install --allowerasing haproxy did not bring the distribution's package back"
grep -q "# the admin's configuration" "$R2/etc/haproxy/haproxy.cfg" || fail "going back lost the admin's haproxy.cfg"
ok "dnf install --allowerasing haproxy goes back to the distribution's package, haproxy.cfg kept"
stamp "distribution package replaced"

keep=0
echo "rpm test: all passed in $((SECONDS - t0)) s"
