# shellcheck shell=bash
# The private desktop that scripts/test and the bench scripts run under: an
# Xvfb on a display it picks itself, and a session bus, both in a fresh 0700
# directory, with XDG_RUNTIME_DIR inside it. Source it, then call
# start_helpers; the caller kills "${HELPER_PIDS[@]}" and removes
# "$HELPER_DIR" on exit. DESKTOP_SCREEN sets Xvfb's screen (WxHxD).

HELPER_DIR=""
HELPER_PIDS=()

# wait_for_line FILE PID WHAT: waits until FILE holds a full line, which a
# helper writes once it is ready; fails if PID dies or 20 s pass.
wait_for_line() {
    local file=$1 pid=$2 what=$3 i
    for ((i = 0; i < 200; i++)); do
        if read -r _ <"$file"; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "error: $what exited before it was ready; its log:" >&2
            cat "$HELPER_DIR/$what.log" >&2 || true
            return 1
        fi
        sleep 0.1
    done
    echo "error: $what was not ready after 20 s" >&2
    return 1
}

start_helpers() {
    HELPER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shm-clip-desktop.XXXXXX")
    chmod 0700 "$HELPER_DIR"
    export XDG_RUNTIME_DIR="$HELPER_DIR/runtime"
    mkdir -m 0700 "$XDG_RUNTIME_DIR"
    # Without it, GTK/atk start an accessibility bus that outlives the run.
    export NO_AT_BRIDGE=1

    # A free display chosen by the server itself: a fixed :99 can collide
    # with another X server, and then windows silently go to the wrong one.
    : >"$HELPER_DIR/display"
    Xvfb -displayfd 3 -screen 0 "${DESKTOP_SCREEN:-1280x800x24}" -nolisten tcp \
        3>"$HELPER_DIR/display" >"$HELPER_DIR/Xvfb.log" 2>&1 &
    HELPER_PIDS+=("$!")
    wait_for_line "$HELPER_DIR/display" "$!" Xvfb
    local display
    read -r display <"$HELPER_DIR/display"
    export DISPLAY=":$display"

    # The socket goes in our own directory, which the EXIT trap removes.
    : >"$HELPER_DIR/dbus-address"
    dbus-daemon --session --nofork --nopidfile --print-address=3 \
        --address="unix:dir=$HELPER_DIR" \
        3>"$HELPER_DIR/dbus-address" >"$HELPER_DIR/dbus-daemon.log" 2>&1 &
    HELPER_PIDS+=("$!")
    wait_for_line "$HELPER_DIR/dbus-address" "$!" dbus-daemon
    local address
    read -r address <"$HELPER_DIR/dbus-address"
    export DBUS_SESSION_BUS_ADDRESS="$address"

    echo "Xvfb pid ${HELPER_PIDS[0]} on DISPLAY=$DISPLAY"
    echo "dbus-daemon pid ${HELPER_PIDS[1]} at DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS"
    echo "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR"
}

# The fuzz step's tools: cargo-fuzz, pinned as scripts/check-packaging pins
# cargo-deb, and installed if missing: the fuzz step never skips.
CARGO_FUZZ_VERSION=0.13.1
ensure_cargo_fuzz() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "installing cargo-fuzz $CARGO_FUZZ_VERSION"
        cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
    fi
    cargo fuzz --version
}

# fuzz_build: builds both targets of fuzz/ (a crate outside the workspace).
# cargo-fuzz needs nightly flags (-Zsanitizer); RUSTC_BOOTSTRAP allows them
# on stable.
fuzz_build() {
    (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build)
}

# fuzz_run TARGET MAX_LEN: runs one target for 30 s from its seeds, into a
# fresh corpus. A crash, a leak or a hang (10 s for one input) makes
# libFuzzer exit non-zero: then the log's end and the input's path are shown.
fuzz_run() {
    local target=$1 max_len=$2
    local corpus="$HELPER_DIR/fuzz-corpus-$target" log="$HELPER_DIR/fuzz-$target.log"
    mkdir -p "$corpus"
    if ! (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "$corpus" "seeds/$target" -- \
        -max_total_time=30 -timeout=10 -max_len="$max_len" -print_final_stats=1) >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "error: fuzz target $target failed; the input is in fuzz/artifacts/$target/ (fuzz/README.md says how to reproduce it)" >&2
        return 1
    fi
    grep -E '^(Done |stat::(number_of_executed_units|average_exec_per_sec|new_units_added))' "$log"
}

