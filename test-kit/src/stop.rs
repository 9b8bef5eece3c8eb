//! Holding other processes still with SIGSTOP, and waiting for what `/proc`
//! says of them. A test that freezes a process to force an interleaving
//! needs "stopped" to mean that every thread of it has stopped, not that the
//! signal was sent: until then the process may still act, and the test would
//! check an order that did not happen.

use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How often `/proc` is looked at while waiting: a poll of an observable
/// state, with a deadline, not a sleep that stands for an event.
const POLL: Duration = Duration::from_micros(200);

fn pid_of(pid: u32) -> Pid {
    Pid::from_raw(i32::try_from(pid).expect("a pid fits in i32"))
}

/// The state letter of `/proc/<pid>/task/<tid>/stat` (or of `/proc/<pid>/stat`
/// for `tid` 0): it follows the parenthesised command name, which may itself
/// hold spaces and parentheses.
fn state(stat: &str) -> Option<char> {
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Sends SIGSTOP to `pid` and waits until each of its threads is stopped;
/// returns their thread ids. Fails the test after `timeout`.
pub fn stop(pid: u32, timeout: Duration) -> Vec<u32> {
    kill(pid_of(pid), Signal::SIGSTOP).expect("SIGSTOP");
    let deadline = Instant::now() + timeout;
    loop {
        let mut tids = Vec::new();
        let mut all_stopped = true;
        if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for task in dir.flatten() {
                let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
                    continue;
                };
                tids.push(tid);
                let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
                if !matches!(state(&stat), Some('T' | 't')) {
                    all_stopped = false;
                }
            }
        }
        if all_stopped && !tids.is_empty() {
            return tids;
        }
        assert!(
            Instant::now() < deadline,
            "process {pid} did not stop within {timeout:?}"
        );
        std::thread::sleep(POLL);
    }
}

/// SIGCONT: lets a process that [`stop`] held go on. A process that is gone
/// meanwhile is not an error.
pub fn resume(pid: u32) {
    let _ = kill(pid_of(pid), Signal::SIGCONT);
}

/// A process held with SIGSTOP, every thread of it stopped, until this is
/// dropped (then SIGCONT), even when the test fails meanwhile.
#[derive(Debug)]
#[must_use = "the process goes on as soon as this is dropped"]
pub struct Stopped(u32);

impl Stopped {
    /// How long a process may take to stop before the test fails.
    pub const TIMEOUT: Duration = Duration::from_secs(10);

    /// Stops `pid` ([`stop`]).
    pub fn new(pid: u32) -> Stopped {
        stop(pid, Self::TIMEOUT);
        Stopped(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        resume(self.0);
    }
}

/// True once `pid` has exited: gone from `/proc`, or a zombie that its
/// parent (perhaps init, for an orphan) has yet to reap.
pub fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => matches!(state(&stat), Some('Z' | 'X')),
        Err(_) => true,
    }
}

/// Ends a process that is not this one's child (so it cannot be waited
/// for), for example a program that a process under test started: SIGTERM,
/// then SIGKILL if it is still there after `grace`, and waits until it is
/// gone. Fails the test if even SIGKILL does not end it within `grace`.
pub fn terminate(pid: u32, grace: Duration) {
    let target = pid_of(pid);
    let _ = kill(target, Signal::SIGTERM);
    // A stopped process handles SIGTERM only once it runs again.
    let _ = kill(target, Signal::SIGCONT);
    for signal in [None, Some(Signal::SIGKILL)] {
        if let Some(signal) = signal {
            let _ = kill(target, signal);
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if is_gone(pid) {
                return;
            }
            std::thread::sleep(POLL);
        }
    }
    panic!("process {pid} is still running after SIGTERM and SIGKILL");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    fn the_state_follows_a_command_name_with_parentheses_and_spaces() {
        assert_eq!(state("42 (a (b) c) T 1 2"), Some('T'));
        assert_eq!(state("42 (x) S 1"), Some('S'));
        assert_eq!(state("garbage"), None);
    }

    #[test]
    fn a_stopped_child_is_stopped_until_dropped_then_terminated_is_gone() {
        // `cat` on an open pipe runs until it is ended.
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .spawn()
            .expect("cat");
        let pid = child.id();
        {
            let _held = Stopped::new(pid);
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
            assert_eq!(state(&stat), Some('T'));
        }
        assert!(!is_gone(pid));
        terminate(pid, Duration::from_secs(10));
        assert!(is_gone(pid), "a zombie counts as gone");
        let status = child.wait().unwrap();
        assert!(!status.success(), "ended by a signal: {status:?}");
    }
}
