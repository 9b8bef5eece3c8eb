//! `shm-clip copy`: arguments, stdin or a file become the current clip.

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{MsgFlags, recv};
use shm_clip::{Board, Clip, sniff_mime};

use crate::args::{ClearArgs, CopyArgs, Global};
use crate::errors::CliError;
use crate::{entries, human, open, output, primary};

/// How long a pipe on stdin may take to show that it carries data when TEXT
/// or --file is given: `echo a | shm-clip copy b` starts both at once.
const STDIN_GRACE_MS: u16 = 100;

/// Reads the input, then commits it.
pub fn run(global: &Global, args: &CopyArgs) -> Result<(), CliError> {
    if args.clear {
        return entries::clear(global, &ClearArgs::default());
    }
    let named = match (&args.text[..], args.file.as_deref()) {
        ([], None) => None,
        ([], Some(path)) if path == Path::new("-") => None,
        ([], Some(_)) => Some("--file"),
        _ => Some("TEXT arguments"),
    };
    if let Some(named) = named
        && stdin_offers_data()
    {
        return Err(CliError::TwoInputs { named });
    }
    if args.primary {
        return copy_primary(global, args);
    }
    let board = open::or_create(global)?;
    let data = if args.text.is_empty() {
        read_input(&board, args.file.as_deref(), args.mime.as_deref())?
    } else {
        join(&args.text)
    };
    let (data, mime) = trimmed_and_typed(args, data);
    let size = data.len() as u64;
    tracing::debug!(size, mime, "copying");
    let outcome = board.copy(&Clip::new(mime.clone(), data))?;
    open::leave_mapped(board);
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
            outcome.entry_seq
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

/// Whether stdin carries data, which the TEXT or --file given would ignore.
/// A terminal, /dev/null, an empty file and a pipe that stays silent for
/// [`STDIN_GRACE_MS`] do not. Nothing is read: in `while read l; do
/// shm-clip copy "$l"; done` stdin is the loop's own input, and a byte
/// taken (or 8 KiB, through `Stdin`'s buffer) would be a line lost to it.
fn stdin_offers_data() -> bool {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return false;
    }
    let Ok(stat) = nix::sys::stat::fstat(stdin.as_fd()) else {
        return false; // closed
    };
    let kind = stat.st_mode & libc::S_IFMT;
    match kind {
        libc::S_IFREG => stat.st_size > 0,
        libc::S_IFIFO | libc::S_IFSOCK => {
            let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
            if !matches!(poll(&mut fds, PollTimeout::from(STDIN_GRACE_MS)), Ok(n) if n > 0) {
                return false;
            }
            let readable = fds[0]
                .revents()
                .is_some_and(|r| r.contains(PollFlags::POLLIN));
            if kind == libc::S_IFIFO {
                // A pipe is readable only while it holds data: at its end
                // (the writer gone, nothing left) poll says POLLHUP alone.
                readable
            } else {
                // A socket is readable at its end too: peek at one byte.
                readable
                    && recv(
                        stdin.as_raw_fd(),
                        &mut [0u8],
                        MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT,
                    )
                    .is_ok_and(|n| n > 0)
            }
        }
        _ => false,
    }
}

/// Reads stdin or the file, refusing more than the board can hold.
fn read_input(board: &Board, file: Option<&Path>, mime: Option<&str>) -> Result<Vec<u8>, CliError> {
    // The read stops just past what the board could hold for any type (the
    // shortest MIME type has the least framing); once the type is known, the
    // refusal names the exact limit for it.
    let bound = board.max_clip_size(mime.unwrap_or(""));
    let too_large = |input: &str, err: ReadError| match err {
        ReadError::Io(source) => CliError::Read {
            path: input.to_owned(),
            source,
        },
        ReadError::TooLarge {
            size,
            exact,
            prefix,
        } => {
            let mime = mime.map_or_else(|| sniff_mime(&prefix).to_owned(), str::to_owned);
            CliError::InputTooLarge {
                input: input.to_owned(),
                size,
                exact,
                limit: board.max_clip_size(&mime),
                mime,
            }
        }
    };
    match file {
        Some(path) if path != Path::new("-") => {
            let name = path.display().to_string();
            let read_err = |source| CliError::Read {
                path: name.clone(),
                source,
            };
            let file = File::open(path).map_err(read_err)?;
            let hint = regular_file_len(&file);
            read_bounded(file, bound, hint).map_err(|err| too_large(&name, err))
        }
        _ => {
            let stdin = io::stdin();
            let hint = regular_file_len(&stdin);
            read_bounded(stdin.lock(), bound, hint).map_err(|err| too_large("stdin", err))
        }
    }
}

/// The input after `-n` (one trailing newline dropped), and its type:
/// `--type`, else sniffed.
fn trimmed_and_typed(args: &CopyArgs, mut data: Vec<u8>) -> (Vec<u8>, String) {
    if args.trim_newline && data.last() == Some(&b'\n') {
        data.pop();
    }
    let mime = args
        .mime
        .clone()
        .unwrap_or_else(|| sniff_mime(&data).to_owned());
    (data, mime)
}

/// `copy --primary`: the clip goes to the desktop's PRIMARY selection
/// through the tray, not into the board's history (as wl-copy --primary).
fn copy_primary(global: &Global, args: &CopyArgs) -> Result<(), CliError> {
    let data = if args.text.is_empty() {
        let bound = *shm_clip::CreateOptions::CAPACITY.end();
        let read = |input: &str, file: Box<dyn io::Read>| {
            read_bounded(file, bound, None).map_err(|err| match err {
                ReadError::Io(source) => CliError::Read {
                    path: input.to_owned(),
                    source,
                },
                ReadError::TooLarge { size, exact, .. } => CliError::InputTooLarge {
                    input: input.to_owned(),
                    size,
                    exact,
                    limit: bound,
                    mime: args.mime.clone().unwrap_or_default(),
                },
            })
        };
        match args.file.as_deref() {
            Some(path) if path != Path::new("-") => {
                let name = path.display().to_string();
                let file = File::open(path).map_err(|source| CliError::Read {
                    path: name.clone(),
                    source,
                })?;
                read(&name, Box::new(file))?
            }
            _ => read("stdin", Box::new(io::stdin()))?,
        }
    } else {
        join(&args.text)
    };
    let (data, mime) = trimmed_and_typed(args, data);
    primary::copy(global, &shm_clip::Representation { mime, data })
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
    /// The input holds `size` bytes (at least that many unless `exact`),
    /// more than the limit; `prefix` is what was read of it, for sniffing.
    TooLarge {
        size: u64,
        exact: bool,
        prefix: Vec<u8>,
    },
}

/// How much of a too-large regular file is read to sniff its type.
const SNIFF_LEN: u64 = 8 << 10;

/// Reads everything from `reader`, but never holds more than `limit + 1`
/// bytes: a stream larger than the board fails as soon as it passes `limit`.
fn read_bounded(
    mut reader: impl Read,
    limit: u64,
    hint: Option<u64>,
) -> Result<Vec<u8>, ReadError> {
    if let Some(len) = hint.filter(|&len| len > limit) {
        // A regular file's size is known exactly: read only enough to sniff.
        let mut prefix = Vec::new();
        (&mut reader)
            .take(SNIFF_LEN)
            .read_to_end(&mut prefix)
            .map_err(ReadError::Io)?;
        return Err(ReadError::TooLarge {
            size: len,
            exact: true,
            prefix,
        });
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
        return Err(ReadError::TooLarge {
            size,
            exact: false,
            prefix: data,
        });
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
                exact: false,
                ..
            }) => {}
            other => panic!("unexpected {other:?}"),
        }
        match read_bounded(&[0u8; 10][..], 5, Some(10)) {
            Err(ReadError::TooLarge {
                size: 10,
                exact: true,
                ..
            }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}
