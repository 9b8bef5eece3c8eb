//! `shm-clip-test-kit`: helpers shared by the library's and the CLI's
//! multi-process integration tests (`use shm_clip_test_kit as common;`).
//!
//! A test that needs other processes re-runs its own test binary
//! (`std::env::current_exe()`) with `--exact <test> --nocapture` and the role
//! to play in `SHM_CLIP_ROLE`. The same `#[test]` function sees the role and
//! acts as the child. Children report to the parent on stdout with lines that
//! start with `@@ `, which keeps them apart from the test harness's own output.
//!
//! Every test works on its own board (named after this process and the test),
//! and a [`TestBoard`] guard destroys it even when the test fails. Every wait
//! has a deadline: a child that overruns it is killed and the test fails.
#![allow(
    clippy::must_use_candidate,
    clippy::missing_panics_doc,
    reason = "test helpers: they panic to fail the test, and callers know what they return"
)]

use std::fmt::Display;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, mq_close, mq_open};
use nix::sys::stat::Mode;
use shm_clip::{Board, BoardName, CreateOptions, Origin, OriginKind};

/// A marker in raw bytes or a file.
mod bytes;
/// nats-server processes for the bridge's tests.
pub mod nats;
/// SIGSTOP with a wait until stopped, and ending processes that are not ours.
pub mod stop;
/// A small tmpfs for full-disk tests.
mod tmpfs;

pub use bytes::{contains, file_contains, file_contains_folded};
pub use stop::Stopped;
pub use tmpfs::SmallDisk;

/// The role a re-run test binary plays; unset in the parent.
pub const ROLE_VAR: &str = "SHM_CLIP_ROLE";
/// The board a child works on.
pub const BOARD_VAR: &str = "SHM_CLIP_TEST_BOARD";
/// A scratch directory shared by a test and its children.
pub const DIR_VAR: &str = "SHM_CLIP_TEST_DIR";
/// What the library's test hook writes before it parks inside the lock.
pub const PARK_VAR: &str = "SHM_CLIP_TEST_PARK";
/// Which park point the armed hook parks at (any point when unset).
pub const PARK_AT_VAR: &str = "SHM_CLIP_TEST_PARK_AT";

/// How long a child may run unless a test says otherwise.
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(30);

/// The prefix of a child's report lines.
const REPORT: &str = "@@ ";

/// The role of this process, if it is a child.
pub fn role() -> Option<String> {
    std::env::var(ROLE_VAR).ok()
}

/// The effective uid, which names our segments and mailboxes.
pub fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Where board `name` of user `uid` lives.
pub fn segment_path_for(uid: u32, name: &str) -> PathBuf {
    PathBuf::from(format!("/dev/shm/shm-clip.{uid}.{name}"))
}

/// Runs `f` on a named thread (`std::thread::spawn` is disallowed).
pub fn spawn_named<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .expect("spawn thread")
}

/// Runs `f` on a thread and fails the test if it has not finished within
/// `timeout`: a watchdog for calls into the library that could block.
pub fn within<T: Send + 'static>(
    what: &str,
    timeout: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = spawn_named(what, move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(timeout) {
        Ok(value) => {
            let _ = handle.join();
            value
        }
        Err(RecvTimeoutError::Timeout) => panic!("{what}: still running after {timeout:?}"),
        Err(RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("{what}: the thread ended without a result"),
        },
    }
}

/// Polls until `path` exists; fails the test after `timeout`.
pub fn wait_for_file(path: &Path, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} did not appear within {timeout:?}",
            path.display()
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// A board (and a scratch directory) for one test. Dropping it destroys the
/// board and removes whatever is left at its path, even when the test fails.
#[allow(
    missing_debug_implementations,
    reason = "a test helper; its children and threads have no useful Debug"
)]
pub struct TestBoard {
    pub name: BoardName,
    pub dir: PathBuf,
}

impl TestBoard {
    /// A fresh, not yet created board named after this process and `test`.
    pub fn new(test: &str) -> Self {
        let raw = format!("t-{}-{test}", std::process::id());
        assert!(raw.len() <= 64, "board name {raw} is too long");
        let name = BoardName::new(&raw).expect("valid test board name");
        let dir = std::env::temp_dir().join(format!("shm-clip-test.{raw}"));
        let tb = TestBoard { name, dir };
        tb.remove_leftovers();
        std::fs::create_dir_all(&tb.dir).expect("create the scratch directory");
        tb
    }

    /// The segment's path for this process's effective uid.
    pub fn path(&self) -> PathBuf {
        segment_path_for(euid(), self.name.as_str())
    }

    /// Opens the board, creating it with `opts` if needed.
    pub fn open(&self, opts: CreateOptions) -> Board {
        Board::open_with(
            &self.name,
            Origin::this_process(OriginKind::Cli),
            Some(opts),
        )
        .expect("open the test board")
    }

    /// A file in the scratch directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A command that re-runs `test` of this binary as a child playing `role`.
    pub fn child_command(&self, test: &str, role: &str) -> Command {
        self.child_command_of(&std::env::current_exe().expect("current_exe"), test, role)
    }

    /// Like [`TestBoard::child_command`], for a child that runs as another
    /// user: it execs `exe` (a [`SharedExe`] of this binary) from the
    /// directory that holds it, which that user can reach.
    pub fn foreign_child_command(&self, exe: &SharedExe, test: &str, role: &str) -> Command {
        let mut cmd = self.child_command_of(&exe.path, test, role);
        cmd.current_dir(&exe.dir);
        cmd
    }

    fn child_command_of(&self, exe: &Path, test: &str, role: &str) -> Command {
        let mut cmd = Command::new(exe);
        cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
            .env(ROLE_VAR, role)
            .env(BOARD_VAR, self.name.as_str())
            .env(DIR_VAR, &self.dir)
            .env("RUST_BACKTRACE", "1")
            .env_remove(PARK_VAR)
            .env_remove(PARK_AT_VAR);
        cmd
    }

    /// Starts `test` as a child playing `role`, with extra environment.
    pub fn spawn(&self, test: &str, role: &str, env: &[(&str, &str)]) -> Proc {
        let mut cmd = self.child_command(test, role);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Proc::spawn(cmd, &format!("{test}/{role}"))
    }

    /// Waits until `n` children wait at the barrier, then releases them at once.
    pub fn release(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let ready = std::fs::read_dir(&self.dir)
                .expect("read the scratch directory")
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("ready-"))
                .count();
            if ready >= n {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "only {ready} of {n} children reached the barrier within {timeout:?}"
            );
            thread::sleep(Duration::from_millis(2));
        }
        std::fs::write(self.file("go"), b"go").expect("write the go file");
    }

    fn remove_leftovers(&self) {
        let _ = Board::destroy(&self.name, true);
        let path = self.path();
        if std::fs::symlink_metadata(&path).is_ok() {
            let _ = std::fs::remove_file(&path);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for TestBoard {
    fn drop(&mut self) {
        self.remove_leftovers();
    }
}

/// A copy of this test binary that every user can execute: a 0755 file in a
/// fresh 0755 directory under the temporary directory. A child that runs as
/// another user (setuid `nobody`) cannot exec the binary in `target/` when
/// the clone lives in a 0700 home such as `/root/project`. Dropping it
/// removes the copy.
#[derive(Debug)]
pub struct SharedExe {
    pub dir: PathBuf,
    pub path: PathBuf,
}

impl SharedExe {
    #[allow(
        clippy::new_without_default,
        reason = "new() copies a file: not a cheap default"
    )]
    pub fn new() -> Self {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let exe = std::env::current_exe().expect("current_exe");
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("shm-clip-exe.{}.{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::DirBuilder::new()
            .mode(0o755)
            .create(&dir)
            .unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        // The umask may have taken bits away.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        for parent in dir.ancestors().skip(1) {
            let mode = std::fs::metadata(parent).map_or(0, |m| m.mode());
            assert!(
                mode & 0o001 != 0,
                "{} (mode {:04o}) is closed to other users, so a child running as one cannot \
                 reach {}: point TMPDIR at a directory they can enter, such as /tmp",
                parent.display(),
                mode & 0o7777,
                dir.display()
            );
        }
        let path = dir.join(exe.file_name().expect("the test binary's name"));
        std::fs::copy(&exe, &path)
            .unwrap_or_else(|e| panic!("copying {} to {}: {e}", exe.display(), path.display()));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        SharedExe { dir, path }
    }
}

impl Drop for SharedExe {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running child process with its stdout delivered line by line.
#[allow(
    missing_debug_implementations,
    reason = "a test helper; its children and threads have no useful Debug"
)]
pub struct Proc {
    child: Child,
    label: String,
    lines: Receiver<String>,
    seen: Vec<String>,
    stdout: Option<JoinHandle<()>>,
    stderr: Option<JoinHandle<String>>,
}

/// What a child left behind.
#[allow(
    missing_debug_implementations,
    reason = "a test helper; its children and threads have no useful Debug"
)]
pub struct Finished {
    pub status: ExitStatus,
    pub lines: Vec<String>,
    pub stderr: String,
}

impl Finished {
    /// The payloads of the child's `@@ key ...` report lines.
    pub fn reports(&self, key: &str) -> Vec<String> {
        self.lines
            .iter()
            .filter_map(|l| report_value(l, key))
            .collect()
    }

    /// The payload of the only `@@ key ...` report line.
    pub fn report(&self, key: &str) -> String {
        let mut all = self.reports(key);
        assert_eq!(
            all.len(),
            1,
            "expected one {key:?} report in {:?}",
            self.lines
        );
        all.pop().expect("one report")
    }
}

fn report_value(line: &str, key: &str) -> Option<String> {
    let rest = line.strip_prefix(REPORT)?.strip_prefix(key)?;
    if rest.is_empty() {
        return Some(String::new());
    }
    rest.strip_prefix(' ').map(str::to_owned)
}

impl Proc {
    /// Starts `cmd` with piped stdout and stderr.
    pub fn spawn(mut cmd: Command, label: &str) -> Proc {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {label}: {e}"));
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().expect("piped stdout");
        let stdout = spawn_named("child-stdout", move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut err = child.stderr.take().expect("piped stderr");
        let stderr = spawn_named("child-stderr", move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        Proc {
            child,
            label: label.to_owned(),
            lines,
            seen: Vec::new(),
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }

    /// The child's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the child's next `@@ key ...` report and returns its payload.
    pub fn expect_report(&mut self, key: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let value = report_value(&line, key);
                    self.seen.push(line);
                    if let Some(value) = value {
                        return value;
                    }
                }
                Err(e) => {
                    let what = match e {
                        RecvTimeoutError::Timeout => "timed out",
                        RecvTimeoutError::Disconnected => "the child closed stdout",
                    };
                    self.kill();
                    let stderr = self.take_stderr();
                    panic!(
                        "{}: waiting for report {key:?}: {what}\nstdout: {:#?}\nstderr: {stderr}",
                        self.label, self.seen
                    );
                }
            }
        }
    }

    /// Waits until `path` exists, failing early if the child exits first.
    pub fn wait_for_file(&mut self, path: &Path, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !path.exists() {
            let exited = self.child.try_wait().expect("try_wait");
            if exited.is_some() || Instant::now() >= deadline {
                self.kill();
                let stderr = self.take_stderr();
                let lines: Vec<String> = self.lines.try_iter().collect();
                panic!(
                    "{}: {} did not appear (exit status {exited:?})\nstdout: {lines:#?}\nstderr: {stderr}",
                    self.label,
                    path.display()
                );
            }
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// If the child has exited: its stderr (it is reaped). `None` while it runs.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(None) => None,
            _ => Some(self.take_stderr()),
        }
    }

    /// Sends SIGKILL and reaps the child (a zombie still looks alive).
    pub fn kill(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }

    fn take_stderr(&mut self) -> String {
        self.stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Waits for the child to exit; kills it and fails the test after `timeout`.
    pub fn finish(mut self, timeout: Duration) -> Finished {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() >= deadline {
                self.kill();
                let stderr = self.take_stderr();
                panic!(
                    "{}: still running after {timeout:?}; killed\nstdout: {:#?}\nstderr: {stderr}",
                    self.label, self.seen
                );
            }
            thread::sleep(Duration::from_millis(2));
        };
        if let Some(h) = self.stdout.take() {
            let _ = h.join();
        }
        let mut lines = std::mem::take(&mut self.seen);
        lines.extend(self.lines.try_iter());
        Finished {
            status,
            lines,
            stderr: self.take_stderr(),
        }
    }

    /// Like [`Proc::finish`], and fails the test unless the child succeeded.
    pub fn finish_ok(self, timeout: Duration) -> Finished {
        let label = self.label.clone();
        let done = self.finish(timeout);
        assert!(
            done.status.success(),
            "{label} failed with {}\nstdout: {:#?}\nstderr: {}",
            done.status,
            done.lines,
            done.stderr
        );
        done
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // Never leave a child behind, whatever happened to the test.
        self.kill();
    }
}

/// Waits for every process, failing on the first one that overruns the
/// common deadline or fails.
pub fn finish_all(procs: Vec<Proc>, timeout: Duration) -> Vec<Finished> {
    let deadline = Instant::now() + timeout;
    procs
        .into_iter()
        .map(|p| p.finish_ok(deadline.saturating_duration_since(Instant::now())))
        .collect()
}

// ---- child side ----

/// In a child: prints a report line for the parent.
pub fn report(key: &str, value: impl Display) {
    let mut out = std::io::stdout().lock();
    // The leading newline ends whatever the test harness printed last
    // ("test name ... "), so that every report starts its own line.
    writeln!(out, "\n{REPORT}{key} {value}").expect("write a report");
    out.flush().expect("flush a report");
}

/// In a child: the board the parent named.
pub fn child_board_name() -> BoardName {
    BoardName::new(&std::env::var(BOARD_VAR).expect("SHM_CLIP_TEST_BOARD is set"))
        .expect("valid board name")
}

/// In a child: the parent's scratch directory.
pub fn child_dir() -> PathBuf {
    PathBuf::from(std::env::var_os(DIR_VAR).expect("SHM_CLIP_TEST_DIR is set"))
}

/// In a child: a variable the parent set.
pub fn child_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set"))
}

/// In a child: opens the board, creating it with `opts` if given.
pub fn child_open(opts: Option<CreateOptions>) -> Board {
    Board::open_with(
        &child_board_name(),
        Origin::this_process(OriginKind::Cli),
        opts,
    )
    .expect("child opens the board")
}

/// In a child: announces that it is ready as `id`, then waits for the
/// parent's go, so that all children start at the same moment.
pub fn child_barrier(id: &str) {
    let dir = child_dir();
    std::fs::write(dir.join(format!("ready-{id}")), b"").expect("write the ready file");
    wait_for_file(&dir.join("go"), Duration::from_secs(30));
}

/// In a child: waits (politely) to be killed. Exits by itself if the parent
/// is gone or after a minute, so that nothing is ever left running.
pub fn linger_until_killed() -> ! {
    let parent = nix::unistd::getppid();
    let deadline = Instant::now() + Duration::from_secs(60);
    while nix::unistd::getppid() == parent && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    std::process::exit(3)
}

// ---- message queues ----

/// Whether the POSIX message queue `name` exists, checked with `mq_open`.
pub fn mq_exists(name: &str) -> bool {
    match mq_open(
        name,
        MQ_OFlag::O_RDONLY | MQ_OFlag::O_NONBLOCK,
        Mode::empty(),
        None,
    ) {
        Ok(mq) => {
            mq_close(mq).expect("mq_close");
            true
        }
        Err(Errno::ENOENT) => false,
        Err(errno) => panic!("mq_open {name}: {errno}"),
    }
}

// ---- files ----

/// Everything about a file that a refused open must leave as it was.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub bytes: Vec<u8>,
    pub len: u64,
    pub mode: u32,
    pub uid: u32,
    pub ino: u64,
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

/// Reads `path` and its metadata, without following a symlink for the metadata.
pub fn snapshot(path: &Path) -> Snapshot {
    let md =
        std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
    let bytes = if md.file_type().is_file() {
        std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    } else {
        Vec::new()
    };
    Snapshot {
        bytes,
        len: md.len(),
        mode: md.mode(),
        uid: md.uid(),
        ino: md.ino(),
        mtime: (md.mtime(), md.mtime_nsec()),
        ctime: (md.ctime(), md.ctime_nsec()),
    }
}

// ---- self-verifying content ----

/// `splitmix64`: a tiny, good-enough deterministic generator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

const SV_MAGIC: &[u8; 8] = b"SVCLIP01";
const SV_HEADER: usize = 32;

/// A 64-bit hash over 8-byte words; any changed byte changes it.
fn sv_hash(writer: u32, counter: u32, body: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64
        ^ (u64::from(writer) << 32 | u64::from(counter)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ (body.len() as u64).rotate_left(17);
    let mut words = body.chunks_exact(8);
    for w in &mut words {
        let v = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        h = (h ^ v).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (h >> 33)
}

/// Content that proves its own integrity: a header naming its writer, its
/// counter and its body length, a hash over all of it, then the body.
pub fn self_verifying(writer: u32, counter: u32, body_len: usize) -> Vec<u8> {
    let mut rng = Rng::new(u64::from(writer) << 32 | u64::from(counter));
    let mut body = Vec::with_capacity(body_len + 8);
    while body.len() < body_len {
        body.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    body.truncate(body_len);
    let mut out = Vec::with_capacity(SV_HEADER + body_len);
    out.extend_from_slice(SV_MAGIC);
    out.extend_from_slice(&writer.to_le_bytes());
    out.extend_from_slice(&counter.to_le_bytes());
    out.extend_from_slice(&(body_len as u64).to_le_bytes());
    out.extend_from_slice(&sv_hash(writer, counter, &body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Checks content made by [`self_verifying`]; returns its writer and counter.
pub fn verify_self_verifying(bytes: &[u8]) -> Result<(u32, u32), String> {
    if bytes.len() < SV_HEADER {
        return Err(format!("{} bytes is shorter than the header", bytes.len()));
    }
    if &bytes[..8] != SV_MAGIC {
        return Err(format!("bad magic {:02x?}", &bytes[..8]));
    }
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().expect("4 bytes"));
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().expect("8 bytes"));
    let (writer, counter, len, hash) = (u32_at(8), u32_at(12), u64_at(16), u64_at(24));
    let body = &bytes[SV_HEADER..];
    if body.len() as u64 != len {
        return Err(format!(
            "writer {writer} counter {counter}: body is {} bytes, header says {len}",
            body.len()
        ));
    }
    if sv_hash(writer, counter, body) != hash {
        return Err(format!("writer {writer} counter {counter}: hash mismatch"));
    }
    Ok((writer, counter))
}

/// Waits for `child` until `timeout`; if it is still running then, stops it
/// with `kill`, reaps it and returns `None`.
pub fn wait_or_kill(
    child: &mut Child,
    timeout: Duration,
    kill: impl FnOnce(&mut Child),
) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            kill(child);
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// The variable that names the directory holding the workspace's binaries
/// (`shm-clip`, `shm-clip-app`) for tests in packages that do not own them.
pub const BIN_DIR_VAR: &str = "SHM_CLIP_BIN_DIR";

/// A workspace binary that this test's package does not own (Cargo sets
/// `CARGO_BIN_EXE_*` only for a package's own binaries). It is looked up in
/// `$SHM_CLIP_BIN_DIR`, else in this test's own `target/<profile>`. Tests
/// never build anything: `cargo build --workspace --bins` does, as
/// scripts/test does before the tests (and sets the variable).
pub fn workspace_bin(name: &str) -> PathBuf {
    let dir = std::env::var_os(BIN_DIR_VAR).map_or_else(
        || {
            let exe = std::env::current_exe().expect("current_exe");
            // target/<profile>/deps/NAME-HASH
            exe.parent()
                .and_then(Path::parent)
                .expect("target/<profile>")
                .to_owned()
        },
        PathBuf::from,
    );
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} does not exist: build the binaries first with `cargo build --workspace --bins` \
         (scripts/test does), or point {BIN_DIR_VAR} at them",
        path.display()
    );
    path
}
