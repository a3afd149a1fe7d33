#!/bin/sh
# Builds the third-party boot assets the end-to-end VM tests need, into a cache directory.
# Nothing produced here is committed: the default output dir is gitignored.
#
#   make-boot-assets.sh [OUTPUT_DIR]     (default: <this dir>/cache)
#
# Produces in OUTPUT_DIR:
#   vmlinuz        Debian's kernel (the package linux-image-amd64 depends on), from its .deb
#   initrd.gz      newc cpio.gz of busybox-static whose /init prints
#                    PXEKIT-BOOT-OK <token>
#                  on the console (token = value of pxekit.token=... on the kernel command line,
#                  "none" if absent) and then powers the machine off (QEMU exits)
#   undionly.kpxe  iPXE for BIOS PXE clients       (copied from Debian's ipxe)
#   ipxe.efi       iPXE for UEFI x64, native drivers (copied from Debian's ipxe)
#   snponly.efi    iPXE for UEFI x64, firmware SNP driver (copied from Debian's ipxe)
#
# Idempotent: an asset already present is kept (delete it, or the directory, to rebuild).
# Exits non-zero naming the Debian package when something is missing.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/cache}
mkdir -p "$out"
out=$(cd "$out" && pwd)

fail() { echo "make-boot-assets: $*" >&2; exit 1; }
need_file() { [ -e "$1" ] || fail "$1 is missing; install Debian's '$2' (apt-get install -y $2)"; }
need_prog() { command -v "$1" >/dev/null 2>&1 || fail "'$1' is missing; install Debian's '$2' (apt-get install -y $2)"; }

need_file /bin/busybox busybox-static
# busybox-static's binary must really be static: it runs alone in the initrd.
if ! /bin/busybox 2>&1 | head -n 1 | grep -q BusyBox; then fail "/bin/busybox does not run; reinstall busybox-static"; fi
if command -v file >/dev/null 2>&1 && ! file -L /bin/busybox | grep -q 'statically linked'; then
    fail "/bin/busybox is not statically linked; install Debian's 'busybox-static' (not 'busybox')"
fi
for f in undionly.kpxe ipxe.efi snponly.efi; do need_file "/usr/lib/ipxe/$f" ipxe; done
need_prog dpkg-deb dpkg
need_prog gzip gzip

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"   # lets apt-get download write as _apt (no "unsandboxed" warning)

# --- iPXE binaries -------------------------------------------------------------------------
for f in undionly.kpxe ipxe.efi snponly.efi; do
    if [ ! -s "$out/$f" ]; then cp "/usr/lib/ipxe/$f" "$out/$f.tmp" && mv "$out/$f.tmp" "$out/$f"; fi
done

# --- kernel --------------------------------------------------------------------------------
if [ ! -s "$out/vmlinuz" ]; then
    need_prog apt-get apt
    need_prog apt-cache apt
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
    [ -n "$pkg" ] || fail "cannot resolve the kernel package of linux-image-amd64 (run apt-get update?)"
    echo "make-boot-assets: downloading $pkg" >&2
    (cd "$work" && apt-get download -q "$pkg" >&2) || fail "apt-get download $pkg failed"
    dpkg-deb -x "$work"/"$pkg"_*.deb "$work/kernel"
    kernel=$(ls "$work"/kernel/boot/vmlinuz-* | head -n 1)
    [ -s "$kernel" ] || fail "$pkg has no boot/vmlinuz-*"
    cp "$kernel" "$out/vmlinuz.tmp" && mv "$out/vmlinuz.tmp" "$out/vmlinuz"
    basename "$kernel" > "$out/vmlinuz.version"
fi

# --- initrd --------------------------------------------------------------------------------
if [ ! -s "$out/initrd.gz" ]; then
    root=$work/initrd
    mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
    cp /bin/busybox "$root/bin/busybox"
    for applet in sh mount sed cat echo poweroff sleep; do ln -s busybox "$root/bin/$applet"; done
    cat > "$root/init" <<'EOF'
#!/bin/sh
# PxeKit end-to-end test initrd: report the token from the kernel command line, then power off.
export PATH=/bin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t proc proc /proc
exec </dev/console >/dev/console 2>&1
token=none
for word in $(cat /proc/cmdline); do
    case "$word" in pxekit.token=*) token=${word#pxekit.token=} ;; esac
done
echo
echo "PXEKIT-BOOT-OK $token"
echo
poweroff -f
sleep 30
EOF
    chmod 755 "$root/init"
    (cd "$root" && find . | sort | /bin/busybox cpio -o -H newc 2>/dev/null) | gzip -9 -n > "$out/initrd.gz.tmp"
    mv "$out/initrd.gz.tmp" "$out/initrd.gz"
fi

ls -l "$out" >&2
echo "$out"
