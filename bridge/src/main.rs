//! The `shm-clip-bridge` command: parse, set up logging, dispatch, and turn
//! an error into `shm-clip-bridge: what (hint)` with exit status 1.
#![forbid(unsafe_code)]

mod args;

use std::process::ExitCode;

use clap::Parser;
use shm_clip_bridge::error::Error;
use shm_clip_bridge::key::{BoardKey, default_key_path};
use shm_clip_bridge::status::BridgeStatus;
use shm_clip_bridge::{config, run};

use crate::args::{Args, Command};

/// glibc raises its mmap threshold to the size of each large block freed,
/// up to 32 MiB; after one 30 MB clip, the next one comes from the heap and
/// its pages stay resident when freed, so the bridge would hold two clips'
/// worth of memory. A fixed threshold (which turns the raising off) keeps
/// every large buffer in its own mapping, returned when freed: the bridge
/// stays at about one clip (bridge/tests/large.rs measures it).
const MALLOC_TUNING: (&str, &str) = ("MALLOC_MMAP_THRESHOLD_", "131072");

/// Re-executes `run` with [`MALLOC_TUNING`] when it is not set yet. The
/// variable is read by the C library before `main`, hence the exec.
fn tune_malloc() {
    if std::env::var_os(MALLOC_TUNING.0).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let err = std::os::unix::process::CommandExt::exec(
        std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env(MALLOC_TUNING.0, MALLOC_TUNING.1),
    );
    // Only reached if the exec failed: run untuned rather than not at all.
    eprintln!(
        "shm-clip-bridge: cannot re-execute with {}: {err}",
        MALLOC_TUNING.0
    );
}

fn main() -> ExitCode {
    let args = Args::parse();
    if matches!(args.command, Command::Run(_)) {
        tune_malloc();
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,async_nats=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match args.command {
        Command::Run(run_args) => config::load(&run_args.overrides()).and_then(|settings| {
            if run_args.if_configured && !settings.key_file.exists() {
                eprintln!(
                    "shm-clip-bridge: no key file at {}: not bridging (make one with `shm-clip-bridge keygen`)",
                    settings.key_file.display()
                );
                return Ok(());
            }
            run::run(settings)
        }),
        Command::Keygen { keyfile } => keygen(keyfile),
        Command::Status { json } => {
            status(json);
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("shm-clip-bridge: {err}");
            if let Some(hint) = err.hint() {
                eprintln!("  hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}

fn keygen(path: Option<std::path::PathBuf>) -> Result<(), Error> {
    let path = path.or_else(default_key_path).ok_or_else(|| Error::Key {
        path: "bridge.key".into(),
        message: "no home directory: give the key file's path".into(),
    })?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
    }
    BoardKey::generate().write_new(&path)?;
    let p = path.display();
    println!("wrote a new board key to {p} (mode 0600)");
    println!("copy it to each machine that shares the board, keeping it private, e.g.:");
    println!("  scp -p {p} OTHER-MACHINE:{p}");
    println!(
        "then on each: shm-clip-bridge run --server nats://SERVER:4222 --key-file {p} --name NAME"
    );
    Ok(())
}

/// `bytes` as MiB with one decimal, for people.
fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
}

fn status(json: bool) {
    let all = BridgeStatus::all();
    if json {
        let with_running: Vec<serde_json::Value> = all
            .iter()
            .map(|s| {
                let mut v = serde_json::to_value(s).expect("plain data");
                v["running"] = serde_json::Value::Bool(s.running());
                v
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&with_running).expect("plain data")
        );
        return;
    }
    if all.is_empty() {
        println!("no bridge is running (start one with: shm-clip-bridge run)");
        return;
    }
    for s in all {
        let state = if !s.running() {
            "not running"
        } else if s.connected {
            "connected"
        } else {
            "disconnected (reconnecting)"
        };
        println!(
            "board {} as \"{}\" (pid {}): {state}",
            s.board, s.name, s.pid
        );
        println!("  servers:        {}", s.servers.join(", "));
        println!(
            "  stream:         {} (applied seq {}, lag {}, {} nodes)",
            s.stream, s.applied_seq, s.lag, s.nodes
        );
        println!(
            "  last remote:    {}",
            if s.last_remote_origin.is_empty() {
                "-"
            } else {
                &s.last_remote_origin
            }
        );
        println!(
            "  blobs in flight {}, outbox {}, published {}, applied {}, rejected {}",
            s.blobs_in_flight, s.outbox, s.published, s.applied, s.rejected
        );
        println!(
            "  selections:     {} published, {} applied",
            s.selections_published, s.selections_applied
        );
        println!(
            "  large clips:    {} taken from what was kept while they uploaded, {} downloaded after; {}",
            s.blobs_prefetched,
            s.blobs_downloaded,
            if s.prefetch_live {
                format!(
                    "{} kept now ({})",
                    s.prefetching,
                    mebibytes(s.prefetch_bytes)
                )
            } else {
                "not kept ahead here (prefetch off: allow_types refuses a type, or not started)"
                    .to_owned()
            }
        );
        if !s.last_error.is_empty() {
            println!("  last error:     {}", s.last_error);
        }
    }
}
