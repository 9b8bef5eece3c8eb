//! The fast path: the common shapes of `copy` and `paste` recognised before
//! clap is built.
//!
//! Building clap's command tree (every subcommand with its help, and
//! config.toml's defaults written into it) is most of what a `paste` costs
//! beyond the process itself (BENCHMARKS.md, "The CLI as it ships"). These
//! shapes need none of it:
//!
//! ```text
//! shm-clip [--board NAME] (paste | -o) [-n | --no-newline] [--board NAME]
//! shm-clip [--board NAME] (copy | -i)  [-n | --trim-newline] [--board NAME] [TEXT]...
//! ```
//!
//! After the subcommand its options and TEXT words come in any order;
//! `--board=NAME` works as well. The result is the very [`Args`] that clap
//! would have built, so what runs next is the same code (the unit tests
//! below compare the two for every shape, `cli/tests/fast_path.rs` the
//! processes). Anything else, an option given twice, a word that starts with
//! `-`, a board name that clap would refuse, goes to clap unchanged, which
//! then accepts it or says what is wrong exactly as before.
//!
//! `SHM_CLIP_FAST_PATH=0` turns the fast path off: every command line goes
//! to clap.

use std::ffi::{OsStr, OsString};

use shm_clip::BoardName;

use crate::args::{Args, BoardArg, Command, CopyArgs, CreateArgs, PasteArgs};

/// The variable that turns the fast path off when set to `0`.
pub const FAST_PATH_ENV: &str = "SHM_CLIP_FAST_PATH";

/// Whether the fast path may be tried (`SHM_CLIP_FAST_PATH` is not `0`).
pub fn enabled() -> bool {
    std::env::var_os(FAST_PATH_ENV).is_none_or(|value| value != "0")
}

/// The arguments of `argv` (program name first), if it has one of the
/// shapes above; `None` sends it to clap.
pub fn parse(argv: &[OsString]) -> Option<Args> {
    let mut words = argv.get(1..)?.iter();
    let mut before = None;
    let subcommand = loop {
        let word = words.next()?;
        if !take_board(word, &mut words, &mut before)? {
            break word.to_str()?;
        }
    };
    let board = BoardArg { board: before };
    let command = match subcommand {
        "paste" | "-o" => Command::Paste(paste(words)?),
        "copy" | "-i" => Command::Copy(copy(words)?),
        _ => return None,
    };
    Some(Args {
        board,
        create: CreateArgs::default(),
        command,
    })
}

/// `paste`'s options: `-n`/`--no-newline` and `--board`, each at most once.
fn paste<'a>(mut words: impl Iterator<Item = &'a OsString>) -> Option<PasteArgs> {
    let mut board = None;
    let mut no_newline = false;
    while let Some(word) = words.next() {
        if take_board(word, &mut words, &mut board)? {
            continue;
        }
        match word.to_str()? {
            "-n" | "--no-newline" if !no_newline => no_newline = true,
            _ => return None,
        }
    }
    Some(PasteArgs {
        mime: None,
        list_types: false,
        entry: None,
        seq: None,
        menu_line: false,
        no_newline,
        force: false,
        primary: false,
        board: BoardArg { board },
    })
}

/// `copy`'s TEXT words and options: `-n`/`--trim-newline` and `--board`,
/// each at most once.
fn copy<'a>(mut words: impl Iterator<Item = &'a OsString>) -> Option<CopyArgs> {
    let mut board = None;
    let mut trim_newline = false;
    let mut text = Vec::new();
    while let Some(word) = words.next() {
        if take_board(word, &mut words, &mut board)? {
            continue;
        }
        if !looks_like_option(word) {
            // Bytes as given, as clap's OsString keeps them.
            text.push(word.clone());
            continue;
        }
        match word.to_str()? {
            "-n" | "--trim-newline" if !trim_newline => trim_newline = true,
            _ => return None,
        }
    }
    Some(CopyArgs {
        text,
        file: None,
        mime: None,
        trim_newline,
        clear: false,
        primary: false,
        verbose: false,
        board: BoardArg { board },
        create: CreateArgs::default(),
    })
}

/// Takes `--board NAME` or `--board=NAME` starting at `word` into `slot`:
/// `Some(true)` if it was one, `Some(false)` if `word` is something else,
/// `None` (to clap) for a second `--board`, a missing value or a name clap
/// would refuse.
fn take_board<'a>(
    word: &OsStr,
    rest: &mut impl Iterator<Item = &'a OsString>,
    slot: &mut Option<BoardName>,
) -> Option<bool> {
    let value = match word.to_str() {
        Some("--board") => rest.next()?.to_str()?,
        Some(word) => match word.strip_prefix("--board=") {
            Some(value) => value,
            None => return Some(false),
        },
        None => return Some(false),
    };
    // clap reads a separate word starting with `-` as the next option, not
    // as the value; both forms are left to it rather than told apart here.
    if slot.is_some() || value.starts_with('-') {
        return None;
    }
    *slot = Some(BoardName::new(value).ok()?);
    Some(true)
}

/// Whether clap would read `word` as an option rather than a TEXT word
/// (`-` alone and `--` included: those are left to clap).
fn looks_like_option(word: &OsStr) -> bool {
    word.as_encoded_bytes().first() == Some(&b'-')
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStringExt;

    use clap::Parser;

    use super::*;

    fn argv(words: &[&str]) -> Vec<OsString> {
        std::iter::once("shm-clip")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    /// The fast path takes `argv`, and builds what clap builds from it.
    fn same_as_clap(argv: &[OsString]) {
        let fast = parse(argv).unwrap_or_else(|| panic!("{argv:?} is not on the fast path"));
        let clap =
            Args::try_parse_from(argv).unwrap_or_else(|err| panic!("clap refuses {argv:?}: {err}"));
        assert_eq!(format!("{fast:?}"), format!("{clap:?}"), "{argv:?}");
    }

    #[test]
    fn every_supported_shape_parses_as_clap_parses_it() {
        let shapes: &[&[&str]] = &[
            &["paste"],
            &["-o"],
            &["paste", "-n"],
            &["paste", "--no-newline"],
            &["--board", "work", "paste"],
            &["--board=work", "paste"],
            &["paste", "--board", "work"],
            &["paste", "--board=work", "-n"],
            &["--board", "a", "paste", "--board", "b"],
            &["--board", "work", "-o", "-n"],
            &["copy"],
            &["-i"],
            &["copy", "-n"],
            &["copy", "--trim-newline"],
            &["copy", "hello"],
            &["copy", "hello", "world"],
            &["copy", "", "two  spaces", ""],
            &["copy", "hello", "-n", "world"],
            &["copy", "paste"],
            &["copy", "help"],
            &["copy", "--board", "work", "hi"],
            &["copy", "hi", "--board=work"],
            &["--board", "work", "copy", "x", "--board", "other"],
            &["--board", "work", "-i", "a", "b"],
            &["copy", "ünïcode", "日本"],
            &["--board", "a.b_c-d", "paste"],
        ];
        for shape in shapes {
            same_as_clap(&argv(shape));
        }
    }

    #[test]
    fn text_need_not_be_utf8() {
        let mut argv = argv(&["copy"]);
        argv.push(OsString::from_vec(vec![b'a', 0xff, b'b']));
        same_as_clap(&argv);
    }

    #[test]
    fn every_other_command_line_goes_to_clap() {
        let others: &[&[&str]] = &[
            &[],
            &["--help"],
            &["-h"],
            &["--version"],
            &["-V"],
            &["paste", "--help"],
            &["copy", "--help"],
            &["paste", "-h"],
            &["paste", "--bogus"],
            &["paste", "extra"],
            &["paste", "-n", "-n"],
            &["paste", "-nn"],
            &["paste", "--no-new"],
            &["paste", "-t", "text/html"],
            &["paste", "--list-types"],
            &["paste", "--entry", "1"],
            &["paste", "--primary"],
            &["paste", "--board"],
            &["paste", "--board", ""],
            &["paste", "--board", "-n"],
            &["paste", "--board=-x"],
            &["paste", "--board", "no/slash"],
            &["paste", "--board", "a", "--board", "b"],
            &["--board", "a", "--board", "b", "paste"],
            &["--board"],
            &["--board", "a"],
            &["--capacity", "1M", "copy", "x"],
            &["copy", "--capacity", "1M", "x"],
            &["copy", "-"],
            &["copy", "--", "-x"],
            &["copy", "-x"],
            &["copy", "-n", "-n"],
            &["copy", "--file", "f"],
            &["copy", "-t", "text/html", "x"],
            &["copy", "--clear"],
            &["copy", "-v", "x"],
            &["copy", "-p", "x"],
            &["history"],
            &["status"],
            &["boards"],
            &["Paste"],
            &["past"],
            &["-on"],
        ];
        for other in others {
            assert!(
                parse(&argv(other)).is_none(),
                "{other:?} took the fast path"
            );
        }
    }

    #[test]
    fn a_board_option_that_is_not_utf8_goes_to_clap() {
        let mut argv = argv(&["paste", "--board"]);
        argv.push(OsString::from_vec(vec![b'a', 0xff]));
        assert!(parse(&argv).is_none());
    }
}
