# shellcheck shell=bash
# The binaries as they ship: both built with cargo, then the CLI relinked
# against a static glibc (static-pie).
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
#
# SHM_CLIP_PACKAGE_PROFILE picks the cargo profile: `release` (the default,
# what ships) or `dev`, which scripts/test uses to check the packaging with
# the binaries its tests already built instead of a second, release build
# of everything (most of the CI time otherwise).

package_profile() {
    echo "${SHM_CLIP_PACKAGE_PROFILE:-release}"
}

# The directory under target/ that holds the profile's binaries.
package_profile_dir() {
    local profile
    profile=$(package_profile)
    [[ $profile == dev ]] && echo debug || echo "$profile"
}

# Builds the two binaries as `cargo deb -p shm-clip-cli` does (the same
# command line, so the same feature set and artifacts), which also writes the
# man pages and completions (cli/build.rs, app/build.rs), then relinks the CLI.
release_build() {
    local profile
    profile=$(package_profile)
    cargo build --profile "$profile" --locked "$@" --manifest-path cli/Cargo.toml \
        --workspace --bin shm-clip --bin shm-clip-full --bin shm-clip-app --bin shm-clip-bridge
    release_relink_static "$@"
}

# Relinks the CLI's two binaries (`shm-clip` and the `shm-clip-full` it execs
# for all but copy and paste, cli/src/front.rs) against a static glibc, from
# the dependencies already built.
release_relink_static() {
    local bin
    for bin in shm-clip shm-clip-full; do
        cargo rustc --profile "$(package_profile)" --locked "$@" -p shm-clip-cli --bin "$bin" \
            -- -C target-feature=+crt-static
    done
}
