# shellcheck shell=bash
# A test process killed before its drops ran (a SIGKILL, a timeout, a
# machine that stopped) leaves its boards behind: test-kit's TestBoard names
# them t-PID-NAME, with a segment in /dev/shm, mailboxes in /dev/mqueue and a
# scratch directory under the temporary directory. They cost shared memory
# (up to the board's capacity each) until the next reboot.

# test_leftovers_remove: removes what test processes that are gone left
# behind; a running process's boards (another checkout's tests) stay. Run
# after small_disks_prepare, which unmounts their tmpfs mounts first.
test_leftovers_remove() {
    local uid path base pid removed=0
    uid=$(id -u)
    local tmp=${TMPDIR:-/tmp}
    for path in /dev/shm/shm-clip."$uid".t-* /dev/mqueue/shm-clip."$uid".t-* "$tmp"/shm-clip-test.t-*; do
        [[ -e $path || -L $path ]] || continue
        # shm-clip.UID.t-PID-NAME[@mailbox] or shm-clip-test.t-PID-NAME.
        base=${path##*/}
        pid=${base#*.t-}
        pid=${pid%%-*}
        [[ $pid =~ ^[0-9]+$ ]] || continue
        kill -0 "$pid" 2>/dev/null && continue
        # --one-file-system: a mount left inside is never emptied.
        rm -rf --one-file-system -- "$path"
        removed=$((removed + 1))
    done
    echo "removed ${removed} boards, mailboxes and scratch directories of test processes that are gone"
}
