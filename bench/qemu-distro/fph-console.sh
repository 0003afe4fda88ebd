#!/bin/bash
# Serial command loop of the distro guest (same FPH line protocol as the busybox anchor's
# init.sh). Started by fph-console.service after multi-user.target, stdin/stdout = /dev/ttyS0.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
stty -echo 2>/dev/null
echo "FPH-BOOT kernel=$(uname -r) nproc=$(nproc) cmdline=$(cat /proc/cmdline)"

show_virtio() {
    for d in /sys/bus/virtio/devices/*; do
        [ -e "$d" ] || { echo "FPH-VIRTIO none"; continue; }
        drv=none; [ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
        f=$(cat "$d/features")
        # features: one char per bit, bit 0 first; bit 3 = VIRTIO_BALLOON_F_FREE_PAGE_HINT
        echo "FPH-VIRTIO $(basename "$d") device=$(cat "$d/device") driver=$drv features=$f bit3_free_page_hint=$(echo "$f" | cut -c4) bit4_page_poison=$(echo "$f" | cut -c5) bit5_reporting=$(echo "$f" | cut -c6)"
    done
}
show_mem() {
    echo "FPH-MEM-BEGIN uptime=$(cut -d' ' -f1 /proc/uptime)"
    sed 's/^/FPH-BUDDY /' /proc/buddyinfo
    grep -E '^(MemTotal|MemFree|MemAvailable|Buffers|Cached|AnonPages|Slab|SReclaimable|SUnreclaim|PageTables|Shmem|KernelStack|Mapped|Active\(file\)|Inactive\(file\)|Active\(anon\)|Inactive\(anon\)|Percpu|VmallocUsed):' /proc/meminfo | sed 's/^/FPH-MEMINFO /'
    echo "FPH-MEM-END"
}
show_virtio
# balloon device only (virtio device id 5), like the anchor prints it first
dmesg | grep -i -E 'virtio_balloon|balloon' | sed 's/^/FPH-DMESG /'
echo "FPH-SYSTEMD state=$(systemctl is-system-running 2>/dev/null) units=$(systemctl list-units --state=running --no-legend 2>/dev/null | wc -l) procs=$(ls -d /proc/[0-9]* | wc -l)"
echo "FPH-READY"
while read -r cmd args; do
    case "$cmd" in
        mem) show_mem ;;
        virtio) show_virtio ;;
        busy) /usr/local/bin/churn busy $args & echo "FPH-BUSY-STARTED pid=$!" ;;
        verify) /usr/local/bin/churn verify $args & echo "FPH-BUSY-STARTED pid=$!" ;;
        fill) /usr/local/bin/churn fill $args; echo "FPH-FILL-DONE" ;;
        sh) eval "$args"; echo "FPH-SH-DONE rc=$?" ;;
        "") ;;
        *) echo "FPH-UNKNOWN $cmd" ;;
    esac
done
echo "FPH-CONSOLE-EOF"
sleep infinity
