//! Writing to stdout. Every write error becomes `CliError::Stdout`, so that a
//! closed pipe ends the program quietly (see `errors::report`).

use std::io::{self, Write};

use serde::Serialize;

use crate::errors::CliError;

/// Writes `bytes` to stdout as they are and flushes.
pub fn bytes(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(CliError::Stdout)
}

/// Writes `text` to stdout and flushes.
pub fn text(text: &str) -> Result<(), CliError> {
    bytes(text.as_bytes())
}

/// Writes `value` as pretty JSON and a newline.
pub fn json(value: &impl Serialize) -> Result<(), CliError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(io::Error::from)
        .map_err(CliError::Stdout)?;
    text.push('\n');
    self::text(&text)
}

/// Each item followed by a newline.
pub fn lines<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut text = String::new();
    for item in items {
        text.push_str(item);
        text.push('\n');
    }
    text
}
