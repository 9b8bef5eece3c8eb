//! `shm-clip copy`: arguments, stdin or a file become the current clip.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use shm_clip::{Board, Clip, sniff_mime};

use crate::args::{CopyArgs, Global};
use crate::errors::CliError;
use crate::{human, open, output};

/// Reads the input, then commits it.
pub fn run(global: &Global, args: &CopyArgs) -> Result<(), CliError> {
    let board = open::or_create(global)?;
    let data = if args.text.is_empty() {
        read_input(&board, args.file.as_deref())?
    } else {
        join(&args.text)
    };
    let mime = args
        .mime
        .clone()
        .unwrap_or_else(|| sniff_mime(&data).to_owned());
    let size = data.len() as u64;
    tracing::debug!(size, mime, "copying");
    let outcome = board.copy(&Clip::new(mime.clone(), data))?;
    tracing::debug!(
        seq = outcome.seq,
        deduplicated = outcome.deduplicated,
        "copied"
    );
    if args.verbose {
        let again = if outcome.deduplicated {
            ", already in history: moved to the front"
        } else {
            ""
        };
        output::text(&format!(
            "copied {} as {mime} (seq {}{again})\n",
            human::size(size),
            outcome.seq
        ))?;
    }
    Ok(())
}

/// The arguments joined by single spaces, bytes as given (they need not be UTF-8).
fn join(words: &[std::ffi::OsString]) -> Vec<u8> {
    let mut text = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            text.push(b' ');
        }
        text.extend_from_slice(word.as_bytes());
    }
    text
}

/// Reads stdin or the file, refusing more than the board can hold.
fn read_input(board: &Board, file: Option<&Path>) -> Result<Vec<u8>, CliError> {
    // The arena size bounds the read; the library then applies the exact limit.
    let capacity = board.capacity();
    match file {
        Some(path) if path != Path::new("-") => {
            let name = path.display().to_string();
            let read_err = |source| CliError::Read {
                path: name.clone(),
                source,
            };
            let file = File::open(path).map_err(read_err)?;
            let hint = regular_file_len(&file);
            read_bounded(file, capacity, hint).map_err(|err| err.into_cli(&name))
        }
        _ => {
            let stdin = io::stdin();
            let hint = regular_file_len(&stdin);
            read_bounded(stdin.lock(), capacity, hint).map_err(|err| err.into_cli("stdin"))
        }
    }
}

/// The length of `fd` if it is a regular file, to refuse a large one before
/// reading it and to size the buffer exactly.
fn regular_file_len(fd: &impl AsFd) -> Option<u64> {
    let stat = nix::sys::stat::fstat(fd.as_fd()).ok()?;
    (stat.st_mode & libc::S_IFMT == libc::S_IFREG).then(|| u64::try_from(stat.st_size).unwrap_or(0))
}

/// Why bounded reading stopped.
#[derive(Debug)]
enum ReadError {
    Io(io::Error),
    /// At least this many bytes were offered to a board holding `limit`.
    TooLarge {
        size: u64,
        limit: u64,
    },
}

impl ReadError {
    fn into_cli(self, path: &str) -> CliError {
        match self {
            ReadError::Io(source) => CliError::Read {
                path: path.to_owned(),
                source,
            },
            ReadError::TooLarge { size, limit } => shm_clip::Error::ClipTooLarge {
                size,
                capacity: limit,
            }
            .into(),
        }
    }
}

/// Reads everything from `reader`, but never holds more than `limit + 1`
/// bytes: a stream larger than the board fails as soon as it passes `limit`.
fn read_bounded(reader: impl Read, limit: u64, hint: Option<u64>) -> Result<Vec<u8>, ReadError> {
    if let Some(len) = hint.filter(|&len| len > limit) {
        return Err(ReadError::TooLarge { size: len, limit });
    }
    // A pipe starts small and grows; a regular file is read into a buffer of
    // its size (plus one byte to see that it did not grow meanwhile).
    let initial = hint
        .map_or(64 << 10, |len| len.saturating_add(1))
        .min(limit.saturating_add(1));
    let mut data = Vec::with_capacity(usize::try_from(initial).unwrap_or(usize::MAX));
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(ReadError::Io)?;
    let size = data.len() as u64;
    if size > limit {
        tracing::debug!(limit, "input exceeds the board's capacity; stopped reading");
        return Err(ReadError::TooLarge { size, limit });
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_words_with_single_spaces() {
        let words = ["hello", "", "world"].map(std::ffi::OsString::from);
        assert_eq!(join(&words), b"hello  world");
    }

    #[test]
    fn reads_up_to_the_limit() {
        assert_eq!(read_bounded(&[1u8, 2, 3][..], 3, None).unwrap(), [1, 2, 3]);
        assert!(read_bounded(&[][..], 3, None).unwrap().is_empty());
    }

    #[test]
    fn stops_just_past_the_limit() {
        let endless = io::repeat(0);
        match read_bounded(endless, 1000, None) {
            Err(ReadError::TooLarge {
                size: 1001,
                limit: 1000,
            }) => {}
            other => panic!("unexpected {other:?}"),
        }
        match read_bounded(&[0u8; 10][..], 5, Some(10)) {
            Err(ReadError::TooLarge { size: 10, limit: 5 }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}
