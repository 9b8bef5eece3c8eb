# shellcheck shell=bash
# The fuzz step of scripts/test: install cargo-fuzz, build both targets of
# fuzz/, run each for 30 s. fuzz_run keeps its corpus and log in $HELPER_DIR.

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
    # board_ops' boards (fuzz-ops-PID) outlive the fuzzer, which exits
    # without dropping statics: remove them with the CLI the tests used.
    local board
    for board in $("$SHM_CLIP_BIN_DIR/shm-clip" boards | grep '^fuzz-ops-' || true); do
        "$SHM_CLIP_BIN_DIR/shm-clip" --board "$board" destroy --force >/dev/null
    done
}

