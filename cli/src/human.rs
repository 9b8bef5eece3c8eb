//! Numbers and strings formatted for people: sizes, ages, fitted columns.

use std::io::IsTerminal;
use std::time::{Duration, SystemTime};

/// `1 entry`, `3 entries`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `12 B`, `1.2 KiB`, `64.0 MiB`.
pub fn size(bytes: u64) -> String {
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

/// How long ago `then` was: `5s`, `3m`, `2h`, `4d`.
pub fn age(then: SystemTime) -> String {
    let secs = SystemTime::now()
        .duration_since(then)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// `text` with control characters escaped, cut to `width` characters with `…`.
pub fn fit(text: &str, width: usize) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    if escaped.chars().count() <= width {
        return escaped;
    }
    let mut cut: String = escaped.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The width to fit stdout to: `COLUMNS` if set; else 100 on a terminal
/// (its real width needs an ioctl, and this crate has no unsafe code); else
/// unlimited, so that piped output is never cut.
pub fn output_width() -> usize {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|cols| cols.trim().parse().ok());
    match columns.filter(|&cols| cols > 0) {
        Some(cols) => cols,
        None if std::io::stdout().is_terminal() => 100,
        None => usize::MAX,
    }
}

/// A MIME type without its parameters: `text/plain;charset=utf-8` is `text/plain`.
pub fn mime_base(mime: &str) -> &str {
    mime.split(';').next().unwrap_or(mime).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1229), "1.2 KiB");
        assert_eq!(size(64 << 20), "64.0 MiB");
        assert_eq!(size(3 << 40), "3.0 TiB");
    }

    #[test]
    fn ages() {
        let ago = |secs| age(SystemTime::now() - Duration::from_secs(secs));
        assert_eq!(ago(5), "5s");
        assert_eq!(ago(180), "3m");
        assert_eq!(ago(7200), "2h");
        assert_eq!(ago(4 * 86_400), "4d");
    }

    #[test]
    fn fitting() {
        assert_eq!(fit("hello", 10), "hello");
        assert_eq!(fit("hello world", 6), "hello…");
        assert_eq!(fit("a\x1b[31mb", 20), "a\\u{1b}[31mb");
    }
}
