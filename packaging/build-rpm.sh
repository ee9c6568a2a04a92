#!/usr/bin/env bash
# Builds the source rpm of haproxy-rs from git, then the binary rpm by
# rebuilding that source rpm (so the source rpm is known to rebuild).
#
#   REF=HEAD         what to package: a commit-ish, or "worktree" for the
#                    files as they are now, committed or not (tests/rpm.sh)
#   OUT=dist         where the .src.rpm and the .x86_64.rpm are written
#   WORK=$TARGET_DIR/rpmbuild     rpmbuild's _topdir (scratch)
#   RPM_CARGO_TARGET_DIR=$TARGET_DIR/rpm-cargo   cargo's output, kept
#   SRPM_ONLY=1      stop after the source rpm
#
# Sources: Source0 is `git archive` of REF; Source1 is `cargo vendor` of that
# tree's Cargo.lock, with the crates that only other platforms use replaced
# by empty stubs (the build needs no network; the Windows import libraries
# alone weigh 90 MB). Needs rpmbuild, cargo, and the
# x86_64-unknown-linux-musl Rust target.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
target_dir=${CARGO_TARGET_DIR:-$top/target}
REF=${REF:-HEAD}
OUT=${OUT:-$top/dist}
WORK=${WORK:-$target_dir/rpmbuild}
spec=packaging/haproxy-rs.spec

version=$(sed -n 's/^Version:[[:space:]]*//p' "$spec")
crate_version=$(sed -n '/^\[package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' Cargo.toml)
if [ "$version" != "$crate_version" ]; then
    echo "build-rpm: $spec says Version: $version but Cargo.toml says $crate_version" >&2
    exit 1
fi

if [ "$REF" = worktree ]; then
    # The files as they are now, new ones included (not the ignored ones),
    # through a scratch index: the real index and the branch are not touched.
    idx=$(mktemp)
    GIT_INDEX_FILE=$idx git read-tree HEAD
    GIT_INDEX_FILE=$idx git add -A .
    REF=$(GIT_INDEX_FILE=$idx git write-tree)
    rm -f "$idx"
elif [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "build-rpm: note: packaging $REF; uncommitted changes are not in the package" >&2
fi

name=haproxy-rs-$version
mkdir -p "$WORK"/{SOURCES,SPECS,SRPMS,RPMS,BUILD,tmp} "$OUT"
src=$WORK/SOURCES
scratch=$(mktemp -d "$WORK/tmp/sources.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
git archive --format=tar --prefix="$name/" "$REF" | tar -C "$scratch" -xf -
# Every file dated now: cargo decides by modification time whether a crate of
# this workspace must be compiled again, and the build below may reuse the
# output of an earlier one (cargo_target_dir). Commit times could make an
# older tree look unchanged.
tar -C "$scratch" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$(date +%s)" \
    -czf "$src/$name.tar.gz" "$name"

# Vendor the crates of the archived tree's Cargo.lock.
(
    cd "$scratch/$name"
    # Offline first: the crates are usually in cargo's cache already.
    cargo vendor --locked --offline vendor >/dev/null 2>"$scratch/vendor.log" ||
        cargo vendor --locked vendor >/dev/null 2>"$scratch/vendor.log" ||
        { cat "$scratch/vendor.log" >&2; exit 1; }
    # The packages a Linux build uses; every other vendored crate becomes a
    # stub cargo can resolve but never compiles.
    cargo metadata --locked --offline --format-version 1 \
        --filter-platform x86_64-unknown-linux-musl >"$scratch/meta-musl.json"
    cargo metadata --locked --offline --format-version 1 \
        --filter-platform x86_64-unknown-linux-gnu >"$scratch/meta-gnu.json"
    python3 - "$scratch/meta-musl.json" "$scratch/meta-gnu.json" vendor <<'EOF'
import json, os, shutil, sys
*metas, vendor = sys.argv[1:]
used = set()
for m in metas:
    meta = json.load(open(m))
    names = {p["id"]: (p["name"], p["version"]) for p in meta["packages"]}
    used |= {names[n["id"]] for n in meta["resolve"]["nodes"]}
for d in sorted(os.listdir(vendor)):
    path = os.path.join(vendor, d)
    man = open(os.path.join(path, "Cargo.toml")).read()
    name = version = None
    for line in man.split("[package]", 1)[1].splitlines():
        k, _, v = line.partition("=")
        if k.strip() == "name" and name is None:
            name = v.strip().strip('"')
        if k.strip() == "version" and version is None:
            version = v.strip().strip('"')
    if (name, version) in used:
        continue
    checksum = json.load(open(os.path.join(path, ".cargo-checksum.json")))
    had_build = os.path.exists(os.path.join(path, "build.rs"))
    shutil.rmtree(path)
    os.makedirs(os.path.join(path, "src"))
    open(os.path.join(path, "Cargo.toml"), "w").write(man)
    open(os.path.join(path, "src", "lib.rs"), "w").write("// not used on Linux: stub\n")
    if had_build:
        open(os.path.join(path, "build.rs"), "w").write("fn main() {}\n")
    # No file list: cargo then checks only the package's checksum, which
    # Cargo.lock records.
    json.dump({"files": {}, "package": checksum.get("package")},
              open(os.path.join(path, ".cargo-checksum.json"), "w"))
EOF
    tar --sort=name --owner=0 --group=0 --numeric-owner -cJf "$src/$name-vendor.tar.xz" vendor
)

# Debian's rpm keeps its database in ~/.rpmdb: keep ours in the scratch area.
rpmdefs=(--define "_topdir $WORK" --define "_tmppath $WORK/tmp" --define "_dbpath $WORK/hostdb")
# Cargo's output is kept between builds (the dependencies compile once); the
# workspace's own crates are always compiled again (see the dates above).
rpmdefs+=(--define "cargo_target_dir ${RPM_CARGO_TARGET_DIR:-$target_dir/rpm-cargo}")
# BuildRequires (cargo, rust) are checked against the rpm database: on a host
# whose Rust does not come from rpm (Debian, rustup), skip that check.
nodeps=()
rpm --dbpath "$WORK/hostdb" -q --whatprovides cargo >/dev/null 2>&1 || nodeps=(--nodeps)
# rpmbuild's trace goes to a log; VERBOSE=1 shows it.
log=$WORK/build.log
: >"$log"
run_rpmbuild() {
    if [ "${VERBOSE:-0}" = 1 ]; then
        rpmbuild "$@" 2>&1 | tee -a "$log"
    elif ! rpmbuild "$@" >>"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "build-rpm: rpmbuild failed; the whole log is $log" >&2
        return 1
    fi
}

cp "$spec" "$WORK/SPECS/"
rm -f "$WORK/SRPMS/$name"-*.src.rpm
run_rpmbuild -bs "${nodeps[@]}" "${rpmdefs[@]}" "$WORK/SPECS/haproxy-rs.spec"
srpm=$(ls "$WORK/SRPMS/$name"-*.src.rpm)
cp "$srpm" "$OUT/"
echo "source rpm: $OUT/$(basename "$srpm")"
[ "${SRPM_ONLY:-0}" = 1 ] && exit 0

echo "building the binary rpm from the source rpm (log: $log)"
run_rpmbuild --rebuild "${nodeps[@]}" "${rpmdefs[@]}" "$srpm"
for rpm in "$WORK"/RPMS/x86_64/"$name"-*.x86_64.rpm; do
    [ "$rpm" -nt "$srpm" ] || continue
    cp "$rpm" "$OUT/"
    echo "binary rpm: $OUT/$(basename "$rpm")"
done
