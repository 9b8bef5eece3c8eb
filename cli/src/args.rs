//! The command line, as clap derive types. Nothing here touches a board.
//!
//! This file is compiled twice: into the binary, and on its own by
//! `build.rs`, which writes the man pages and completions from it. So it uses
//! only `clap`, `clap_complete` and the `shm_clip` library, never another module
//! of the CLI (`global.rs` resolves the board these options name).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use shm_clip::{BoardName, Config, CreateOptions, DEFAULT_BOARD, Selector};

// Explicit paths: build.rs includes this file with `#[path]`, and a file
// included that way looks for its submodules beside it, not in `args/`.
#[path = "args/archive.rs"]
pub mod archive;
#[path = "args/search.rs"]
pub mod search;

pub use archive::ArchiveArgs;
pub use search::SearchArgs;

const ABOUT_LONG: &str = "\
A clipboard shared by every process of a user through POSIX shared memory.

Each board is one segment in /dev/shm, readable and writable only by you. It \
holds the current clip and a history of earlier ones. Any number of processes \
can copy, paste and watch at once; the command line follows wl-copy, wl-paste \
and xclip where it can.";

const EXAMPLES: &str = "\
Examples:
  echo hi | shm-clip copy                    copy stdin (no newline is added or removed)
  shm-clip copy hello world                  copy the text \"hello world\"
  shm-clip copy --file shot.png              copy a file; its type is sniffed
  pwd | shm-clip copy -n                      copy without the trailing newline
  shm-clip paste > file                      paste the current clip, bytes exact
  shm-clip -o                                paste, as xclip -o (shm-clip -i copies stdin)
  shm-clip paste --list-types                show the clip's MIME types
  shm-clip history                           list earlier clips; select one with: shm-clip select 2
  shm-clip watch --exec 'notify-send \"$(cat)\"'
                                             run a command on every new clip
  shm-clip --board work copy notes           use another board (or set SHM_CLIP_BOARD=work)

Set RUST_LOG=debug to see what shm-clip does; clip contents are never logged.";

const COPY_LONG: &str = "\
Put text, stdin or a file on the board as the new current clip.

With TEXT arguments, they are joined by single spaces and copied without a \
trailing newline. Without, all of stdin is copied byte for byte (an empty stdin \
copies an empty clip); -n drops one trailing newline, as wl-copy -n does. TEXT \
or --file with data on stdin as well is refused: say which one you mean. Input \
larger than the board can hold is refused before it is all read, with its size \
and the board's limit in bytes.

The MIME type is text/plain;charset=utf-8 for UTF-8 text without NUL or other \
control bytes, else what the content's magic bytes say (PNG, JPEG, PDF, ZIP \
and some 200 other formats), else application/octet-stream, unless --type \
names it.

--clear empties the history as `shm-clip clear` does (wl-copy --clear). \
`shm-clip -i` is `shm-clip copy`, for xclip's -i.

-p/--primary copies to the desktop's PRIMARY selection (the middle-click \
one) instead of the board, as wl-copy --primary does: the board's tray \
(shm-clip-app --tray) owns PRIMARY with it until another application takes \
it. Without a running tray it says how to start one. On Wayland this needs \
a compositor whose data-control protocol offers the primary selection \
(wlroots-based ones such as sway do).

Example:
  grep -r TODO src | shm-clip copy
  pwd | shm-clip copy -n
  shm-clip copy -t text/html '<b>bold</b>'";

const PASTE_LONG: &str = "\
Write a clip to stdout, bytes exact.

The current clip's first representation is written unless --type asks for \
another. A pipe or a file gets the bytes exactly. A terminal gets a final \
newline after text that lacks one, as wl-paste adds it (-n/--no-newline \
leaves it out), and no clip that is not text: that is refused with a hint \
unless --force is given. An empty or missing board exits with status 1.

`shm-clip -o` is `shm-clip paste`, for xclip's -o. -p/--primary pastes the \
desktop's PRIMARY selection, read by the board's tray, instead of the board \
(as wl-paste --primary); -t picks its type.

Example:
  shm-clip paste > out.txt
  shm-clip paste -t image/png > shot.png
  shm-clip paste --entry 3
  shm-clip -o | wc -c";

const WATCH_LONG: &str = "\
Print a line each time the board changes, until interrupted.

Each line names the commit seq and describes the board's current clip: its \
types and sizes and who wrote it (or \"empty\"). Changes that arrive while a \
line is being printed are merged into one. The state before the watch starts is \
not printed. The board is created if it does not exist yet.

With --exec, nothing is printed: the command runs with sh -c once per change, \
with the current clip (or its --type representation) on its stdin, as \
wl-paste --watch does. It also gets SHM_CLIP_SEQ and SHM_CLIP_MIME in its \
environment. Changes that leave the board empty do not run it. A command that \
fails is reported on stderr with the seq it ran for, and the watch goes on.

SIGINT and SIGTERM stop the watch cleanly, and so does a closed stdout.

Example:
  shm-clip watch --json | jq .
  shm-clip watch --exec 'notify-send \"$(cat)\"'";

const HISTORY_LONG: &str = "\
List the board's entries, current first.

Columns: history index (the N that select, pin, unpin and rm take), commit seq \
(stable while the entry lives), time since it last became current, first MIME \
type (+N more), total size, who wrote it, a * for pinned entries, and the start \
of its text, cut to COLUMNS on a terminal.

Example:
  shm-clip history
  shm-clip history --json | jq '.[0].types'
  shm-clip history --menu | dmenu -l 20 | shm-clip select --menu-line";

const SELECT_LONG: &str = "\
Make a history entry the current clip again.

Example:
  shm-clip select 2
  shm-clip select --seq 41
  shm-clip history --menu | fzf -d '\\t' --with-nth 2 | shm-clip select --menu-line";

const PIN_LONG: &str = "\
Pin a history entry: it is never evicted and survives clear.

Example:
  shm-clip pin 0";

const UNPIN_LONG: &str = "\
Unpin a history entry, so that it is evicted and cleared like any other.

Example:
  shm-clip unpin 3";

const RM_LONG: &str = "\
Delete a history entry and overwrite its bytes in the segment.

Example:
  shm-clip rm 1
  shm-clip rm --seq 41";

const CLEAR_LONG: &str = "\
Delete every unpinned entry (every entry with --all) and overwrite their bytes; \
prints how many were removed.

Example:
  shm-clip clear
  shm-clip clear --all";

const STATUS_LONG: &str = "\
Show the board's segment, sizes, counters and live subscribers.

Example:
  shm-clip status
  shm-clip status --json | jq .subscribers";

const BOARDS_LONG: &str = "\
List your boards, one name per line.

Example:
  shm-clip boards";

const DESTROY_LONG: &str = "\
Remove the board; every clip on it is lost, pinned ones too.

Every entry is wiped in place first, so programs that still have the board \
open (the tray, windows, watchers) find nothing. Then the segment and the \
mailboxes are removed, and each of those programs is told: a window says \
\"board destroyed\", the tray drops the clip it serves on the desktop \
clipboard and moves to a fresh board, `watch` exits. The history the tray \
saved on disk for this board is deleted too, and so are the archive's copies \
of the board's clips, those evicted from it earlier too (but for content that \
another board holds now), so a restart brings nothing back; --keep-history \
keeps both.

Without --force the segment must be a valid board of this version. With \
--force any segment of that name owned by you is removed, which is how to get \
rid of one left by another version.

Example:
  shm-clip destroy
  shm-clip --board work destroy --force";

/// The completion script for `shell`, from these definitions (the binary's
/// `completions` and build.rs's packaged files both come from here). Bash's
/// works around `clap_complete` 4.6's bug with hyphenated names
/// (clap-rs/clap#6421): its dispatch loop names the state of `shm-clip copy`
/// `shm__clip__subcmd__copy`, its case arms `shm__subcmd__clip__subcmd__copy`,
/// so below the top level no arm matched and nothing was completed.
pub fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Args::command(), "shm-clip", &mut script);
    if shell == clap_complete::Shell::Bash {
        let fixed = String::from_utf8_lossy(&script).replace("shm__subcmd__clip", "shm__clip");
        script = fixed.into_bytes();
    }
    script
}

/// The whole command line.
///
/// The board options are accepted before the subcommand (`shm-clip --board
/// work copy`) and after it, but only subcommands that use a board list and
/// take them: `completions`, `config` and `boards` do not.
#[derive(Debug, Parser)]
#[command(
    name = "shm-clip",
    version,
    about = "A clipboard shared through POSIX shared memory",
    long_about = ABOUT_LONG,
    after_help = EXAMPLES,
    propagate_version = true,
    subcommand_required = true,
    arg_required_else_help = true,
)]
pub struct Args {
    #[command(flatten)]
    pub board: BoardArg,
    #[command(flatten)]
    pub create: CreateArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// `--board`, for every subcommand that uses a board.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "Board options")]
#[group(skip)]
pub struct BoardArg {
    /// The board to use: 1-64 characters from A-Z a-z 0-9 . _ - [default:
    /// `SHM_CLIP_BOARD`, else default]
    // No clap `env` and no default here: a bad SHM_CLIP_BOARD must be
    // blamed on the variable (see `Global::resolve`), and a default would
    // make usage lines show `--board <NAME>` as if it were required.
    #[arg(long, value_name = "NAME", value_parser = parse_board)]
    pub board: Option<BoardName>,
}

/// `--capacity` and `--depth`, for the subcommands that may create a board.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "Board options")]
#[group(skip)]
pub struct CreateArgs {
    /// Data capacity when this command creates the board, like 64M, 1G or
    /// 4096 (binary units: 1K = 1024) [default: 64M]. Ignored for an
    /// existing board.
    // Hyphen values reach the parser: `--depth -1` is out of range, not a flag.
    #[arg(long, value_name = "SIZE", value_parser = parse_capacity, allow_hyphen_values = true)]
    pub capacity: Option<u64>,

    /// History depth when this command creates the board [default: 200].
    /// Ignored for an existing board.
    #[arg(long, value_name = "N", value_parser = parse_depth, allow_hyphen_values = true)]
    pub depth: Option<u32>,
}

/// The board options in effect for one subcommand: the command line's,
/// else `SHM_CLIP_BOARD` and config.toml.
#[derive(Debug)]
pub struct Global {
    /// The board to use.
    pub board: BoardName,
    /// `--capacity`, if given.
    pub capacity: Option<u64>,
    /// `--depth`, if given.
    pub depth: Option<u32>,
    /// The user's config file.
    pub config: Config,
}

impl Global {
    /// The sizes for a board this command creates: the options, else the config.
    pub fn create_options(&self) -> CreateOptions {
        let default = self.config.create_options();
        CreateOptions {
            capacity: self.capacity.unwrap_or(default.capacity),
            depth: self.depth.unwrap_or(default.depth),
        }
    }
}

/// The variable naming the board when `--board` is not given.
pub const BOARD_ENV: &str = "SHM_CLIP_BOARD";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Copy TEXT, stdin or a file to the board (also: shm-clip -i, as xclip)
    #[command(long_about = COPY_LONG, short_flag = 'i')]
    Copy(CopyArgs),
    /// Write the current clip (or a history entry) to stdout (also: shm-clip -o, as xclip)
    #[command(long_about = PASTE_LONG, short_flag = 'o')]
    Paste(PasteArgs),
    /// Print a line, or run a command, on every change
    #[command(long_about = WATCH_LONG)]
    Watch(WatchArgs),
    /// List the clip history
    #[command(long_about = HISTORY_LONG)]
    History(HistoryArgs),
    /// Make a history entry current
    #[command(long_about = SELECT_LONG)]
    Select(Target),
    /// Choose an entry with a menu or a terminal picker and make it current
    #[command(long_about = PICK_LONG)]
    Pick(PickArgs),
    /// Pin a history entry
    #[command(long_about = PIN_LONG)]
    Pin(Target),
    /// Unpin a history entry
    #[command(long_about = UNPIN_LONG)]
    Unpin(Target),
    /// Delete a history entry
    #[command(long_about = RM_LONG)]
    Rm(RmArgs),
    /// Delete all unpinned entries
    #[command(long_about = CLEAR_LONG)]
    Clear(ClearArgs),
    /// Search the board and the archive
    #[command(long_about = search::LONG_ABOUT)]
    Search(SearchArgs),
    /// The on-disk archive: stats, prune, export, vacuum, run
    #[command(long_about = archive::LONG_ABOUT)]
    Archive(ArchiveArgs),
    /// Show the board's state, counters and subscribers
    #[command(long_about = STATUS_LONG)]
    Status(JsonArgs),
    /// List your boards
    #[command(long_about = BOARDS_LONG)]
    Boards,
    /// Remove the board
    #[command(long_about = DESTROY_LONG)]
    Destroy(DestroyArgs),
    /// Show where the config file is, or the effective settings
    #[command(long_about = CONFIG_LONG)]
    Config(ConfigArgs),
    /// Print a shell completion script to stdout
    #[command(long_about = COMPLETIONS_LONG)]
    Completions(CompletionsArgs),
}

impl Command {
    /// The board options given after the subcommand: `None` for the
    /// subcommands that use no board, and no `CreateArgs` for those that
    /// never create one.
    pub fn board_options(&self) -> (Option<&BoardArg>, Option<&CreateArgs>) {
        match self {
            Command::Copy(a) => (Some(&a.board), Some(&a.create)),
            Command::Watch(a) => (Some(&a.board), Some(&a.create)),
            Command::Paste(a) => (Some(&a.board), None),
            Command::History(a) => (Some(&a.list.board), None),
            Command::Status(a) => (Some(&a.board), None),
            Command::Pick(a) => (Some(&a.board), None),
            Command::Rm(a) => (Some(&a.target.board), None),
            Command::Select(a) | Command::Pin(a) | Command::Unpin(a) => (Some(&a.board), None),
            Command::Clear(a) => (Some(&a.board), None),
            Command::Destroy(a) => (Some(&a.board), None),
            Command::Search(a) => (Some(&a.board), None),
            Command::Archive(a) => a.board_options(),
            Command::Boards | Command::Config(_) | Command::Completions(_) => (None, None),
        }
    }
}

/// The parser, with the defaults in effect: config.toml's board sizes and
/// `SHM_CLIP_BOARD`'s board, so that `--help` shows what a command would
/// really use. (Man pages and completions use [`Args::command`] as is.)
pub fn command_with_defaults(config: &Config) -> clap::Command {
    let opts = config.create_options();
    let builtin = CreateOptions::default();
    let from = |same: bool| if same { "" } else { ", from config.toml" };
    let capacity = format!(
        "Data capacity when this command creates the board, like 64M, 1G or 4096 (binary units: \
         1K = 1024) [default: {}{}]. Ignored for an existing board",
        shm_clip::config::Size(opts.capacity),
        from(opts.capacity == builtin.capacity)
    );
    let depth = format!(
        "History depth when this command creates the board [default: {}{}]. Ignored for an \
         existing board",
        opts.depth,
        from(opts.depth == builtin.depth)
    );
    let board = match std::env::var(BOARD_ENV) {
        Ok(name) if !name.is_empty() => format!(
            "The board to use: 1-64 characters from A-Z a-z 0-9 . _ - [default: {name}, from \
             {BOARD_ENV}]"
        ),
        _ => format!(
            "The board to use: 1-64 characters from A-Z a-z 0-9 . _ - [default: {DEFAULT_BOARD}; \
             {BOARD_ENV} sets another]"
        ),
    };
    let fix = |cmd: clap::Command| {
        let has = |cmd: &clap::Command, id: &str| cmd.get_arguments().any(|a| a.get_id() == id);
        let mut cmd = cmd;
        if has(&cmd, "board") {
            cmd = cmd.mut_arg("board", |a| a.help(board.clone()));
        }
        if has(&cmd, "capacity") {
            cmd = cmd.mut_arg("capacity", |a| a.help(capacity.clone()));
        }
        if has(&cmd, "depth") {
            cmd = cmd.mut_arg("depth", |a| a.help(depth.clone()));
        }
        cmd
    };
    let mut cmd = fix(<Args as clap::CommandFactory>::command());
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, fix);
    }
    cmd
}

const COMPLETIONS_LONG: &str = "\
Print a completion script for SHELL to stdout. It is generated from the same \
definitions that parse this command line, so it cannot drift from the real flags.

Example:
  shm-clip completions bash > ~/.local/share/bash-completion/completions/shm-clip
  shm-clip completions zsh > ~/.zfunc/_shm-clip
  shm-clip completions fish > ~/.config/fish/completions/shm-clip.fish";

/// `completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `config`.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

/// `config path` and `config show`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the config file's path (it need not exist)
    Path,
    /// Print the effective settings as TOML: the file's values, defaults for the rest
    Show,
}

/// `copy`.
#[derive(Debug, clap::Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each bool is a command-line flag"
)]
pub struct CopyArgs {
    /// Text to copy, joined by spaces; stdin is read when there is none
    #[arg(value_name = "TEXT", conflicts_with = "file")]
    pub text: Vec<OsString>,

    /// Copy this file ("-" is stdin)
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,

    /// The MIME type, instead of sniffing it
    #[arg(short = 't', long = "type", value_name = "MIME", value_parser = parse_mime)]
    pub mime: Option<String>,

    /// Drop one trailing newline, as wl-copy -n does: `pwd | shm-clip copy -n`
    #[arg(short = 'n', long)]
    pub trim_newline: bool,

    /// Delete every unpinned entry instead of copying (the same as `shm-clip clear`)
    #[arg(long, conflicts_with_all = ["text", "file", "mime", "trim_newline", "primary"])]
    pub clear: bool,

    /// Copy to the desktop's PRIMARY selection (the middle-click one),
    /// through the running tray
    #[arg(short = 'p', long)]
    pub primary: bool,

    /// Say what was copied
    #[arg(short, long)]
    pub verbose: bool,

    #[command(flatten)]
    pub board: BoardArg,
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `paste`.
#[derive(Debug, clap::Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each bool is a command-line flag"
)]
pub struct PasteArgs {
    /// Paste the representation of this MIME type ("text" matches any plain text)
    #[arg(short = 't', long = "type", value_name = "MIME")]
    pub mime: Option<String>,

    /// Print the clip's MIME types, one per line, instead of its content
    #[arg(short, long)]
    pub list_types: bool,

    /// Paste history entry N (0 is current) instead of the current clip
    #[arg(long, value_name = "N", conflicts_with = "seq")]
    pub entry: Option<usize>,

    /// Paste the history entry created at commit seq S
    #[arg(long, value_name = "S")]
    pub seq: Option<u64>,

    /// Paste the entry of the menu line on stdin (from `history --menu`)
    #[arg(long, conflicts_with_all = ["entry", "seq"])]
    pub menu_line: bool,

    /// Add no newline on a terminal (a pipe or file never gets one)
    #[arg(short = 'n', long)]
    pub no_newline: bool,

    /// Write a clip that is not text to a terminal anyway
    #[arg(long)]
    pub force: bool,

    /// Paste the desktop's PRIMARY selection (the mouse selection), through
    /// the running tray
    #[arg(short = 'p', long, conflicts_with_all = ["entry", "seq"])]
    pub primary: bool,

    #[command(flatten)]
    pub board: BoardArg,
}

impl PasteArgs {
    /// The entry to paste.
    pub fn selector(&self) -> Selector {
        match (self.entry, self.seq) {
            (Some(index), _) => Selector::Index(index),
            (None, Some(seq)) => Selector::Seq(seq),
            (None, None) => Selector::Current,
        }
    }
}

/// `watch`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Print one JSON object per change: its event kind, seq, time and entry (docs/json.md)
    #[arg(long, conflicts_with = "exec")]
    pub json: bool,

    /// Run `sh -c CMD` per change, with the clip on its stdin
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,

    /// With --exec, feed this MIME type's representation (changes without it are skipped)
    #[arg(short = 't', long = "type", value_name = "MIME", requires = "exec")]
    pub mime: Option<String>,

    #[command(flatten)]
    pub board: BoardArg,
    #[command(flatten)]
    pub create: CreateArgs,
}

/// `history`: a table, JSON, or menu lines.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub list: JsonArgs,
    #[command(flatten)]
    pub menu: HistoryMenuArgs,
    /// List the archive instead: every clip kept on disk, most recent first
    #[arg(long, conflicts_with = "menu")]
    pub archive: bool,
    /// With --archive: list at most N clips
    #[arg(long, value_name = "N", default_value_t = 100, requires = "archive")]
    pub limit: usize,
}

/// Subcommands whose only option is `--json`.
#[derive(Debug, clap::Args)]
pub struct JsonArgs {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub board: BoardArg,
}

/// The history entry a subcommand acts on: an index or a seq.
#[derive(Debug, clap::Args)]
// The group names its two members: a struct-level group would take in the
// flattened board options too.
#[group(skip)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["index", "seq", "menu_line", "archive"])))]
pub struct Target {
    /// History index, as listed by `shm-clip history` (0 is current)
    // Negative numbers reach `parse_index`, which explains how indexes
    // count, instead of clap's "unexpected argument '-1'" tip.
    #[arg(value_name = "N", allow_negative_numbers = true, value_parser = parse_index)]
    pub index: Option<usize>,

    /// The entry created at commit seq S instead
    #[arg(long, value_name = "S")]
    pub seq: Option<u64>,

    /// The entry of the menu line on stdin (from `history --menu`)
    #[arg(long)]
    pub menu_line: bool,

    /// The archived clip with this id (from `history --archive` or `search`):
    /// select brings it back to the board, pin/unpin/rm act on the archive
    #[arg(long, value_name = "ID")]
    pub archive: Option<i64>,

    #[command(flatten)]
    pub board: BoardArg,
}

impl Target {
    /// The entry to act on.
    pub fn selector(&self) -> Selector {
        match (self.index, self.seq) {
            (_, Some(seq)) => Selector::Seq(seq),
            (Some(index), None) => Selector::Index(index),
            (None, None) => Selector::Current,
        }
    }
}

/// `rm`.
#[derive(Debug, clap::Args)]
pub struct RmArgs {
    #[command(flatten)]
    pub target: Target,

    /// Delete the entry even if it is pinned (pinned entries are the ones
    /// kept on purpose, so rm refuses them without this)
    #[arg(long)]
    pub force: bool,
}

/// `clear`.
#[derive(Debug, Default, clap::Args)]
pub struct ClearArgs {
    /// Delete pinned entries too
    #[arg(long)]
    pub all: bool,

    #[command(flatten)]
    pub board: BoardArg,
}

/// `destroy`.
#[derive(Debug, clap::Args)]
pub struct DestroyArgs {
    /// Remove the segment even if it is not a valid board of this version
    #[arg(long)]
    pub force: bool,
    /// Keep the history saved for this board on disk, the tray's file and
    /// the archived copies of its clips (by default they are deleted with
    /// the board, so that nothing comes back)
    #[arg(long)]
    pub keep_history: bool,

    #[command(flatten)]
    pub board: BoardArg,
}

/// Validates a board name: the library's reason, then its rule after a
/// semicolon (a hint in parentheses would nest in clap's message).
fn parse_board(name: &str) -> Result<BoardName, String> {
    BoardName::new(name).map_err(|err| match err.hint() {
        Some(hint) => format!("{err}; {hint}"),
        None => err.to_string(),
    })
}

/// A MIME type for `copy --type`: what the board can store, refused here so
/// that the message names the option.
fn parse_mime(mime: &str) -> Result<String, String> {
    let max = shm_clip::MAX_MIME_LEN;
    if mime.is_empty() || mime.len() > max {
        return Err(format!(
            "a MIME type must be 1-{max} bytes, like text/html or image/png"
        ));
    }
    Ok(mime.to_owned())
}

/// A history index: 0 (the current clip) or more. A negative one gets an
/// explanation that leads somewhere, not clap's `-- -1` tip.
fn parse_index(text: &str) -> Result<usize, String> {
    if text.starts_with('-') {
        return Err(
            "history indexes count up from 0, the current clip; `shm-clip history` lists \
             them, the oldest last"
                .into(),
        );
    }
    text.parse()
        .map_err(|_| "a history index is a whole number: 0 is the current clip".into())
}

/// A board capacity: a size within [`CreateOptions::CAPACITY`].
fn parse_capacity(text: &str) -> Result<u64, String> {
    let size = parse_size(text)?;
    let range = CreateOptions::CAPACITY;
    if range.contains(&size) {
        Ok(size)
    } else {
        Err(format!(
            "a board's capacity must be between 4K ({} bytes) and 1T ({} bytes)",
            range.start(),
            range.end()
        ))
    }
}

/// A history depth within [`CreateOptions::DEPTH`].
fn parse_depth(text: &str) -> Result<u32, String> {
    let range = CreateOptions::DEPTH;
    let message = || {
        format!(
            "a board's depth must be a whole number between {} and {}",
            range.start(),
            range.end()
        )
    };
    let depth: u32 = text.trim().parse().map_err(|_| message())?;
    if range.contains(&depth) {
        Ok(depth)
    } else {
        Err(message())
    }
}

/// Parses `4096`, `64K`, `64M`, `1G`, `1GiB`, `512mb`: binary units
/// throughout, with config.toml's parser; 0 is refused.
pub fn parse_size(text: &str) -> Result<u64, String> {
    match shm_clip::config::Size::parse(text)? {
        shm_clip::config::Size(0) => Err("the size must be more than 0".into()),
        shm_clip::config::Size(n) => Ok(n),
    }
}

const PICK_LONG: &str = "\
Choose a history entry and make it the current clip.

With --menu, `sh -c CMD` gets one line per entry on stdin (as `history --menu` \
prints them: seq, tab, preview) and prints the chosen line. Only the seq before \
the tab is read back, so the entry chosen is the one shown even if the history \
changed meanwhile. Without --menu, a terminal picker opens: type to filter \
(text, type and origin; substring or fuzzy, case-insensitive), arrows to move, \
Enter to choose, Esc to cancel.

A cancelled menu (non-zero exit or no output) or picker changes nothing and \
exits with status 1.

Example:
  shm-clip pick
  shm-clip pick --menu 'rofi -dmenu -i -show-icons' --icons
  shm-clip pick --menu 'fzf -d \"\\t\" --with-nth 2'
  shm-clip pick --menu 'dmenu -l 20'";

/// `pick`.
#[derive(Debug, clap::Args)]
pub struct PickArgs {
    /// Run `sh -c CMD` as the menu: it gets the menu lines on stdin and
    /// prints the chosen one (rofi -dmenu, dmenu, fuzzel --dmenu, wofi
    /// --dmenu, fzf). Without it, a terminal picker opens.
    #[arg(long, value_name = "CMD")]
    pub menu: Option<String>,

    #[command(flatten)]
    pub format: MenuFormat,

    #[command(flatten)]
    pub board: BoardArg,
}

/// How menu lines look; shared by `history --menu` and `pick`.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct MenuFormat {
    /// Cut previews to N columns
    #[arg(long, value_name = "N", default_value_t = 100, requires = "menu",
          value_parser = clap::value_parser!(u16).range(8..))]
    pub width: u16,

    /// End lines with NUL instead of newline (for fzf --read0)
    #[arg(short = '0', long = "null", requires = "menu")]
    pub null: bool,

    /// Add rofi's icon hint (a cached thumbnail) to image lines
    #[arg(long, requires = "menu", conflicts_with = "null")]
    pub icons: bool,
}

/// The menu options of `history`.
#[derive(Debug, clap::Args)]
pub struct HistoryMenuArgs {
    /// Print `<seq>TAB<preview>` lines for a menu program, newest first
    #[arg(long, conflicts_with = "json")]
    pub menu: bool,

    #[command(flatten)]
    pub format: MenuFormat,
}

const CONFIG_LONG: &str = "\
Show where the config file is, or the effective settings.

The file is config.toml in the XDG config directory (~/.config/shm-clip/), or \
the file named by SHM_CLIP_CONFIG. A missing file means the defaults; an invalid \
one is an error naming its line and key, and no command starts with it. Every \
setting is described in the README.

Examples:
  shm-clip config path      # where the file is (or would be)
  shm-clip config show      # the effective settings, as TOML
  shm-clip config show > /tmp/config.toml && mv /tmp/config.toml \"$(shm-clip config path)\"
                            # a full file to edit (not `> config.toml` itself: the
                            # shell empties it before shm-clip reads it)";

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn sizes_parse_in_binary_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("512mb"), Ok(512 << 20));
        assert!(parse_size("").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
