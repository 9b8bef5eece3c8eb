# shellcheck shell=bash
# The release binaries as they ship: both built with `cargo build --release`,
# then the CLI relinked against a static glibc (static-pie).
#
# Why static: `shm-clip paste` is a whole process per paste, and a dynamic
# start costs more than the paste itself. perf of the dynamic CLI put a
# quarter of its samples in ld.so (13 000 relative relocations, mapping
# libc and libgcc_s); static-pie cut `paste` from 2.5 to 1.1 ms of CPU
# (perf stat -r 200) and from 2.8 to 1.8 ms wall, against 1.2 ms for
# /bin/true. The CLI dlopens nothing and needs no NSS beyond the files
# backend that static glibc carries. The app stays dynamic: it dlopens GL,
# X11 and Wayland libraries, which a static glibc cannot do safely.
#
# `cargo rustc` passes the flag to the binary's own link only, so the
# dependencies are the ones `cargo build` just made; ~15 s.
release_build() {
    cargo build --release --locked "$@" -p shm-clip -p shm-clip-app --bins
    cargo rustc --release --locked "$@" -p shm-clip --bin shm-clip -- -C target-feature=+crt-static
}
