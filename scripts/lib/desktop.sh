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
    # -noreset: an X server resets when its last client leaves, and a client
    # connecting during the reset gets ECONNRESET ("Failed to open connection
    # to X server"), which tests that close every window and open the next
    # one hit on a busy machine.
    : >"$HELPER_DIR/display"
    Xvfb -displayfd 3 -noreset -screen 0 "${DESKTOP_SCREEN:-1280x800x24}" -nolisten tcp \
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
