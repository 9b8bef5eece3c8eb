//! `shm-clip`, the command users run: `copy` and `paste` in the shapes the
//! fast path knows (`fast.rs`) run here; every other command line is handed
//! on, by exec, to [`FULL`] beside this binary, the full command line.
//!
//! Why two binaries: the CLI ships static-pie, and a static-pie binary
//! applies all of its relocations at every start, whatever runs. In one
//! binary holding every subcommand that was 9 500 relocations writing ~41
//! pages, 40 % of a paste's page faults; this one leaves out clap's command
//! tree, SQLite, the terminal picker and the archive, and has ~5 200
//! writing ~30 (BENCHMARKS.md, "The CLI as it ships"). The price is one more exec for
//! the other subcommands, which are not run in loops, and for a copy or
//! paste with `RUST_LOG` set (whose filter is left out too). `exec` keeps the
//! pid, the open files, the environment and `argv[0]`, so clap's usage
//! lines still say `shm-clip`, and the exit status is the full CLI's own.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::args::{Args, Command, Global};
use crate::errors::CliError;
use crate::{copy, fast, logging, paste};

/// The full command line's file name; it is installed beside `shm-clip`.
pub const FULL: &str = "shm-clip-full";

/// `shm-clip`'s `main`.
#[must_use]
pub fn main() -> ExitCode {
    let command_line: Vec<OsString> = std::env::args_os().collect();
    // With RUST_LOG the full CLI runs even a copy or a paste: its filter
    // (EnvFilter, and the regex crates behind it) is left out of this binary.
    let logging_asked = std::env::var_os("RUST_LOG").is_some();
    match (fast::enabled() && !logging_asked)
        .then(|| fast::parse(&command_line))
        .flatten()
    {
        Some(args) => crate::start(
            &args,
            shm_clip::Config::load(),
            "fast path",
            run,
            logging::init_default,
        ),
        None => exec_full(&command_line),
    }
}

/// Runs what the fast path yields: a copy or a paste.
fn run(args: &Args, global: &Global) -> Result<(), CliError> {
    match &args.command {
        Command::Copy(copy) => copy::run(global, copy),
        Command::Paste(paste) => paste::run(global, paste),
        // fast::parse yields nothing else; refuse rather than guess.
        _ => unreachable!("the fast path yields only copy and paste"),
    }
}

/// Replaces this process with the full command line, given the same words.
fn exec_full(command_line: &[OsString]) -> ExitCode {
    let full = full_path();
    let mut cmd = std::process::Command::new(&full);
    if let Some(arg0) = command_line.first() {
        cmd.arg0(arg0);
    }
    let err = cmd.args(command_line.iter().skip(1)).exec();
    let _ = writeln!(
        std::io::stderr(),
        "shm-clip: cannot run {}: {err} (every command but copy and paste runs there; \
         it belongs beside shm-clip: reinstall shm-clip)",
        full.display()
    );
    ExitCode::FAILURE
}

/// [`FULL`] in the directory of this executable (symlinks resolved).
fn full_path() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(FULL)))
        .unwrap_or_else(|| PathBuf::from(FULL))
}
