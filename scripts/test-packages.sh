#!/usr/bin/env bash
# Proves the packages by installing them. Builds all four and checks their metadata and
# file lists; runs lintian and rpmlint on them (failing on any finding without an override
# in packaging/); builds the amd64 pair signed with a throwaway key and verifies them with
# rpm -K and debsig-verify; then, in throwaway Debian roots (debootstrap, cached): a fresh install of
# the amd64 .deb with the daemon started as its user, a reinstall, remove and purge; an
# upgrade over a simulated 1.x Java package whose mappings must come back; the x86_64
# .rpm installed, erased and upgraded over a simulated 1.x .rpm with `rpm --root`; the
# arm64 executable under qemu relaying one connection; the packagecloud dry run.
# Needs root (chroot, mount); installs its tools with apt-get when they are missing.
# Prints one "ok - ..." or "not ok - ..." line per check, and last "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bun="$repo/node_modules/.bin/bun"
helper="$repo/test/packaging/relay-check.ts"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/iofog-connector"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
rootfs="$cache/rootfs-bookworm-minbase-systemd-v2.tar"
user=iofog-connector
etc=/etc/iofog-connector

passed=0
failed=0
stopped=no
work=""
gnupg=""
mounts=()
pids=()

finish() {
  local status=$? pid i
  set +e
  [ -z "$gnupg" ] || gpgconf --homedir "$gnupg" --kill all 2>/dev/null
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[$i]}" 2>/dev/null || umount -l "${mounts[$i]}"
  done
  if [ -n "$work" ]; then
    if grep -q " $work/" /proc/mounts; then
      echo "# left $work: something is still mounted under it"
    else
      rm -rf --one-file-system "$work"
    fi
  fi
  if [ "$status" -ne 0 ] && [ "$stopped" = no ]; then
    echo "not ok - the test script itself failed (exit $status)"
    failed=$((failed + 1))
  fi
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] || exit 1
  exit "$status"
}
trap finish EXIT

ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }

# attempt NAME COMMAND...: one test line, and the command's status for what depends on it.
# The command runs in this shell; its output is shown only when it fails.
attempt() {
  local name=$1
  shift
  if "$@" >"$work/check.out" 2>&1; then
    ok "$name"
    return 0
  fi
  not_ok "$name"
  sed -e 's/^/#   /' "$work/check.out" | tail -n 30
  return 1
}

check() { attempt "$@" || true; }

# step NAME COMMAND...: a check that later ones build on; failing it ends the run.
step() {
  attempt "$@" && return 0
  stopped=yes
  exit 1
}

if [ "$(id -u)" -ne 0 ]; then
  not_ok "scripts/test-packages.sh runs as root (debootstrap, chroot, mount)"
  stopped=yes
  exit 1
fi
work=$(mktemp -d /tmp/iofog-packages.XXXXXX)
mkdir -p "$cache"

# ---------------------------------------------------------------- tools and packages

apt_install() {
  timeout 300 apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "$@"
}
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v rpm >/dev/null || need+=(rpm)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || need+=(libc6-arm64-cross)
command -v systemd-analyze >/dev/null || need+=(systemd)
[ -x /bin/kill ] || need+=(procps)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v openssl >/dev/null || need+=(openssl)
command -v lintian >/dev/null || need+=(lintian)
command -v rpmlint >/dev/null || need+=(rpmlint)
command -v debsig-verify >/dev/null || need+=(debsig-verify)
command -v gpg >/dev/null || need+=(gpg gpg-agent)
command -v strip >/dev/null || need+=(binutils)
if [ ${#need[@]} -gt 0 ]; then
  step "tools installed: ${need[*]}" apt_install "${need[@]}"
fi

step "scripts/package.sh builds the executables and four packages" timeout 900 bash scripts/package.sh
version=$("$bun" -e 'console.log(require("./package.json").version)')
deb_amd64="dist/iofog-connector_${version}_amd64.deb"
deb_arm64="dist/iofog-connector_${version}_arm64.deb"
rpm_x86_64="dist/iofog-connector-$version-1.x86_64.rpm"
rpm_aarch64="dist/iofog-connector-$version-1.aarch64.rpm"
exe_x64=dist/iofog-connector-linux-x64
exe_arm64=dist/iofog-connector-linux-arm64

# ---------------------------------------------------------------- metadata, file lists

expect() { # LABEL EXPECTED ACTUAL
  [ "$2" = "$3" ] && return 0
  printf '%s differs\n--- expected\n%s\n--- actual\n%s\n' "$1" "$2" "$3"
  return 1
}

elf_machine() { od -An -tx1 -j18 -N2 "$1" | tr -d ' \n'; }

deb_metadata() { # PACKAGE ARCH EXECUTABLE
  local info script
  info=$(dpkg-deb -I "$1")
  expect fields "iofog-connector $version $2" "$(dpkg-deb -f "$1" Package Version Architecture | awk '{print $2}' | paste -sd' ')" &&
    expect conffiles /etc/logrotate.d/iofog-connector "$(dpkg-deb -I "$1" conffiles)" &&
    expect "executable md5" "$(md5sum <"$3" | cut -d' ' -f1)" \
      "$(dpkg-deb -I "$1" md5sums | awk '$2 == "usr/bin/iofog-connector" {print $1}')" &&
    expect relations "libc6 (>= 2.17) logrotate" "$(dpkg-deb -f "$1" Depends Recommends | cut -d' ' -f2- | paste -sd' ')" &&
    grep -q '^ Maintainer: Eclipse ioFog' <<<"$info" || return 1
  for script in preinst postinst prerm postrm; do
    expect "$script interpreter" '#!/bin/sh' "$(dpkg-deb -I "$1" "$script" | sed -n 1p)" || return 1
  done
}

deb_files() { # PACKAGE
  local listing
  listing=$(dpkg-deb -c "$1")
  expect "file list" "$(sort <<'EOF'
./etc/
./etc/iofog-connector/
./etc/logrotate.d/
./etc/logrotate.d/iofog-connector
./usr/
./usr/bin/
./usr/bin/iofog-connector
./usr/lib/
./usr/lib/systemd/
./usr/lib/systemd/system/
./usr/lib/systemd/system/iofog-connector.service
./usr/share/
./usr/share/doc/
./usr/share/doc/iofog-connector/
./usr/share/doc/iofog-connector/changelog.gz
./usr/share/doc/iofog-connector/copyright
./usr/share/iofog-connector/
./usr/share/iofog-connector/configs.json
./usr/share/iofog-connector/iofog-connector.conf
./usr/share/lintian/
./usr/share/lintian/overrides/
./usr/share/lintian/overrides/iofog-connector
./usr/share/man/
./usr/share/man/man8/
./usr/share/man/man8/iofog-connector.8.gz
./var/
./var/log/
./var/log/iofog-connector/
EOF
)" "$(awk '{print $6}' <<<"$listing" | sort)" &&
    expect "modes" "$(cat <<'EOF'
drwxrws--T root/iofog-connector ./etc/iofog-connector/
-rwxr-xr-x root/root ./usr/bin/iofog-connector
-rw-r--r-- root/root ./usr/lib/systemd/system/iofog-connector.service
drwxr-x--- iofog-connector/iofog-connector ./var/log/iofog-connector/
EOF
)" "$(awk '$6 ~ /(iofog-connector\/|bin\/iofog-connector|\.service)$/ {print $1, $2, $6}' <<<"$listing" | grep -v /share/)"
}

rpm_metadata() { # PACKAGE ARCH EXECUTABLE
  local scripts
  scripts=$(rpm -qp --scripts "$1" 2>/dev/null | grep scriptlet | awk '{print $1}' | paste -sd' ')
  expect fields "iofog-connector $version 1 $2 EPL-2.0" "$(rpm -qp --qf '%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{LICENSE}' "$1" 2>/dev/null)" &&
    expect "config files" /etc/logrotate.d/iofog-connector "$(rpm -qpc "$1" 2>/dev/null)" &&
    expect scriptlets "preinstall preuninstall postuninstall posttrans" "$scripts" &&
    expect requires "glibc >= 2.17 logrotate" "$(rpm -qpR "$1" 2>/dev/null | grep -v '^rpmlib(' | paste -sd' ')" &&
    expect "latest changelog entry" "* $(date -u -d "$(sed -n 's/^## [0-9.]* - //p' CHANGELOG.md | head -1)" '+%a %b %d %Y') Eclipse ioFog <iofog-dev@eclipse.org> - $version-1" \
      "$(rpm -qp --changelog "$1" 2>/dev/null | head -1)" &&
    expect "executable sha256" "$(sha256sum <"$3" | cut -d' ' -f1)" \
      "$(rpm -qp --qf '[%{FILEDIGESTS} %{FILENAMES}\n]' "$1" 2>/dev/null | awk '$2 == "/usr/bin/iofog-connector" {print $1}')"
}

rpm_files() { # PACKAGE
  expect "file list" "$(cat <<'EOF'
/etc/iofog-connector
/etc/logrotate.d/iofog-connector
/usr/bin/iofog-connector
/usr/lib/systemd/system/iofog-connector.service
/usr/share/iofog-connector/configs.json
/usr/share/iofog-connector/iofog-connector.conf
/usr/share/licenses/iofog-connector/LICENSE
/usr/share/man/man8/iofog-connector.8.gz
/var/log/iofog-connector
EOF
)" "$(rpm -qpl "$1" 2>/dev/null | sort)" &&
    expect "documentation" /usr/share/man/man8/iofog-connector.8.gz "$(rpm -qpd "$1" 2>/dev/null)" &&
    expect modes "$(cat <<'EOF'
drwxrws--T root:iofog-connector /etc/iofog-connector
-rwxr-xr-x root:root /usr/bin/iofog-connector
drwxr-x--- iofog-connector:iofog-connector /var/log/iofog-connector
EOF
)" "$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' "$1" 2>/dev/null |
      grep -E ' (/etc/iofog-connector|/usr/bin/iofog-connector|/var/log/iofog-connector)$')"
}

check "x64 executable is x86-64, arm64 executable is aarch64" \
  expect "ELF machines" "3e00 b700" "$(elf_machine "$exe_x64") $(elf_machine "$exe_arm64")"
check "amd64 .deb: name, version, arch, conffiles, scripts, executable" deb_metadata "$deb_amd64" amd64 "$exe_x64"
check "arm64 .deb: name, version, arch, conffiles, scripts, executable" deb_metadata "$deb_arm64" arm64 "$exe_arm64"
check "amd64 .deb: file list and modes" deb_files "$deb_amd64"
check "arm64 .deb: file list and modes" deb_files "$deb_arm64"
check "x86_64 .rpm: name, version, release, arch, config, scriptlets, executable" rpm_metadata "$rpm_x86_64" x86_64 "$exe_x64"
check "aarch64 .rpm: name, version, release, arch, config, scriptlets, executable" rpm_metadata "$rpm_aarch64" aarch64 "$exe_arm64"
check "x86_64 .rpm: file list and modes" rpm_files "$rpm_x86_64"
check "aarch64 .rpm: file list and modes" rpm_files "$rpm_aarch64"
check "maintainer scripts and test scripts pass shellcheck" \
  shellcheck packaging/scripts/*.sh scripts/package.sh scripts/test-packages.sh

docs_in_deb() { # PACKAGE: the man page, changelog and copyright as the repository makes them
  local tree
  tree="$work/docs-$(basename "$1")"
  mkdir -p "$tree" && dpkg-deb -x "$1" "$tree" &&
    gunzip -c "$tree/usr/share/man/man8/iofog-connector.8.gz" | cmp - packaging/iofog-connector.8 &&
    expect "changelog header" "iofog-connector ($version) stable; urgency=medium" \
      "$(gunzip -c "$tree/usr/share/doc/iofog-connector/changelog.gz" | head -1)" &&
    grep -qx 'Copyright (c) 2018-2026 Edgeworx, Inc. and the Eclipse ioFog contributors' "$tree/usr/share/doc/iofog-connector/copyright" &&
    tail -c "$(stat -c %s LICENSE)" "$tree/usr/share/doc/iofog-connector/copyright" | cmp - LICENSE &&
    cmp "$tree/usr/share/lintian/overrides/iofog-connector" packaging/lintian-overrides
}
docs_in_rpm() { # PACKAGE
  # rpm2cpio exits 1 on nfpm's rpms (their header gives the files' size as the archive's):
  # the extracted page decides.
  rpm2cpio "$1" >"$work/payload.cpio" || true
  cpio -i --quiet --to-stdout '*/man8/iofog-connector.8.gz' <"$work/payload.cpio" | gunzip -c | cmp - packaging/iofog-connector.8 &&
    rm -f "$work/payload.cpio"
}
check "amd64 .deb: man page, changelog, copyright and lintian overrides as the repository makes them" docs_in_deb "$deb_amd64"
check "x86_64 .rpm: the man page as the repository has it" docs_in_rpm "$rpm_x86_64"

# Why the executable stays unstripped (a lintian override and an rpmlint filter).
strip_breaks_it() {
  local out
  cp "$exe_x64" "$work/stripped" && strip "$work/stripped" || return 1
  if out=$(timeout 30 "$work/stripped" version 2>&1) || grep -q Connector <<<"$out"; then
    echo "the stripped executable still runs the Connector: $out"
    return 1
  fi
  echo "stripped: $out"
  rm -f "$work/stripped"
}
check "a stripped copy of the executable no longer holds the Connector (so the packages ship it unstripped)" strip_breaks_it

# ---------------------------------------------------------------- signed packages

# A throwaway key with a passphrase, the amd64 pair packed with it into $work/signed.
signing_pass=test-passphrase
signed="$work/signed"
make_signed() {
  gnupg="$work/gnupg"
  mkdir -m 0700 "$gnupg" &&
    gpg --homedir "$gnupg" --batch --pinentry-mode loopback --passphrase "$signing_pass" \
      --quick-gen-key "ioFog Connector test signing <test-signing@iofog.invalid>" rsa3072 sign 1d &&
    gpg --homedir "$gnupg" --batch --pinentry-mode loopback --passphrase "$signing_pass" \
      --armor --export-secret-keys >"$work/signing-key.asc" &&
    gpg --homedir "$gnupg" --batch --armor --export >"$work/signing-key.pub" &&
    IOFOG_CONNECTOR_SIGNING_KEY="$work/signing-key.asc" NFPM_PASSPHRASE="$signing_pass" \
      timeout 600 bash scripts/package.sh --skip-build --out "$signed" deb rpm amd64
}
step "signing: a throwaway key, and the amd64 .deb and x86_64 .rpm packed signed with it" make_signed
key_id=$(gpg --homedir "$gnupg" --batch --with-colons --list-keys 2>/dev/null | awk -F: '$1 == "pub" {print $5; exit}')
signed_deb="$signed/$(basename "$deb_amd64")"
signed_rpm="$signed/$(basename "$rpm_x86_64")"

# ---------------------------------------------------------------- lintian and rpmlint

# Both run as nobody on copies: they unpack what they check, and rpmlint's
# "rpm2cpio | cpio -id" would write nfpm's absolute payload paths (/usr/bin/...) into / as
# root; cpio gets --no-absolute-filenames so that they land in rpmlint's own directory.
lint="$work/lint"
chmod 0711 "$work"
mkdir -m 0755 "$lint" "$lint/bin" "$lint/signed"
cp "$deb_amd64" "$deb_arm64" "$rpm_x86_64" "$rpm_aarch64" packaging/iofog-connector.rpmlintrc "$lint/"
cp "$signed_rpm" "$lint/signed/"
chmod 0644 "$lint"/*.* "$lint/signed"/*
printf '#!/bin/sh\nexec /usr/bin/cpio --no-absolute-filenames "$@"\n' >"$lint/bin/cpio"
chmod 0755 "$lint/bin/cpio"
# The test build has no key: only there is a missing signature expected.
{ cat packaging/iofog-connector.rpmlintrc; echo 'addFilter("iofog-connector\.\w+: E: no-signature$")'; } >"$lint/unsigned.rpmlintrc"
# rpm -K (and rpmlint through it) finds the throwaway public key in a database of its own.
printf '%%_dbpath %s\n' "$lint/rpmdb" >"$lint/.rpmmacros"
chown nobody "$lint"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$lint" TMPDIR="$lint" PATH="$lint/bin:$PATH" "$@"; }

# lint_counts FILE: "N errors, N warnings" of a lintian or rpmlint report.
lint_counts() {
  echo "$(grep -Ec '^(E: |[^ ]+: E: )' "$1") errors, $(grep -Ec '^(W: |[^ ]+: W: )' "$1") warnings"
}
filters=$(grep -c '^addFilter' packaging/iofog-connector.rpmlintrc)
# lintian_clean REPORT: no error or warning without an override, no override that matches nothing.
lintian_clean() {
  if ! grep -q '^O: ' "$1"; then
    echo "lintian did not report on the package:"
    cat "$1"
    return 1
  fi
  ! grep -E '^(E|W): |unused-override|mismatched-override' "$1"
}
# rpmlint_clean REPORT: rpmlint's own count line says 0 and 0 (filters that match nothing are errors).
rpmlint_clean() {
  grep -q ' 0 errors, 0 warnings' "$1" && return 0
  grep -E ': (E|W): ' "$1"
  return 1
}

for deb in "$deb_amd64" "$deb_arm64"; do
  # --show-overrides makes lintian 2.116 exit 2 on overridden errors: the report decides.
  as_nobody lintian -I --show-overrides --tag-display-limit 0 "$lint/$(basename "$deb")" >"$lint/$(basename "$deb").lintian" 2>&1 &
  pids+=($!)
done
for rpm_file in "$rpm_x86_64" "$rpm_aarch64"; do
  as_nobody rpmlint -r "$lint/unsigned.rpmlintrc" "$lint/$(basename "$rpm_file")" >"$lint/$(basename "$rpm_file").rpmlint" 2>&1 || true
done
import_key() {
  as_nobody rpm --initdb && as_nobody rpm --import "$work/signing-key.pub"
}
check "signing: the public key imports into a throwaway rpm database" import_key
as_nobody rpmlint -r "$lint/iofog-connector.rpmlintrc" "$lint/signed/$(basename "$signed_rpm")" >"$lint/signed.rpmlint" 2>&1 || true
wait "${pids[@]}" 2>/dev/null || true
pids=()
for deb in "$deb_amd64" "$deb_arm64"; do
  report="$lint/$(basename "$deb").lintian"
  check "lintian $(basename "$deb"): $(lint_counts "$report"), $(grep -c '^O: ' "$report") overridden, each with its reason" lintian_clean "$report"
done
for rpm_file in "$rpm_x86_64" "$rpm_aarch64"; do
  report="$lint/$(basename "$rpm_file").rpmlint"
  check "rpmlint $(basename "$rpm_file") (unsigned test build): $(lint_counts "$report"), $filters filters each used, and no-signature" rpmlint_clean "$report"
done
check "rpmlint signed $(basename "$rpm_x86_64"): $(lint_counts "$lint/signed.rpmlint"), the $filters filters of packaging/iofog-connector.rpmlintrc each used" \
  rpmlint_clean "$lint/signed.rpmlint"

# ---------------------------------------------------------------- signatures

rpm_signature() {
  local out short=${key_id,,}
  out=$(as_nobody rpm -Kv "$lint/signed/$(basename "$signed_rpm")") && echo "$out" &&
    grep -q "Signature, key ID ${short: -8}: OK" <<<"$out" &&
    ! as_nobody rpm -Kv "$lint/$(basename "$rpm_x86_64")" | grep -q 'Signature, key ID'
}
check "signing: rpm -K verifies the signed .rpm with the public key; the test build has no signature" rpm_signature

# debsig-verify's layout: a policy naming the key, and a keyring, both under the key's id.
deb_signature() {
  local id=${key_id^^} out
  mkdir -p "$work/debsig/policies/$id" "$work/debsig/keyrings/$id" &&
    gpg --homedir "$gnupg" --batch --export "$key_id" >"$work/debsig/keyrings/$id/iofog.gpg" &&
    cat >"$work/debsig/policies/$id/iofog.pol" <<EOF &&
<?xml version="1.0"?>
<!DOCTYPE Policy SYSTEM "https://www.debian.org/debsig/1.0/policy.dtd">
<Policy xmlns="https://www.debian.org/debsig/1.0/">
  <Origin Name="ioFog" id="$id" Description="ioFog Connector packages"/>
  <Selection>
    <Required Type="origin" File="iofog.gpg" id="$id"/>
  </Selection>
  <Verification MinOptional="0">
    <Required Type="origin" File="iofog.gpg" id="$id"/>
  </Verification>
</Policy>
EOF
    debsig-verify --policies-dir "$work/debsig/policies" --keyrings-dir "$work/debsig/keyrings" "$signed_deb" || return 1
  if out=$(debsig-verify --policies-dir "$work/debsig/policies" --keyrings-dir "$work/debsig/keyrings" "$deb_amd64" 2>&1); then
    echo "the unsigned test build verified: $out"
    return 1
  fi
}
check "signing: debsig-verify verifies the signed .deb (_gpgorigin) against a policy for the key; the test build fails it" deb_signature
signed_same() { # the signed pair differs from the test build only by the signature
  expect "deb members" "debian-binary control.tar.gz data.tar.gz _gpgorigin" "$(ar t "$signed_deb" | paste -sd' ')" &&
    expect "deb contents" "$(dpkg-deb -c "$deb_amd64" | awk '{print $1, $2, $6}')" "$(dpkg-deb -c "$signed_deb" | awk '{print $1, $2, $6}')" &&
    expect "rpm files" "$(rpm -qp --qf '[%{FILEDIGESTS} %{FILENAMES}\n]' "$rpm_x86_64" 2>/dev/null)" \
      "$(rpm -qp --qf '[%{FILEDIGESTS} %{FILENAMES}\n]' "$signed_rpm" 2>/dev/null)"
}
check "signing: the signed pair holds the same files as the test build" signed_same
signatures_seen() { # what the publish script reads from the real files
  expect "signatures" "$signed_deb: signed $signed_rpm: signed $deb_amd64: unsigned $rpm_x86_64: unsigned" \
    "$("$bun" scripts/package-signature.ts "$signed_deb" "$signed_rpm" "$deb_amd64" "$rpm_x86_64" | paste -sd' ')"
}
check "signing: the publish script tells the signed pair from the test build" signatures_seen

# The unit as shipped, next to the host's systemd units and an executable at its path.
verify_unit() {
  local root="$work/verify-root" out
  mkdir -p "$root/usr/bin" "$root/usr/lib/systemd"
  ln -sfn usr/bin "$root/bin"
  cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
  cp /bin/kill "$root/usr/bin/kill"
  dpkg-deb --fsys-tarfile "$deb_amd64" | tar -x -C "$root" ./usr/lib/systemd/system/iofog-connector.service
  printf '#!/bin/sh\n' >"$root/usr/bin/iofog-connector"
  chmod 0755 "$root/usr/bin/iofog-connector"
  out=$(systemd-analyze verify --root="$root" "$root/usr/lib/systemd/system/iofog-connector.service" 2>&1) || { echo "$out"; return 1; }
  [ -z "$out" ] || { echo "$out"; return 1; }
}
check "systemd-analyze verify: the unit has no errors or warnings" verify_unit
score=$(systemd-analyze security --offline=true "$work/verify-root/usr/lib/systemd/system/iofog-connector.service" 2>/dev/null |
  sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
check "systemd-analyze security: exposure ${score:-?} (at most 2.5)" awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.5) }'

publish_dry_run() {
  local out file
  out=$("$bun" scripts/publish-packagecloud.ts --dry-run --distributions test/packaging/distributions.json) || return 1
  echo "$out"
  for file in "$deb_amd64" "$deb_arm64" "$rpm_x86_64" "$rpm_aarch64"; do
    grep -q "^  package\[package_file\]=@.*/$(basename "$file") (" <<<"$out" || { echo "no push of $file"; return 1; }
  done
  [ "$(grep -c '^POST https://packagecloud.io/api/v1/repos/iofog/iofog-connector/packages.json' <<<"$out")" -ge 4 ]
}
check "packagecloud: the dry run prints a push of each package" publish_dry_run

# ---------------------------------------------------------------- Debian roots

make_rootfs() {
  local dir="$work/bootstrap"
  timeout 600 debootstrap --variant=minbase --include=logrotate,systemd,systemd-sysv,procps bookworm "$dir" "$mirror" &&
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
      "$dir"/usr/share/doc "$dir"/usr/share/man "$dir"/usr/share/locale "$dir"/usr/share/info &&
    tar -C "$dir" -cf "$rootfs.part" . &&
    mv "$rootfs.part" "$rootfs" &&
    rm -rf --one-file-system "$dir"
}
if [ ! -f "$rootfs" ]; then
  step "debootstrap a minimal Debian 12 root (cached in $cache)" make_rootfs
fi

root=""
new_root() { # NAME [noproc]: $root becomes a fresh copy of the Debian root, with /proc mounted
  root="$work/$1"
  mkdir "$root"
  tar -C "$root" -xf "$rootfs"
  [ "${2:-}" = noproc ] && return 0
  mount -t proc proc "$root/proc"
  mounts+=("$root/proc")
}

as_user() { # COMMAND...: inside $root as the service user
  chroot "$root" setpriv --reuid="$user" --regid="$user" --init-groups "$@"
}

mode_is() { # "MODE OWNER:GROUP" PATH...: inside $root
  local expected=$1 path
  shift
  for path in "$@"; do
    expect "$path" "$expected" "$(chroot "$root" stat -c '%a %U:%G' "$path")" || return 1
  done
}

absent() { # PATH...: inside $root
  local path
  for path in "$@"; do
    if [ -e "$root$path" ] || [ -L "$root$path" ]; then echo "$path is still there"; return 1; fi
  done
}

same_as() { # PATH FILE: inside $root, byte for byte
  cmp "$root$1" "$2"
}

# A systemd that records what the maintainer scripts ask of it, and fails every start or
# restart (a port already taken, say), which must not fail the install.
fake_systemd() {
  mkdir -p "$root/run/systemd/system"
  cat >"$root/usr/bin/systemctl" <<'EOF'
#!/bin/sh
echo "$*" >>/run/systemctl.log
case "$1" in start | restart) exit 1 ;; esac
EOF
  chmod 0755 "$root/usr/bin/systemctl"
}
systemctl_calls() { # EXPECTED: the calls since the last look, one per line
  local status=0
  expect "systemctl calls" "$1" "$(cat "$root/run/systemctl.log" 2>/dev/null)" || status=1
  rm -f "$root/run/systemctl.log"
  return "$status"
}

daemon_pid=""
start_daemon() { # `iofog-connector start` as the user in $root, until `status` answers
  timeout 120 chroot "$root" setpriv --reuid="$user" --regid="$user" --init-groups \
    /usr/bin/iofog-connector start >"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  pids+=("$daemon_pid")
  for _ in $(seq 100); do
    if as_user /usr/bin/iofog-connector status >"$work/status.out" 2>&1; then
      cat "$work/status.out"
      return 0
    fi
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.2
  done
  cat "$work/status.out" "$work/daemon.log"
  return 1
}

stopped_within() { # PID: gone within 10 s
  for _ in $(seq 100); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "pid $1 still running"
  return 1
}

stop_daemon() { # `iofog-connector stop` as the user; the daemon must end
  as_user /usr/bin/iofog-connector stop && stopped_within "$daemon_pid"
}

user_is_locked_down() { # system user and group, no login shell, no other groups
  local entry
  entry=$(chroot "$root" getent passwd "$user") && echo "$entry" &&
    expect shell /usr/sbin/nologin "$(cut -d: -f7 <<<"$entry")" &&
    [ "$(cut -d: -f3 <<<"$entry")" -lt 1000 ] &&
    chroot "$root" getent group "$user" &&
    expect groups "$user" "$(chroot "$root" id -nG "$user")"
}

runs_version() { # as the user in $root
  local out
  out=$(as_user /usr/bin/iofog-connector version) && echo "$out" && grep -q "Connector $version" <<<"$out"
}

api_port=$("$bun" "$helper" free-ports 1 20000 29999)
# Inside the 1.x pool, below the kernel's ephemeral range so that no outgoing connection takes them.
read -r pool1 pool2 < <("$bun" "$helper" free-ports 2 30000 32767)

# ---- deb: fresh install, reinstall, remove, purge

fresh_modes() {
  mode_is "3770 root:$user" $etc &&
    mode_is "640 root:$user" $etc/iofog-connector.conf &&
    mode_is "600 $user:$user" $etc/configs.json &&
    mode_is "750 $user:$user" /var/log/iofog-connector &&
    mode_is "755 root:root" /usr/bin/iofog-connector &&
    mode_is "644 root:root" /usr/lib/systemd/system/iofog-connector.service /etc/logrotate.d/iofog-connector
}
others_locked_out() {
  ! chroot "$root" setpriv --reuid=nobody --regid=nogroup --clear-groups cat $etc/configs.json
}
state_journaled() {
  "$bun" "$helper" relay "http://127.0.0.1:$api_port" --add && grep -q '"port1"' "$root$etc/configs.json.journal" &&
    mode_is "600 $user:$user" $etc/configs.json.journal
}
state_folded() {
  grep -q '"port1"' "$root$etc/configs.json" && mode_is "600 $user:$user" $etc/configs.json &&
    absent $etc/.configs.json.tmp $etc/configs.json.journal
}
log_rotates() {
  chroot "$root" logrotate -f /etc/logrotate.d/iofog-connector &&
    [ -s "$root/var/log/iofog-connector/iofog-connector.log.1" ] &&
    [ ! -s "$root/var/log/iofog-connector/iofog-connector.log" ]
}
removed_keeps() {
  absent /usr/bin/iofog-connector /usr/lib/systemd/system/iofog-connector.service &&
    kept &&
    [ -s "$root/var/log/iofog-connector/iofog-connector.log.1" ] &&
    chroot "$root" getent passwd "$user"
}
purged() {
  absent $etc /var/log/iofog-connector /var/lib/iofog-connector /usr/share/iofog-connector /etc/logrotate.d/iofog-connector &&
    ! chroot "$root" getent passwd "$user" && ! chroot "$root" getent group "$user"
}

new_root fresh
fake_systemd
deb_in_root="/tmp/$(basename "$deb_amd64")"
cp "$deb_amd64" "$root/tmp/"
step "deb: dpkg -i installs into a fresh Debian root" chroot "$root" dpkg -i "$deb_in_root"
check "deb: with systemd running, install enables and starts the service (and survives a failed start)" \
  systemctl_calls "$(printf '%s\n' daemon-reload "enable iofog-connector.service" "restart iofog-connector.service")"
check "deb: system user and group, no login shell, no other groups" user_is_locked_down
seeded() { same_as $etc/iofog-connector.conf packaging/iofog-connector.conf && same_as $etc/configs.json packaging/configs.json; }
check "deb: defaults seeded into $etc" seeded
check "deb: owners and modes of what was installed" fresh_modes
check "deb: nothing left of the upgrade copy" absent /var/lib/iofog-connector
check "deb: 'iofog-connector version' runs as the user" runs_version
check "deb: other users cannot read the state file" others_locked_out
# The chroot shares the host's network: an API port that is free here, not 8080.
sed -i "s/\"dev\": true/\"dev\": true,\n  \"apiPort\": $api_port/" "$root$etc/iofog-connector.conf"
cp -p "$root$etc/iofog-connector.conf" "$work/operator.conf"
if attempt "deb: the daemon starts as the user in dev mode on the packaged settings and answers status" start_daemon; then
  check "deb: a mapping added through the API lands in the state file's journal, 600 $user" state_journaled
  check "deb: the daemon logs to /var/log/iofog-connector as the user" \
    mode_is "640 $user:$user" /var/log/iofog-connector/iofog-connector.log
  check "deb: 'iofog-connector stop' stops it" stop_daemon
  check "deb: the clean stop folded the journal into the state file, still 600 $user" state_folded
fi
check "deb: logrotate rotates the log with the packaged rule" log_rotates
cp -p "$root$etc/configs.json" "$work/state.json"
check "deb: reinstalling the same version works" chroot "$root" dpkg -i "$deb_in_root"
check "deb: an upgrade from 2.x only restarts a running service, keeping enable/disable as it was" \
  systemctl_calls "$(printf '%s\n' daemon-reload "try-restart iofog-connector.service")"
kept() { same_as $etc/iofog-connector.conf "$work/operator.conf" && same_as $etc/configs.json "$work/state.json"; }
check "deb: reinstall keeps the operator's settings and the state byte for byte" kept
check "deb: dpkg -r removes the package" chroot "$root" dpkg -r iofog-connector
check "deb: remove stops and disables the service" \
  systemctl_calls "$(printf '%s\n' "stop iofog-connector.service" "disable iofog-connector.service" daemon-reload)"
check "deb: remove keeps settings, state, logs and the user" removed_keeps
check "deb: dpkg -P purges it" chroot "$root" dpkg -P iofog-connector
check "deb: purge removes settings, state, logs, the user and the group" purged

# ---- deb: upgrade from 1.x

mapping_id=6e0f6a8e-7f3b-4c1e-9a55-1d2c3b4a5f60
passcode=0b403b65-3c1a-4a47-8c1e-5f7d2a9b1c3e
fake="$work/fake-1x"

# The fpm-built 1.x layout: every file plain (no conffiles), a SysV script that starts the
# daemon as root, two jars, and the settings, state, certificate and key under /etc.
make_1x_tree() {
  mkdir -p "$fake/etc/init.d" "$fake$etc" "$fake/usr/bin"
  cat >"$fake/etc/init.d/iofog-connector" <<'EOF'
#!/bin/sh
### BEGIN INIT INFO
# Provides:          iofog-connector
# Required-Start:    $local_fs $remote_fs $network $syslog
# Required-Stop:     $local_fs $remote_fs $network $syslog
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: Start/stop iofog-connector server
### END INIT INFO
case $1 in
  start) cd /usr/bin && java -jar iofog-connectord.jar start & ;;
  stop) cd /usr/bin && java -jar iofog-connectord.jar stop ;;
esac
EOF
  printf '#!/bin/sh\ncd /usr/bin\njava -jar /usr/bin/iofog-connector.jar "$@"\n' >"$fake/usr/bin/iofog-connector"
  chmod 0755 "$fake/etc/init.d/iofog-connector" "$fake/usr/bin/iofog-connector"
  printf 'PK\003\004 client jar\n' >"$fake/usr/bin/iofog-connector.jar"
  printf 'PK\003\004 daemon jar\n' >"$fake/usr/bin/iofog-connectord.jar"
  # An operator's settings; apiPort only because the test root shares the host's network.
  cat >"$fake$etc/iofog-connector.conf" <<EOF
{
  "ports": [
    "6000-6001",
    "7000-7002",
    "30000-39999",
    "40000-49999"
  ],
  "exclude": [
  "7001"
  ],
  "broker":12345,
  "address":"127.0.0.1",
  "dev": true,
  "apiPort": $api_port
}
EOF
  # As the Java Connector wrote it: numbers as strings.
  printf '{"mappings":[{"id":"%s","port1":"%s","port2":"%s","maxconnectionsport1":"60","maxconnectionsport2":"0","passcodeport1":"%s","passcodeport2":"","heartbeatabsencethresholdport1":"200000","heartbeatabsencethresholdport2":"0"}]}' \
    "$mapping_id" "$pool1" "$pool2" "$passcode" >"$fake$etc/configs.json"
  printf -- '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUb3BlcmF0b3IgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' >"$fake$etc/server-cert.pem"
  printf -- '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n' >"$fake$etc/server-key.pem"
  # What the 1.x postinst did, sudo rights and the /dev/random swap included.
  cat >"$work/postinst-1x" <<'EOF'
#!/bin/sh
useradd -r -U -s /usr/bin/nologin iofog-connector
usermod -aG sudo iofog-connector
mkdir -p /var/log/iofog-connector
echo "1.x log line" >>/var/log/iofog-connector/iofog-connector.0.log
chown -R :iofog-connector /etc/iofog-connector /var/log/iofog-connector
chmod 774 -R /etc/iofog-connector /var/log/iofog-connector
# What the group-writable 1.x log directory allowed: root's files linked into it.
ln /etc/shadow /var/log/iofog-connector/shadow.log
ln -s /etc/passwd /var/log/iofog-connector/passwd.log
mv /dev/random /dev/random.real
ln -s /dev/urandom /dev/random
update-rc.d iofog-connector defaults >/dev/null 2>&1 || true
ln -sf /usr/bin/iofog-connector /usr/local/bin/iofog-connector
EOF
}

make_1x_deb() {
  local dir="$work/fake-1x-deb"
  cp -a "$fake" "$dir"
  mkdir "$dir/DEBIAN"
  cat >"$dir/DEBIAN/control" <<'EOF'
Package: iofog-connector
Version: 1.3.0
Architecture: all
Maintainer: Eclipse ioFog <iofog-dev@eclipse.org>
Description: ioFog Connector 1.x (Java), simulated for the upgrade test
EOF
  cp "$work/postinst-1x" "$dir/DEBIAN/postinst"
  # fpm's prerm leaves the running daemon alone on upgrade.
  printf '#!/bin/sh\nexit 0\n' >"$dir/DEBIAN/prerm"
  chmod 0755 "$dir/DEBIAN/postinst" "$dir/DEBIAN/prerm"
  dpkg-deb --root-owner-group --build "$dir" "$work/iofog-connector_1.3.0_all.deb"
}

kept_1x_files() { # byte for byte
  local file
  for file in iofog-connector.conf configs.json server-cert.pem server-key.pem; do
    same_as "$etc/$file" "$fake$etc/$file" || return 1
  done
}
taken_over_modes() {
  mode_is "3770 root:$user" $etc &&
    mode_is "640 root:$user" $etc/iofog-connector.conf $etc/server-key.pem &&
    mode_is "644 root:$user" $etc/server-cert.pem &&
    mode_is "600 $user:$user" $etc/configs.json &&
    mode_is "750 $user:$user" /var/log/iofog-connector &&
    mode_is "640 $user:$user" /var/log/iofog-connector/iofog-connector.0.log
}
leftovers_gone() {
  absent /etc/init.d/iofog-connector /usr/bin/iofog-connector.jar /usr/bin/iofog-connectord.jar \
    /usr/local/bin/iofog-connector /var/lib/iofog-connector &&
    ! find "$root"/etc/rc?.d -name '*iofog-connector' | grep .
}
installed_like_1x() {
  expect groups "$user sudo" "$(chroot "$root" id -nG "$user")" &&
    [ -L "$root/etc/rc2.d/S01iofog-connector" ] && [ -L "$root/usr/local/bin/iofog-connector" ] &&
    [ -L "$root/dev/random" ] && [ -c "$root/dev/random.real" ]
}
links_left_alone() { # the files linked into the 1.x log directory keep their owners and modes
  mode_is "640 root:shadow" /etc/shadow && mode_is "644 root:root" /etc/passwd
}
random_restored() { [ -c "$root/dev/random" ] && [ ! -e "$root/dev/random.real" ]; }
installed_version() {
  # shellcheck disable=SC2016 # dpkg-query's own ${...} fields
  expect status "install ok installed $version" "$(chroot "$root" dpkg-query -W -f='${Status} ${Version}' iofog-connector)"
}
mapping_back() {
  expect "mapping list" "$mapping_id public $pool1 $pool2" "$("$bun" "$helper" list "http://127.0.0.1:$api_port")"
}

make_1x_tree
step "1.x: a simulated iofog-connector_1.3.0_all.deb builds" make_1x_deb
new_root upgrade
chroot "$root" getent group sudo >/dev/null || chroot "$root" groupadd --system sudo
cp "$work/iofog-connector_1.3.0_all.deb" "$deb_amd64" "$root/tmp/"
step "1.x: dpkg -i installs it" chroot "$root" dpkg -i /tmp/iofog-connector_1.3.0_all.deb
check "1.x: installed as 1.x did (sudo, rc links, /usr/local/bin link, /dev/random swapped)" installed_like_1x
fake_systemd
# The 1.x daemon as the upgrade finds it: a java process holding the mapping's port.
"$bun" "$helper" hold-port "$pool1" java -jar /usr/bin/iofog-connectord.jar start >/dev/null 2>&1 &
java_pid=$!
pids+=("$java_pid")
step "1.x: upgrade to $version with dpkg -i" chroot "$root" dpkg -i "$deb_in_root"
check "1.x upgrade: the running 1.x daemon was stopped" stopped_within "$java_pid"
check "1.x upgrade: the 1.x service was stopped, the new one enabled and started" \
  systemctl_calls "$(printf '%s\n' "stop iofog-connector.service" daemon-reload "enable iofog-connector.service" "restart iofog-connector.service")"
check "1.x upgrade: settings, state, certificate and key kept byte for byte" kept_1x_files
check "1.x upgrade: owners and modes taken over from 1.x" taken_over_modes
check "1.x upgrade: root's files hard- or symlinked into the 1.x log directory keep their owner and mode" links_left_alone
check "1.x upgrade: init script, jars, rc links and /usr/local/bin link gone" leftovers_gone
check "1.x upgrade: the user lost its sudo rights" user_is_locked_down
check "1.x upgrade: /dev/random is a device again" random_restored
check "1.x upgrade: dpkg has $version installed" installed_version
if attempt "1.x upgrade: the daemon starts on the 1.x settings and state" start_daemon; then
  check "1.x upgrade: the 1.x mapping is back with its id and ports" mapping_back
  check "1.x upgrade: its passcode authorizes an agent, and a public client is relayed both ways" \
    "$bun" "$helper" relay "http://127.0.0.1:$api_port" "$pool1" "$pool2" "$passcode"
  check "1.x upgrade: 'iofog-connector stop' stops it" stop_daemon
fi

# ---- deb: the service under a real systemd (systemd-nspawn, private network)

# Inside the booted container: waits for the service, records what the host checks, and
# powers off.
cat >"$work/in-container.sh" <<'EOF'
#!/bin/sh
exec >/result 2>&1
for _ in $(seq 100); do
  systemctl is-active --quiet iofog-connector && iofog-connector status >/dev/null 2>&1 && break
  sleep 0.2
done
echo "active=$(systemctl is-active iofog-connector)"
echo "enabled=$(systemctl is-enabled iofog-connector)"
iofog-connector status >/status.out 2>&1
echo "status=$?"
pid=$(systemctl show -p MainPID --value iofog-connector)
echo "user=$(stat -c %U "/proc/$pid")"
echo "capabilities=$(awk '/^CapEff/ {print $2}' "/proc/$pid/status")"
echo "seccomp=$(awk '/^Seccomp:/ {print $2}' "/proc/$pid/status")"
echo "no_new_privs=$(awk '/^NoNewPrivs/ {print $2}' "/proc/$pid/status")"
systemctl reload iofog-connector
echo "reload=$?"
sleep 0.5
iofog-connector status >>/status.out 2>&1
echo "status_after_reload=$?"
echo "same_pid=$([ "$(systemctl show -p MainPID --value iofog-connector)" = "$pid" ] && echo yes)"
journalctl -u iofog-connector --no-pager >/journal.out 2>&1
systemctl poweroff >/dev/null 2>&1
EOF

# As the README tells an operator: dev false, their certificate and key (key 0640, group
# iofog-connector), so the API is HTTPS on 443 through the unit's capability.
configure_tls() {
  sed -i 's/"dev": true/"dev": false/' "$root$etc/iofog-connector.conf" &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 -subj /CN=127.0.0.1 \
      -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
      -keyout "$root$etc/server-key.pem" -out "$root$etc/server-cert.pem" 2>&1 &&
    chroot "$root" chgrp "$user" $etc/server-key.pem $etc/server-cert.pem &&
    chmod 0640 "$root$etc/server-key.pem" && chmod 0644 "$root$etc/server-cert.pem"
}
boot_and_check() {
  install -m 0755 "$work/in-container.sh" "$root/usr/local/sbin/in-container"
  cat >"$root/etc/systemd/system/in-container.service" <<'EOF'
[Unit]
After=iofog-connector.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/in-container
[Install]
WantedBy=multi-user.target
EOF
  ln -s /etc/systemd/system/in-container.service "$root/etc/systemd/system/multi-user.target.wants/in-container.service"
  timeout -k 10 120 systemd-nspawn --quiet --directory="$root" --boot --private-network --register=no --keep-unit \
    >"$work/boot.log" 2>&1 </dev/null || true
  [ -f "$root/result" ] || { tail -n 40 "$work/boot.log"; return 1; }
  expect "in the container" "$(cat <<'EOF'
active=active
enabled=enabled
status=0
user=iofog-connector
capabilities=0000000000000400
seccomp=2
no_new_privs=1
reload=0
status_after_reload=0
same_pid=yes
EOF
)" "$(cat "$root/result")" || { cat "$root/status.out" "$root/journal.out"; return 1; }
  cat "$root/status.out"
}

new_root systemd noproc
cp "$deb_amd64" "$root/tmp/"
step "systemd: dpkg -i in a root with systemd installed but not running" chroot "$root" dpkg -i "$deb_in_root"
check "systemd: the install enabled the service for the next boot" \
  test -L "$root/etc/systemd/system/multi-user.target.wants/iofog-connector.service"
step "systemd: an operator's certificate and key, dev false" configure_tls
check "systemd: booted, the service runs as $user with only CAP_NET_BIND_SERVICE, seccomp and no new privileges; HTTPS status on 443 answers; reload keeps it running" boot_and_check

# ---- rpm: install and erase; upgrade from 1.x

rpm_in() { # ARGS...: rpm on $root; its scriptlets run chrooted there
  rpm --root "$root" "$@" 2> >(grep -v -e 'use Alien instead' -e 'assuming you know what you are doing' >&2)
}
all_files_there() {
  local file
  for file in $(rpm --root "$root" -ql iofog-connector); do
    [ -e "$root$file" ] || { echo "missing $file"; return 1; }
  done
}
rpm_setup_done() {
  chroot "$root" getent passwd "$user" &&
    same_as $etc/iofog-connector.conf packaging/iofog-connector.conf &&
    same_as $etc/configs.json packaging/configs.json &&
    mode_is "3770 root:$user" $etc &&
    mode_is "640 root:$user" $etc/iofog-connector.conf &&
    mode_is "600 $user:$user" $etc/configs.json
}
erase_keeps() {
  rpm_in -e iofog-connector && absent /usr/bin/iofog-connector &&
    [ -f "$root$etc/iofog-connector.conf" ] && [ -f "$root$etc/configs.json" ]
}
make_1x_rpm() {
  local dir="$work/fake-1x-rpm" file contents=""
  mkdir -p "$dir"
  # rpm.sh of 1.x: like the deb's postinst, but sudo through /etc/sudoers.
  sed -e 's/^usermod .*/echo "iofog-connector ALL=(ALL:ALL) ALL" >>\/etc\/sudoers/' "$work/postinst-1x" >"$dir/post.sh"
  for file in /etc/init.d/iofog-connector /usr/bin/iofog-connector /usr/bin/iofog-connector.jar /usr/bin/iofog-connectord.jar \
    $etc/iofog-connector.conf $etc/configs.json $etc/server-cert.pem $etc/server-key.pem; do
    contents+="  - { src: $fake$file, dst: $file, file_info: { mode: 0$(stat -c %a "$fake$file") } }"$'\n'
  done
  cat >"$dir/nfpm.yaml" <<EOF
name: iofog-connector
arch: all
version: 1.3.0
maintainer: Eclipse ioFog <iofog-dev@eclipse.org>
description: ioFog Connector 1.x (Java), simulated for the upgrade test
contents:
$contents
scripts:
  postinstall: $dir/post.sh
EOF
  "$nfpm" package --config "$dir/nfpm.yaml" --packager rpm --target "$work/iofog-connector-1.3.0-1.noarch.rpm"
}
rpm_upgraded() {
  mode_is "600 $user:$user" $etc/configs.json &&
    ! grep "$user" "$root/etc/sudoers" &&
    expect shell /usr/sbin/nologin "$(chroot "$root" getent passwd "$user" | cut -d: -f7)" &&
    absent /etc/init.d/iofog-connector /usr/bin/iofog-connectord.jar /var/lib/iofog-connector
}

new_root rpm
rpm --root "$root" --initdb
step "rpm: rpm -i installs into an rpm --root" rpm_in -i --nodeps "$rpm_x86_64"
check "rpm: every packaged file is in place" all_files_there
check "rpm: scriptlets made the user, seeded settings and state, set modes" rpm_setup_done
check "rpm: 'iofog-connector version' runs as the user" runs_version
check "rpm: rpm -e removes the program and keeps settings and state" erase_keeps

nfpm="${NFPM:-$cache/nfpm-$(sed -n 's/^NFPM_VERSION=\([^ ]*\).*/\1/p' scripts/package.sh)/nfpm}"
step "1.x: a simulated iofog-connector-1.3.0-1.noarch.rpm builds" make_1x_rpm
new_root rpm-upgrade
rpm --root "$root" --initdb
step "1.x rpm: rpm -i installs it" rpm_in -i --nodeps "$work/iofog-connector-1.3.0-1.noarch.rpm"
step "1.x rpm: rpm -U upgrades it to $version" rpm_in -U --nodeps "$rpm_x86_64"
check "1.x rpm upgrade: settings, state, certificate and key kept byte for byte" kept_1x_files
check "1.x rpm upgrade: state 600 $user, sudoers line, login shell and init script gone" rpm_upgraded
check "1.x rpm upgrade: root's files hard- or symlinked into the 1.x log directory keep their owner and mode" links_left_alone

# ---------------------------------------------------------------- arm64 under qemu

arm_dir="$work/arm64"
mkdir -p "$arm_dir"
arm_port=$("$bun" "$helper" free-ports 1 20000 29999)
arm_pool=$("$bun" "$helper" free-ports 1 20000 29899)
cat >"$arm_dir/iofog-connector.conf" <<EOF
{"ports": ["$arm_pool-$((arm_pool + 100))"], "broker": 12345, "address": "127.0.0.1", "dev": true,
 "apiPort": $arm_port, "logDir": "."}
EOF
qemu_version() {
  local out
  out=$(timeout 60 qemu-aarch64 -L /usr/aarch64-linux-gnu "$exe_arm64" version) && echo "$out" &&
    grep -q "Connector $version" <<<"$out"
}
arm_pid=""
arm_start() {
  timeout 120 qemu-aarch64 -L /usr/aarch64-linux-gnu "$exe_arm64" start --config "$arm_dir/iofog-connector.conf" \
    >"$arm_dir/daemon.log" 2>&1 &
  arm_pid=$!
  pids+=("$arm_pid")
  for _ in $(seq 240); do
    "$exe_x64" status --config "$arm_dir/iofog-connector.conf" && return 0
    kill -0 "$arm_pid" 2>/dev/null || break
    sleep 0.25
  done
  cat "$arm_dir/daemon.log"
  return 1
}
arm_stop() { "$exe_x64" stop --config "$arm_dir/iofog-connector.conf" && stopped_within "$arm_pid"; }

check "arm64: 'version' runs under qemu-aarch64" qemu_version
if attempt "arm64: the daemon starts under qemu in dev mode and answers status" arm_start; then
  check "arm64: a public mapping relays one connection (AUTHORIZED, bytes both ways)" \
    "$bun" "$helper" relay "http://127.0.0.1:$arm_port" --add
  check "arm64: 'iofog-connector stop' stops it" arm_stop
fi
