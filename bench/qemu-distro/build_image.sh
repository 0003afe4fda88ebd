#!/bin/bash
# Build a Debian 12 (bookworm) server guest for the FPH harness, under WORK (default /tmp/qemu-distro):
#   WORK/rootfs/            debootstrap tree (default variant: required + important priority, systemd)
#   WORK/disk.raw           raw ext4 image of rootfs (IMG_SIZE, default 3G), booted as /dev/vda
#   WORK/vmlinuz, initrd.img  the kernel + initrd the rootfs itself installed (/boot/*)
#   WORK/guest.json         kernel version, package list, sizes
# Needs root, debootstrap, e2fsprogs (mkfs.ext4 -d), gcc + libc6-dev (static churn).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# The project's QEMU harness (churn.c, qmp.py), beside the repository: ../shared/anchors/qemu-fph.
ANCHOR=${ANCHOR:-$(cd "$HERE/../../.." && pwd)/shared/anchors/qemu-fph}
WORK=${WORK:-/tmp/qemu-distro}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
IMG_SIZE=${IMG_SIZE:-3G}
INCLUDE=${INCLUDE:-linux-image-amd64,initramfs-tools,systemd-sysv,openssh-server,cron,rsyslog,procps}
R=$WORK/rootfs
mkdir -p "$WORK"

if [ ! -e "$R/.debootstrap-done" ]; then
    rm -rf "$R"
    debootstrap --arch=amd64 --include="$INCLUDE" bookworm "$R" "$MIRROR"
    touch "$R/.debootstrap-done"
fi

cleanup() { for m in dev/pts dev proc sys; do mountpoint -q "$R/$m" && umount -l "$R/$m" || true; done; }
trap cleanup EXIT
mount -t proc proc "$R/proc"; mount -t sysfs sys "$R/sys"
mount --bind /dev "$R/dev"; mount --bind /dev/pts "$R/dev/pts"

# apt sources incl. security + updates, then upgrade (a maintained server is up to date)
cat > "$R/etc/apt/sources.list" <<SRC
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SRC
chroot "$R" env DEBIAN_FRONTEND=noninteractive apt-get update -q
chroot "$R" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confold dist-upgrade
chroot "$R" apt-get clean

echo distro-guest > "$R/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 distro-guest\n' > "$R/etc/hosts"
printf '/dev/vda / ext4 errors=remount-ro 0 1\n' > "$R/etc/fstab"
# one NIC (virtio-net, QEMU user network): DHCP via ifupdown, as a default Debian install does
printf 'auto lo\niface lo inet loopback\n\nallow-hotplug eth0\niface eth0 inet dhcp\n' > "$R/etc/network/interfaces"
# fixed machine-id, so that every (snapshot=on) boot is not a systemd "first boot"
chroot "$R" sh -c 'rm -f /etc/machine-id && systemd-machine-id-setup'
# no password needed: the console is driven by the FPH loop; keep root locked
# virtio modules: balloon loaded at boot, blk/pci in the initrd
echo virtio_balloon > "$R/etc/modules-load.d/virtio_balloon.conf"
printf 'virtio_pci\nvirtio_blk\n' >> "$R/etc/initramfs-tools/modules"
sort -u -o "$R/etc/initramfs-tools/modules" "$R/etc/initramfs-tools/modules"
# FPH serial command loop instead of a getty on ttyS0
gcc -O2 -static -pthread -Wall -o "$R/usr/local/bin/churn" "$ANCHOR/churn.c"
install -m 755 "$HERE/fph-console.sh" "$R/usr/local/sbin/fph-console.sh"
install -m 644 "$HERE/fph-console.service" "$R/etc/systemd/system/fph-console.service"
chroot "$R" systemctl enable fph-console.service
chroot "$R" systemctl mask serial-getty@ttyS0.service
chroot "$R" update-initramfs -u -k all

KVER=$(basename "$(ls "$R"/boot/vmlinuz-* | sort -V | tail -1)" | sed 's/^vmlinuz-//')
cp "$R/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
cp "$R/boot/initrd.img-$KVER" "$WORK/initrd.img"
chroot "$R" lsinitramfs "/boot/initrd.img-$KVER" | grep -E 'virtio_(blk|pci)' || { echo "virtio_blk/virtio_pci missing from initrd" >&2; exit 1; }
chroot "$R" dpkg-query -W -f '${Package} ${Version}\n' > "$WORK/packages.txt"
cleanup; trap - EXIT

rm -f "$WORK/disk.raw"
truncate -s "$IMG_SIZE" "$WORK/disk.raw"
mkfs.ext4 -q -F -L root -d "$R" "$WORK/disk.raw"
python3 - "$WORK" "$KVER" "$INCLUDE" <<'PY'
import json, os, sys
work, kver, inc = sys.argv[1:]
pk = open(os.path.join(work, "packages.txt")).read().split("\n")
info = {"kernel_version": kver,
        "kernel_pkg": [l for l in pk if l.startswith("linux-image-" + kver)],
        "debootstrap_include": inc, "n_packages": len([l for l in pk if l]),
        "disk_bytes": os.path.getsize(os.path.join(work, "disk.raw")),
        "initrd_bytes": os.path.getsize(os.path.join(work, "initrd.img"))}
json.dump(info, open(os.path.join(work, "guest.json"), "w"), indent=1)
print(json.dumps(info, indent=1))
PY
