//! Numbers, ages and names as the window shows them.

use std::time::{Duration, SystemTime};

use shm_clip::{Origin, OriginKind};

/// `1 entry`, `2 entries`, `0 characters`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if let Some(stem) = noun.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {noun}s")
    }
}

/// A byte count for people: `512 B`, `1.5 KiB`, `64.0 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// How long ago `then` was, as a label, and how long that label stays true.
///
/// The window repaints when the soonest label expires. Each repaint of an
/// idle window costs CPU (all of it, with a software renderer), so labels
/// count minutes, not seconds: an idle window wakes at most once a minute
/// for them, then once an hour, then once a day.
pub fn age(then: SystemTime, now: SystemTime) -> (String, Duration) {
    let age = now.duration_since(then).unwrap_or_default();
    let secs = age.as_secs();
    let until = |unit: u64| {
        Duration::from_secs(unit - secs % unit)
            .saturating_sub(Duration::from_nanos(u64::from(age.subsec_nanos())))
    };
    match secs {
        0..60 => ("just now".into(), until(60)),
        60..3600 => (format!("{} min ago", secs / 60), until(60)),
        3600..86_400 => (format!("{} h ago", secs / 3600), until(3600)),
        _ => (format!("{} d ago", secs / 86_400), until(86_400)),
    }
}

/// Who a change came from: `window 1234`, `cli 77`, `tray 42`, with
/// `(this window)` for our own process.
pub fn origin(origin: &Origin, own_pid: u32) -> String {
    let who = match origin.kind {
        OriginKind::App => format!("window {}", origin.pid),
        // A clip from another machine: its label names it (`bridge: laptop`).
        OriginKind::Bridge if !origin.label.is_empty() => origin.label.clone(),
        kind => format!("{kind} {}", origin.pid),
    };
    if origin.pid == own_pid && origin.kind == OriginKind::App {
        format!("{who} (this window)")
    } else {
        who
    }
}

/// A MIME type without its parameters: `text/plain;charset=utf-8` → `text/plain`.
pub fn short_mime(mime: &str) -> &str {
    mime.split(';').next().unwrap_or(mime).trim()
}

/// A latency: `850 µs`, `12.3 ms`, `1.20 s`.
pub fn latency(d: Duration) -> String {
    let us = d.as_micros();
    if us < 1000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.1} ms", us as f64 / 1000.0)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_plurals_read_well() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(64 << 20), "64.0 MiB");
        assert_eq!(plural(1, "entry"), "1 entry");
        assert_eq!(plural(0, "entry"), "0 entries");
        assert_eq!(plural(3, "subscriber"), "3 subscribers");
    }

    #[test]
    fn ages_say_when_they_change() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |s: f64| t0 + Duration::from_secs_f64(s);
        assert_eq!(
            age(t0, at(0.5)),
            ("just now".into(), Duration::from_secs_f64(59.5))
        );
        assert_eq!(age(t0, at(59.75)).1, Duration::from_secs_f64(0.25));
        assert_eq!(
            age(t0, at(61.0)),
            ("1 min ago".into(), Duration::from_secs(59))
        );
        assert_eq!(
            age(t0, at(150.0)),
            ("2 min ago".into(), Duration::from_secs(30))
        );
        assert_eq!(age(t0, at(7200.0)).0, "2 h ago");
        assert_eq!(age(t0, at(3.0 * 86_400.0)).0, "3 d ago");
        // A clock that went backwards reads as now.
        assert_eq!(age(at(10.0), t0).0, "just now");
    }

    #[test]
    fn origins_name_the_program_and_this_window() {
        let o = |kind, pid| Origin {
            pid,
            kind,
            label: String::new(),
        };
        assert_eq!(origin(&o(OriginKind::App, 7), 9), "window 7");
        assert_eq!(origin(&o(OriginKind::App, 9), 9), "window 9 (this window)");
        assert_eq!(origin(&o(OriginKind::Cli, 9), 9), "cli 9");
        assert_eq!(origin(&o(OriginKind::Tray, 3), 9), "tray 3");
        let remote = Origin {
            label: "bridge: laptop".into(),
            ..o(OriginKind::Bridge, 5)
        };
        assert_eq!(origin(&remote, 9), "bridge: laptop");
    }

    #[test]
    fn latencies_pick_a_unit() {
        assert_eq!(latency(Duration::from_micros(850)), "850 µs");
        assert_eq!(latency(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(latency(Duration::from_millis(1200)), "1.20 s");
    }
}
