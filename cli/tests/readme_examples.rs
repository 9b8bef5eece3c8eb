//! Every command of README.md's "The command line" section works as written.
//!
//! The test reads the first `sh` code block of that section, so a line added to
//! the README is tested without touching this file. Each line runs through
//! `bash -c`, in order, in a private directory with a private HOME and XDG
//! directories, on a private board (`SHM_CLIP_BOARD`); `--board work` is
//! rewritten to a second private board. The built binary comes first on
//! PATH, so `shm-clip` is the binary under test.
//!
//! Every line must exit 0 within [`TIMEOUT`] and print no `shm-clip: ...`
//! error. A `shm-clip watch` line runs until Ctrl+C, so it is started in its
//! own process group, fed a copy by another process, and then sent SIGINT.
//!
//! On top of that, a small model of the board's history (the known newest
//! entries) follows the lines it understands: copies, `select`, `rm`,
//! `clear`. Where it knows the answer it checks it: what `paste` prints,
//! `paste --list-types`, and after each change what the current clip is.
//! Lines it does not understand only make it forget, never fail.

use shm_clip_test_kit as common;

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::Value;

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
/// The heading of the section whose first `sh` code block is tested.
const SECTION: &str = "## The command line";
/// Fewer lines than this means the block was not found as intended.
const MIN_LINES: usize = 20;
/// The longest a README line may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The board name the README uses for "another board".
const README_OTHER_BOARD: &str = "work";

/// A real 1x1 RGBA PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\
    \x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\
    \x00\x00\x00\x0dIDAT\x78\x9c\x63\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99\x3d\x1d\
    \x00\x00\x00\x00IEND\xae\x42\x60\x82";
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const PAGE_HTML: &[u8] = b"<!doctype html>\n<title>page</title>\n<p>Hello from README.md</p>\n";
/// Clips on the board before the first README line, so that lines such as
/// `paste --entry 2` and `rm 3` have entries to work on.
const PRELOAD: [&str; 4] = ["one", "two", "three", "four"];

// ---------------------------------------------------------------------------
// Reading the README

/// The lines of the first `sh` code block under `heading`, comments stripped.
fn sh_block(readme: &str, heading: &str) -> Option<Vec<String>> {
    let mut lines = readme.lines();
    lines.find(|l| l.trim_end() == heading)?;
    let mut lines = lines.take_while(|l| !l.starts_with("## "));
    lines.find(|l| l.trim() == "```sh")?;
    let mut block = Vec::new();
    for line in lines {
        if line.trim() == "```" {
            return Some(block);
        }
        let command = strip_comment(line).trim();
        if !command.is_empty() {
            block.push(command.to_owned());
        }
    }
    None // The block is never closed.
}

/// `line` without its shell comment: an unquoted `#` that starts a word.
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut prev = ' ';
    let mut escaped = false;
    for (at, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else if let Some(q) = quote {
            if c == q {
                quote = None;
            } else if c == '\\' && q == '"' {
                escaped = true;
            }
        } else if c == '\\' {
            escaped = true;
        } else if c == '\'' || c == '"' {
            quote = Some(c);
        } else if c == '#' && prev.is_whitespace() {
            return &line[..at];
        }
        prev = c;
    }
    line
}

/// `line` with the README's other board (`work`) replaced by `board`.
fn rewrite_board(line: &str, board: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    'scan: while !rest.is_empty() {
        for prefix in ["--board ", "--board=", "SHM_CLIP_BOARD="] {
            let Some(after) = rest.strip_prefix(prefix) else {
                continue;
            };
            if let Some(tail) = after.strip_prefix(README_OTHER_BOARD)
                && tail.chars().next().is_none_or(char::is_whitespace)
            {
                out.push_str(prefix);
                out.push_str(board);
                rest = tail;
                continue 'scan;
            }
        }
        let c = rest.chars().next().expect("rest is not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[test]
fn comments_and_boards_are_rewritten_like_a_shell_would_read_them() {
    assert_eq!(
        strip_comment("shm-clip paste   # a comment"),
        "shm-clip paste   "
    );
    assert_eq!(
        strip_comment("shm-clip watch --exec 'wc -c # not' # comment"),
        "shm-clip watch --exec 'wc -c # not' "
    );
    assert_eq!(strip_comment("shm-clip copy a#b"), "shm-clip copy a#b");
    assert_eq!(
        rewrite_board("shm-clip --board work copy x", "w-1"),
        "shm-clip --board w-1 copy x"
    );
    assert_eq!(
        rewrite_board("shm-clip --board workshop copy x", "w-1"),
        "shm-clip --board workshop copy x"
    );
    let block = sh_block(
        "# t\n## The command line\n\ntext\n```sh\na  # x\n\nb\n```\n```sh\nc\n```\n",
        SECTION,
    );
    assert_eq!(block, Some(vec!["a".to_owned(), "b".to_owned()]));
    assert_eq!(
        sh_block("## The command line\n\n## Next\n```sh\na\n```\n", SECTION),
        None
    );
}

// ---------------------------------------------------------------------------
// Understanding a line, as far as the model needs to

/// Where a command's stdin comes from.
#[derive(Debug)]
enum Input {
    File(String),
    /// `echo WORDS | ...`: the words and a newline.
    Echo(Vec<u8>),
}

/// One `shm-clip` run of a README line, for the simple forms the README uses.
#[derive(Debug)]
struct Invocation {
    /// `--board NAME`, wherever it was given.
    board: Option<String>,
    sub: String,
    args: Vec<String>,
    stdin: Option<Input>,
    stdout_file: Option<String>,
}

impl Invocation {
    fn has(&self, flag: &str) -> bool {
        self.args.iter().any(|a| a == flag)
    }

    /// The value after the first of `flags`.
    fn value(&self, flags: &[&str]) -> Option<&str> {
        let at = self.args.iter().position(|a| flags.contains(&a.as_str()))?;
        self.args.get(at + 1).map(String::as_str)
    }
}

/// A shell word, or an unquoted operator (`|`, `<`, `>`).
#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Op(String),
}

/// Splits `line` into words; `None` for anything beyond plain words, quotes
/// and whitespace-separated `|`, `<` and `>`.
fn tokens(line: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Some(out);
        }
        let mut word = String::new();
        let mut quoted = false;
        while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
            match c {
                '\'' | '"' => {
                    quoted = true;
                    loop {
                        match chars.next()? {
                            q if q == c => break,
                            '\\' | '$' | '`' if c == '"' => return None,
                            other => word.push(other),
                        }
                    }
                }
                '\\' | '$' | '`' | '*' | '?' | '[' | '~' | '{' | '(' | ')' | '&' | ';' => {
                    return None;
                }
                other => word.push(other),
            }
        }
        match word.as_str() {
            "|" | "<" | ">" if !quoted => out.push(Token::Op(word)),
            _ if !quoted && word.contains(['|', '<', '>']) => return None,
            _ => out.push(Token::Word(word)),
        }
    }
}

/// Parses the forms `shm-clip ARGS [< FILE] [> FILE]` and
/// `echo WORDS | shm-clip ARGS [> FILE]`.
fn parse(line: &str) -> Option<Invocation> {
    let tokens = tokens(line)?;
    let mut segments = tokens.split(|t| *t == Token::Op("|".into()));
    let first = segments.next()?;
    let (echo, command) = match (segments.next(), segments.next()) {
        (None, _) => (None, first),
        (Some(second), None) => (Some(first), second),
        (Some(_), Some(_)) => return None,
    };
    let mut stdin = match echo {
        None => None,
        Some([Token::Word(echo), words @ ..]) if echo == "echo" => {
            let mut text = Vec::new();
            for (i, word) in words.iter().enumerate() {
                let Token::Word(word) = word else { return None };
                if word.starts_with('-') {
                    return None;
                }
                if i > 0 {
                    text.push(b' ');
                }
                text.extend_from_slice(word.as_bytes());
            }
            text.push(b'\n');
            Some(Input::Echo(text))
        }
        Some(_) => return None,
    };

    let mut words = Vec::new();
    let mut stdout_file = None;
    let mut command = command.iter();
    while let Some(token) = command.next() {
        match token {
            Token::Word(word) => words.push(word.clone()),
            Token::Op(op) => {
                let Some(Token::Word(file)) = command.next() else {
                    return None;
                };
                match op.as_str() {
                    "<" if stdin.is_none() => stdin = Some(Input::File(file.clone())),
                    ">" if stdout_file.is_none() => stdout_file = Some(file.clone()),
                    _ => return None,
                }
            }
        }
    }

    let mut words = words.into_iter();
    if words.next()? != "shm-clip" {
        return None;
    }
    let mut board = None;
    let mut sub = None;
    let mut args = Vec::new();
    while let Some(word) = words.next() {
        if word == "--board" {
            board = Some(words.next()?);
        } else if let Some(name) = word.strip_prefix("--board=") {
            board = Some(name.to_owned());
        } else if sub.is_none() && (word == "-i" || word == "-o") {
            // xclip's spellings of copy and paste.
            sub = Some(if word == "-i" { "copy" } else { "paste" }.to_owned());
        } else if sub.is_none() {
            if word.starts_with('-') {
                return None; // Another global option: not modelled.
            }
            sub = Some(word);
        } else {
            args.push(word);
        }
    }
    Some(Invocation {
        board,
        sub: sub?,
        args,
        stdin,
        stdout_file,
    })
}

// ---------------------------------------------------------------------------
// The model of the board

#[derive(Clone, Debug)]
struct Clip {
    data: Vec<u8>,
    /// The first MIME type, where the test knows it.
    mime: Option<String>,
}

/// The newest entries of the board's history, as far as they are known.
#[derive(Clone, Debug)]
struct Model {
    /// Newest first; a prefix of the real history.
    entries: Vec<Clip>,
    /// Whether `entries` is the whole history.
    complete: bool,
}

impl Model {
    fn forget(&mut self) {
        self.entries.clear();
        self.complete = false;
    }

    fn copied(&mut self, clip: Clip) {
        if let Some(at) = self.entries.iter().position(|e| e.data == clip.data) {
            if self.entries[at].mime == clip.mime {
                // The board moves a duplicate to the front.
                self.entries.remove(at);
            } else {
                self.forget();
            }
        }
        self.entries.insert(0, clip);
    }

    /// Follows a line that succeeded on this model's board.
    fn follow(&mut self, inv: &Invocation, dir: &Path) {
        let index = || inv.args.first().and_then(|a| a.parse::<usize>().ok());
        match inv.sub.as_str() {
            "copy" => match copied_clip(inv, dir) {
                Some(clip) => self.copied(clip),
                None => self.forget(),
            },
            "select" => match index() {
                Some(n) if n < self.entries.len() && inv.args.len() == 1 => {
                    let clip = self.entries.remove(n);
                    self.entries.insert(0, clip);
                }
                _ => self.forget(),
            },
            "rm" => match index() {
                Some(n) if inv.args.len() == 1 => {
                    if n < self.entries.len() {
                        self.entries.remove(n);
                    }
                }
                _ => self.forget(),
            },
            "clear" if inv.args == ["--all"] => {
                self.entries.clear();
                self.complete = true;
            }
            "destroy" => {
                self.entries.clear();
                self.complete = true;
            }
            "paste" | "history" | "status" | "boards" | "config" | "completions" | "pin"
            | "unpin" | "help" => {}
            _ => self.forget(),
        }
    }
}

/// What a `copy` line puts on the board, read before the line runs.
fn copied_clip(inv: &Invocation, dir: &Path) -> Option<Clip> {
    let mut mime = None;
    let mut file = None;
    let mut trim = false;
    let mut text: Vec<&str> = Vec::new();
    let mut args = inv.args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-t" | "--type" => mime = Some(args.next()?.clone()),
            "--file" => file = Some(args.next()?),
            "-n" | "--trim-newline" => trim = true,
            "-v" | "--verbose" => {}
            other if other.starts_with('-') => return None,
            other => text.push(other),
        }
    }
    let mut data = match (file, &inv.stdin) {
        _ if !text.is_empty() => text.join(" ").into_bytes(),
        (Some(file), _) if file != "-" => std::fs::read(dir.join(file)).ok()?,
        (_, Some(Input::File(file))) => std::fs::read(dir.join(file)).ok()?,
        (_, Some(Input::Echo(data))) => data.clone(),
        _ => return None,
    };
    if trim && data.last() == Some(&b'\n') {
        data.pop();
    }
    let mime = mime.or_else(|| data.starts_with(PNG_MAGIC).then(|| "image/png".to_owned()));
    Some(Clip { data, mime })
}

// ---------------------------------------------------------------------------
// Running things

/// The private directory and boards of one run; cleaned up on drop.
struct Sandbox {
    dir: PathBuf,
    board: String,
    other_board: String,
    path: OsString,
}

impl Sandbox {
    fn new() -> Self {
        let pid = std::process::id();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("readme-{pid}"));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["home", "config", "data", "cache", "state"] {
            std::fs::create_dir_all(dir.join(sub)).expect("create the sandbox");
        }
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_shm-clip"))
            .parent()
            .expect("the binary's directory");
        let mut paths = vec![bin_dir.to_path_buf()];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let sandbox = Sandbox {
            board: format!("readme-{pid}"),
            other_board: format!("readme-work-{pid}"),
            path: std::env::join_paths(paths).expect("PATH"),
            dir,
        };
        // Destroy leftovers of an earlier run with the same pid.
        sandbox.destroy_boards();
        sandbox
    }

    /// A command with the sandbox's environment, run in its directory, in a
    /// process group of its own (so that a timeout can kill all of it).
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        for var in [
            "SHM_CLIP_CONFIG",
            "SHM_CLIP_TEST_PARK",
            "SHM_CLIP_TEST_PARK_AT",
            "BASH_ENV",
            "ENV",
            "COLUMNS",
        ] {
            cmd.env_remove(var);
        }
        cmd.current_dir(&self.dir)
            .env("PATH", &self.path)
            .env("HOME", self.dir.join("home"))
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env("XDG_DATA_HOME", self.dir.join("data"))
            .env("XDG_CACHE_HOME", self.dir.join("cache"))
            .env("XDG_STATE_HOME", self.dir.join("state"))
            .env("SHM_CLIP_BOARD", &self.board)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        cmd
    }

    /// `bash -c LINE`.
    fn shell(&self, line: &str) -> Command {
        let mut cmd = self.command("bash");
        cmd.args(["--noprofile", "--norc", "-c", line]);
        cmd
    }

    /// The binary under test, directly, on `board`.
    fn shm_clip(&self, board: &str, args: &[&str]) -> Command {
        let mut cmd = self.command(env!("CARGO_BIN_EXE_shm-clip"));
        cmd.arg("--board").arg(board).args(args);
        cmd
    }

    fn write_fixtures(&self) {
        std::fs::write(self.dir.join("shot.png"), PNG).expect("write shot.png");
        std::fs::write(self.dir.join("page.html"), PAGE_HTML).expect("write page.html");
    }

    /// Runs `shm-clip --board BOARD ARGS`, which must succeed.
    fn ok(&self, board: &str, args: &[&str]) -> Vec<u8> {
        let out = run(&mut self.shm_clip(board, args));
        assert!(
            out.status.success(),
            "shm-clip --board {board} {args:?} failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// How many processes watch `board`; 0 if it cannot be read.
    fn subscribers(&self, board: &str) -> usize {
        let out = run(&mut self.shm_clip(board, &["status", "--json"]));
        if !out.status.success() {
            return 0;
        }
        let status: Value = serde_json::from_slice(&out.stdout).expect("status --json is JSON");
        status["subscribers"].as_array().map_or(0, Vec::len)
    }

    fn destroy_boards(&self) {
        for board in [&self.board, &self.other_board] {
            let mut cmd = self.shm_clip(board, &["destroy", "--force"]);
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
            if let Ok(mut child) = cmd.spawn()
                && wait_until_deadline(&mut child, TIMEOUT).is_none()
            {
                // No panic: this may run while a failed test unwinds.
                eprintln!("destroying board {board} timed out");
            }
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.destroy_boards();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits for `child` until `timeout`; kills its process group and reaps it if
/// it is still running.
fn wait_until_deadline(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    common::wait_or_kill(child, timeout, |c| {
        let _ = killpg(group(c), Signal::SIGKILL);
    })
}

/// The process group of a child spawned by [`Sandbox::command`].
fn group(child: &Child) -> Pid {
    Pid::from_raw(i32::try_from(child.id()).expect("pid fits i32"))
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    thread::Builder::new()
        .name("drain".into())
        .spawn(move || {
            let mut data = Vec::new();
            let _ = pipe.read_to_end(&mut data);
            data
        })
        .expect("spawn thread")
}

/// Lines of a child's stdout, read by a thread so that reads can time out.
fn line_reader(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("lines".into())
        .spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
        .expect("spawn thread");
    rx
}

/// Runs `cmd` to completion; a run that overruns [`TIMEOUT`] is killed and
/// reported as a failure by the caller (its status is then `None`).
fn run_with_deadline(cmd: &mut Command) -> (Option<ExitStatus>, Vec<u8>, Vec<u8>) {
    let mut child = cmd.spawn().expect("spawn");
    let stdout = drain(child.stdout.take().expect("stdout"));
    let stderr = drain(child.stderr.take().expect("stderr"));
    let status = wait_until_deadline(&mut child, TIMEOUT);
    (
        status,
        stdout.join().expect("stdout"),
        stderr.join().expect("stderr"),
    )
}

/// Runs `cmd` to completion, failing the test if it overruns [`TIMEOUT`].
fn run(cmd: &mut Command) -> Output {
    let (status, stdout, stderr) = run_with_deadline(cmd);
    let status = status.unwrap_or_else(|| panic!("{cmd:?} timed out after {TIMEOUT:?}; killed"));
    Output {
        status,
        stdout,
        stderr,
    }
}

/// The `shm-clip: ...` error lines in `stderr`.
fn errors_in(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.starts_with("shm-clip:"))
        .map(str::to_owned)
        .collect()
}

fn show(bytes: &[u8]) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)]).into_owned();
    if bytes.len() > MAX {
        format!("{text:?}... ({} bytes)", bytes.len())
    } else {
        format!("{text:?}")
    }
}

// ---------------------------------------------------------------------------
// The test

/// What went wrong, line by line; the test fails at the end with all of it.
#[derive(Default)]
struct Report {
    failures: Vec<String>,
    /// How many outputs were compared with the model.
    content_checks: usize,
}

impl Report {
    fn fail(&mut self, line: &str, why: impl std::fmt::Display) {
        self.failures.push(format!("`{line}`: {why}"));
    }

    fn check(&mut self, line: &str, ok: bool, why: impl FnOnce() -> String) {
        self.content_checks += 1;
        if !ok {
            self.fail(line, why());
        }
    }
}

#[test]
fn every_command_line_example_in_the_readme_works_as_written() {
    let readme = std::fs::read_to_string(README).expect("read README.md");
    let lines = sh_block(&readme, SECTION)
        .unwrap_or_else(|| panic!("README.md has no ```sh block under {SECTION:?}"));
    assert!(
        lines.len() >= MIN_LINES,
        "the ```sh block under {SECTION:?} has {} command lines, expected at least {MIN_LINES}: {lines:#?}",
        lines.len()
    );

    let sandbox = Sandbox::new();
    sandbox.write_fixtures();
    let mut model = Model {
        entries: Vec::new(),
        complete: true,
    };
    for text in PRELOAD {
        sandbox.ok(&sandbox.board, &["copy", text]);
        model.copied(Clip {
            data: text.as_bytes().to_vec(),
            mime: None,
        });
    }

    let mut report = Report::default();
    let mut watch_copies = 0;
    for readme_line in &lines {
        let line = rewrite_board(readme_line, &sandbox.other_board);
        let inv = parse(&line);
        let board = inv
            .as_ref()
            .and_then(|inv| inv.board.clone())
            .unwrap_or_else(|| sandbox.board.clone());
        let on_main_board = board == sandbox.board;
        let is_watch = inv
            .as_ref()
            .map_or(line.starts_with("shm-clip watch"), |inv| inv.sub == "watch");

        if !is_watch {
            run_line(&sandbox, &mut report, &mut model, readme_line, &line, inv);
            continue;
        }
        watch_copies += 1;
        let text = format!("readme watch {watch_copies}");
        let copied = run_watch(&sandbox, &mut report, &line, inv.as_ref(), &board, &text);
        if on_main_board && copied {
            model.copied(Clip {
                data: text.into_bytes(),
                mime: None,
            });
        }
    }

    assert!(
        report.failures.is_empty(),
        "{} of {} README command lines failed as written:\n{}",
        report.failures.len(),
        lines.len(),
        report.failures.join("\n")
    );
    assert!(
        report.content_checks >= 5,
        "only {} outputs were checked against what the lines should do: {lines:#?}",
        report.content_checks
    );
}

/// Runs one README line that ends by itself, checks it, and moves the model on.
fn run_line(
    sandbox: &Sandbox,
    report: &mut Report,
    model: &mut Model,
    readme_line: &str,
    line: &str,
    inv: Option<Invocation>,
) {
    let on_main_board = inv
        .as_ref()
        .and_then(|inv| inv.board.as_deref())
        .is_none_or(|board| board == sandbox.board);
    // Read what a copy will take before the line runs (and perhaps
    // overwrites the file).
    let expected = inv.as_ref().map(|inv| {
        let mut after = model.clone();
        after.follow(inv, &sandbox.dir);
        after
    });

    let (status, stdout, stderr) = run_with_deadline(&mut sandbox.shell(line));
    let errors = errors_in(&stderr);
    let succeeded = match status {
        None => {
            report.fail(
                readme_line,
                format_args!("timed out after {TIMEOUT:?}; killed"),
            );
            false
        }
        Some(status) if !status.success() || !errors.is_empty() => {
            report.fail(
                readme_line,
                format_args!(
                    "exited with {status}; stderr: {}",
                    String::from_utf8_lossy(&stderr).trim_end()
                ),
            );
            false
        }
        Some(_) => true,
    };

    let Some(inv) = inv else {
        if on_main_board {
            model.forget();
        }
        return;
    };
    if succeeded {
        check_output(
            sandbox,
            report,
            readme_line,
            &inv,
            &stdout,
            model,
            on_main_board,
        );
    }
    if on_main_board {
        match expected {
            Some(after) if succeeded => *model = after,
            _ => model.forget(),
        }
        if succeeded && matches!(inv.sub.as_str(), "copy" | "select" | "rm") {
            check_current(sandbox, report, readme_line, model);
        }
    }
}

/// Checks what a successful line printed, where the test knows what it should.
fn check_output(
    sandbox: &Sandbox,
    report: &mut Report,
    line: &str,
    inv: &Invocation,
    stdout: &[u8],
    model: &Model,
    on_main_board: bool,
) {
    let output = match &inv.stdout_file {
        Some(file) => std::fs::read(sandbox.dir.join(file)).unwrap_or_default(),
        None => stdout.to_vec(),
    };
    let text = String::from_utf8_lossy(&output);
    if inv.has("--json") {
        match serde_json::from_slice::<Value>(&output) {
            Err(e) => report.fail(line, format_args!("not JSON ({e}): {}", show(&output))),
            Ok(json) => match inv.sub.as_str() {
                "history" => {
                    let entries = json.as_array().map(Vec::len);
                    report.check(line, entries.is_some(), || {
                        format!("history --json is not an array: {json}")
                    });
                    if on_main_board && model.complete {
                        report.check(line, entries == Some(model.entries.len()), || {
                            format!("expected {} entries: {json}", model.entries.len())
                        });
                    }
                }
                "status" => {
                    let board = inv.board.as_deref().unwrap_or(&sandbox.board);
                    report.check(line, json["name"] == board, || {
                        format!("status --json does not name board {board}: {json}")
                    });
                }
                _ => {}
            },
        }
    }
    match inv.sub.as_str() {
        "paste" if on_main_board => check_paste(report, line, inv, &output, model),
        "config" if inv.args == ["path"] => {
            let config = sandbox.dir.join("config");
            report.check(
                line,
                text.trim_end().starts_with(&*config.to_string_lossy()),
                || format!("the config path is not under {}: {text}", config.display()),
            );
        }
        "boards" if inv.args.is_empty() => {
            report.check(
                line,
                text.lines().any(|l| l.trim() == sandbox.board),
                || format!("board {} is not listed: {text}", sandbox.board),
            );
        }
        "completions" => {
            report.check(line, !output.is_empty(), || "no completion script".into());
        }
        _ => {}
    }
}

/// Checks `paste [--entry N] [-t MIME] [--list-types]` against the model.
fn check_paste(report: &mut Report, line: &str, inv: &Invocation, output: &[u8], model: &Model) {
    let mut index = 0;
    let mut mime = None;
    let mut list_types = false;
    let mut args = inv.args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--entry" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => index = n,
                None => return,
            },
            "-t" | "--type" => mime = args.next().map(String::as_str),
            "-l" | "--list-types" => list_types = true,
            // Not a terminal: no newline is added, and nothing is refused.
            "-n" | "--no-newline" | "--force" => {}
            // --seq, --entry=N, ...: not modelled.
            _ => return,
        }
    }
    let Some(entry) = model.entries.get(index) else {
        return;
    };
    if list_types {
        if let Some(expected) = &entry.mime {
            let first = String::from_utf8_lossy(output);
            let first = first.lines().next().unwrap_or_default();
            report.check(line, first == expected, || {
                format!("expected {expected} first, got {}", show(output))
            });
        }
    } else if mime.is_none() || mime == entry.mime.as_deref() {
        report.check(line, output == entry.data, || {
            format!("expected {}, got {}", show(&entry.data), show(output))
        });
    }
}

/// After a change, the current clip is the one the model expects.
fn check_current(sandbox: &Sandbox, report: &mut Report, line: &str, model: &Model) {
    let Some(current) = model.entries.first() else {
        return;
    };
    let pasted = sandbox.ok(&sandbox.board, &["paste"]);
    report.check(line, pasted == current.data, || {
        format!(
            "afterwards `shm-clip paste` gave {}, expected {}",
            show(&pasted),
            show(&current.data)
        )
    });
    if let Some(mime) = &current.mime {
        let types = sandbox.ok(&sandbox.board, &["paste", "--list-types"]);
        let types = String::from_utf8_lossy(&types);
        report.check(line, types.lines().next() == Some(mime.as_str()), || {
            format!("afterwards the current clip's types are {types:?}, expected {mime} first")
        });
    }
}

/// Runs a `shm-clip watch` line: waits until it subscribes, copies `text`
/// from another process, reads what it printed, then stops it with SIGINT
/// as Ctrl+C would. Returns whether it copied `text`.
fn run_watch(
    sandbox: &Sandbox,
    report: &mut Report,
    line: &str,
    inv: Option<&Invocation>,
    board: &str,
    text: &str,
) -> bool {
    let watchers = sandbox.subscribers(board);
    let mut child = sandbox.shell(line).spawn().expect("spawn bash");
    let lines = line_reader(child.stdout.take().expect("stdout"));
    let stderr = drain(child.stderr.take().expect("stderr"));

    let deadline = Instant::now() + TIMEOUT;
    let subscribed = loop {
        if sandbox.subscribers(board) > watchers {
            break true;
        }
        if Instant::now() >= deadline || child.try_wait().expect("try_wait").is_some() {
            break false;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let printed = if subscribed {
        sandbox.ok(board, &["copy", text]);
        lines.recv_timeout(TIMEOUT).ok()
    } else {
        None
    };

    let _ = killpg(group(&child), Signal::SIGINT);
    let status = wait_until_deadline(&mut child, TIMEOUT);
    let stderr = stderr.join().expect("stderr");
    let stderr_text = String::from_utf8_lossy(&stderr);
    let stderr_text = stderr_text.trim_end();

    if !subscribed {
        report.fail(
            line,
            format_args!("never subscribed to board {board}; stderr: {stderr_text}"),
        );
        return false;
    }
    match status {
        None => report.fail(
            line,
            format_args!("did not stop within {TIMEOUT:?} of SIGINT; killed"),
        ),
        // Ctrl+C ends a watch with exit 0, or by dying of SIGINT, as the
        // shell expects of a command it interrupted.
        Some(status) if status.success() || status.signal() == Some(Signal::SIGINT as i32) => {}
        Some(status) => report.fail(
            line,
            format_args!("ended with {status} after SIGINT; stderr: {stderr_text}"),
        ),
    }
    let errors = errors_in(&stderr);
    if !errors.is_empty() {
        report.fail(line, format_args!("printed errors: {}", errors.join("; ")));
    }
    if sandbox.subscribers(board) > watchers {
        report.fail(line, "left its subscription behind after SIGINT");
    }

    let Some(printed) = printed else {
        report.fail(
            line,
            format_args!("printed nothing within {TIMEOUT:?} of a copy; stderr: {stderr_text}"),
        );
        return true;
    };
    let size = text.len();
    let exec = inv.and_then(|inv| inv.value(&["--exec"]));
    let json = inv.is_some_and(|inv| inv.has("--json"));
    let mut problem = String::new();
    match exec {
        Some("wc -c") => {
            if printed.trim() != size.to_string() {
                let _ = write!(problem, "expected the byte count {size}");
            }
        }
        Some(_) => {}
        None if json => match serde_json::from_str::<Value>(&printed) {
            Ok(event) if event["event"] == "copy" && event["entry"]["total_size"] == size => {}
            Ok(_) => {
                let _ = write!(problem, "expected a copy event of total_size {size}");
            }
            Err(e) => {
                let _ = write!(problem, "not a JSON line ({e})");
            }
        },
        None => {
            if !printed.contains(&format!("{size} B")) {
                let _ = write!(problem, "expected the size {size} B");
            }
        }
    }
    report.check(line, problem.is_empty(), || {
        format!("after copying {text:?} it printed {printed:?}: {problem}")
    });
    true
}
