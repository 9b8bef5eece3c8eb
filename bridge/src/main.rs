//! The `shm-clip-bridge` command: parse, set up logging, dispatch, and turn
//! an error into `shm-clip-bridge: what (hint)` with exit status 1.
#![forbid(unsafe_code)]

mod args;

use std::process::ExitCode;

use clap::Parser;
use shm_clip_bridge::error::Error;
use shm_clip_bridge::key::{BoardKey, default_key_path};
use shm_clip_bridge::status::BridgeStatus;

use crate::args::{Args, Command};

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,async_nats=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match args.command {
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
        if !s.last_error.is_empty() {
            println!("  last error:     {}", s.last_error);
        }
    }
}
