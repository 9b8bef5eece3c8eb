//! `shm-clip status`: the board's segment, sizes, counters and subscribers.

use std::fmt::Write as _;

use shm_clip::Status;

use crate::args::{Global, JsonArgs};
use crate::errors::CliError;
use crate::{human, json, open, output};

/// Prints the status of an existing board.
pub fn run(global: &Global, args: &JsonArgs) -> Result<(), CliError> {
    let board = open::existing(global)?;
    let status = board.status()?;
    if args.json {
        return output::json(&json::Versioned::new(json::Status::from(&status)));
    }
    output::text(&render(&status))
}

/// The status as aligned `label: value` lines.
fn render(s: &Status) -> String {
    let mut text = String::new();
    let mut line = |label: &str, value: String| {
        // Writing to a String cannot fail.
        let _ = writeln!(text, "{label:<13}{value}");
    };
    line("board:", s.name.clone());
    line(
        "segment:",
        format!("{} ({})", s.path.display(), human::size(s.segment_size)),
    );
    line(
        "owner:",
        format!("uid {}, mode {:04o}", s.owner_uid, s.mode & 0o7777),
    );
    line("layout:", format!("version {}", s.layout_version));
    line("capacity:", with_bytes(s.capacity));
    let percent = if s.capacity == 0 {
        0.0
    } else {
        s.used as f64 * 100.0 / s.capacity as f64
    };
    line("used:", format!("{}, {percent:.1}%", with_bytes(s.used)));
    line("seq:", s.seq.to_string());
    line("entries:", format!("{} of {}", s.entries, s.max_entries));
    line(
        "lock:",
        format!(
            "{} acquisitions, {} contended, {} recoveries",
            s.lock.acquisitions, s.lock.contended, s.lock.recoveries
        ),
    );
    line(
        "subscribers:",
        format!("{} of {}", s.subscribers.len(), s.max_subscribers),
    );
    let last = match &s.last_change {
        Some(change) => format!("{} ago by {}", human::age(change.at), change.origin),
        None => "never".to_owned(),
    };
    for sub in &s.subscribers {
        let pending = sub
            .pending
            .map_or_else(|| "?".to_owned(), |n| n.to_string());
        let _ = writeln!(
            text,
            "  {}  mailbox {}  pending {pending}",
            sub.origin, sub.mailbox
        );
    }
    let _ = writeln!(text, "{:<13}{last}", "last change:");
    text
}

/// `64.0 MiB (67108864 bytes)`.
fn with_bytes(bytes: u64) -> String {
    format!("{} ({bytes} bytes)", human::size(bytes))
}
