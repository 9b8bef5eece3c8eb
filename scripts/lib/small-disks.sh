# shellcheck shell=bash
# The full-disk tests mount small tmpfs file systems of their own (test-kit
# `SmallDisk`, under $TMPDIR/shm-clip-test.t-PID-NAME/): that needs root,
# and a test process killed before its drop leaves its mount behind.

# small_disks_prepare: fails, naming the fix, without root (the tests would
# fail one by one, minutes in); unmounts what test processes that are gone
# left mounted (a running one's, another checkout's tests, stays).
small_disks_prepare() {
    if ((EUID != 0)); then
        echo "error: the full-disk tests (test-kit SmallDisk) mount a small tmpfs, which needs root;" >&2
        echo "       run scripts/test as root (CI does), e.g. \`sudo -E scripts/test\`" >&2
        return 1
    fi
    local dev mnt fstype rest pid
    # /proc/mounts escapes spaces as \040; test paths have none.
    while read -r dev mnt fstype rest; do
        [[ $fstype == tmpfs && $mnt == */shm-clip-test.t-* ]] || continue
        pid=${mnt##*/shm-clip-test.t-}
        pid=${pid%%-*}
        [[ $pid =~ ^[0-9]+$ ]] || continue
        if kill -0 "$pid" 2>/dev/null; then
            continue
        fi
        echo "unmounting $mnt, left mounted by test process $pid (gone)"
        umount "$mnt" 2>/dev/null || umount -l "$mnt"
    done < <(cat /proc/mounts)
}
