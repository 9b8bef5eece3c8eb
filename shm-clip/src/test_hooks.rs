//! Test-only hooks, compiled in with the `test-hooks` feature and armed at run
//! time by `SHM_CLIP_TEST_PARK=<marker path>`.

/// Whether a test armed the park hook (read once: the copy path asks per copy).
pub(crate) fn armed() -> bool {
    static ARMED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ARMED.get_or_init(|| std::env::var_os("SHM_CLIP_TEST_PARK").is_some())
}

/// Parks this process forever at `point` if a test asked for it: the test
/// waits for the marker file, then SIGKILLs us while we hold the lock.
pub(crate) fn park_if_asked(point: &str) {
    // Checked once per process, so an unarmed copy pays no env lookups.
    if !armed() {
        return;
    }
    let Some(marker) = std::env::var_os("SHM_CLIP_TEST_PARK") else {
        return;
    };
    if std::env::var("SHM_CLIP_TEST_PARK_AT").is_ok_and(|at| at != point) {
        return;
    }
    let _ = std::fs::write(&marker, point);
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
