//! `docs/json.md` is the contract of every `--json` output, and this test
//! holds the real outputs to it.
//!
//! It runs `history --json`, `status --json` and `watch --json` against a
//! real board while real `shm-clip` processes copy, select, pin, unpin,
//! delete, clear, subscribe and destroy. Then, for each output, every field
//! path and JSON type seen must be in the document's table, and every field
//! and type in the table must have been seen. The tables' fingerprint is
//! pinned per schema number, so that a field cannot change without a bump.

use shm_clip_test_kit as common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

/// The longest any single wait may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The fingerprint of docs/json.md's field tables for each schema number,
/// append-only. A change of the tables needs a new schema number, a line in
/// the document's changelog and a new line here.
const FINGERPRINTS: &[(u64, &str)] = &[(1, "59cb4243531caa27"), (2, "96bc9744a54da02e")];

/// Documented types that this test cannot produce, with the reason.
const UNOBSERVED: &[(&str, &str, &str)] = &[
    (
        "status --json",
        "subscribers[].pending",
        // Only a mailbox that cannot be opened (another user's, or one removed
        // under its owner) has no count.
        "null",
    ),
    // Only a clip archived by a build before layout v3's ids (or from a
    // slot that had none) has no clip id; every board entry now has one.
    ("history --archive --json", "clip_id", "null"),
];

/// The outputs that the document describes.
const OUTPUTS: [&str; 6] = [
    "history --json",
    "status --json",
    "watch --json",
    "history --archive --json",
    "search --json",
    "archive stats --json",
];

const EVENT_KINDS: [&str; 8] = [
    "copy",
    "select",
    "pin",
    "unpin",
    "delete",
    "clear",
    "destroy",
    "subscribe",
];

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_shm-clip")
}

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/json.md");
    std::fs::read_to_string(path).expect("docs/json.md")
}

// ---------------------------------------------------------------------------
// The document.

/// What docs/json.md says: the current schema, each output's fields with
/// their types, the event kinds and the changelog's schema numbers.
#[derive(Debug)]
struct Schema {
    current: u64,
    fields: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    kinds: Vec<String>,
    changelog: Vec<u64>,
}

fn parse_doc(text: &str) -> Schema {
    let current = text
        .lines()
        .find_map(|l| l.strip_prefix("Current schema: **")?.strip_suffix("**"))
        .expect("a 'Current schema: **N**' line")
        .parse()
        .expect("the current schema is a number");
    let mut fields: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let mut kinds = Vec::new();
    let mut changelog = Vec::new();
    let mut section = String::new();
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("## ").or(line.strip_prefix("### ")) {
            heading.trim_matches('`').clone_into(&mut section);
            continue;
        }
        let Some(row) = line.strip_prefix('|') else {
            continue;
        };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let first = cells[0];
        if first.starts_with("---") || !first.starts_with('`') && section != "Changelog" {
            continue;
        }
        match section.as_str() {
            s if OUTPUTS.contains(&s) => {
                let types = cells[1]
                    .split(" or ")
                    .map(|t| t.trim().to_owned())
                    .collect::<BTreeSet<_>>();
                for t in &types {
                    assert!(
                        ["string", "integer", "boolean", "object", "array", "null"]
                            .contains(&t.as_str()),
                        "{section}: {first} has an unknown type {t:?}"
                    );
                }
                let path = first.trim_matches('`').to_owned();
                let previous = fields
                    .entry(section.clone())
                    .or_default()
                    .insert(path, types);
                assert!(previous.is_none(), "{section}: {first} is listed twice");
            }
            "Event kinds" => kinds.push(first.trim_matches('`').to_owned()),
            "Changelog" => {
                if let Ok(n) = first.parse() {
                    changelog.push(n);
                }
            }
            _ => {}
        }
    }
    for output in OUTPUTS {
        assert!(
            fields.contains_key(output),
            "docs/json.md has no `{output}` table"
        );
    }
    Schema {
        current,
        fields,
        kinds,
        changelog,
    }
}

impl Schema {
    /// FNV-1a over the tables in a canonical form: any change of a field's
    /// path or types, or of the event kinds, changes it.
    fn fingerprint(&self) -> String {
        let mut canon = String::new();
        for (output, fields) in &self.fields {
            for (path, types) in fields {
                let types: Vec<&str> = types.iter().map(String::as_str).collect();
                let _ = writeln!(canon, "{output}|{path}|{}", types.join(","));
            }
        }
        canon.push_str(&self.kinds.join(","));
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in canon.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{hash:016x}")
    }
}

// ---------------------------------------------------------------------------
// The outputs.

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_u64() => "integer",
        Value::Number(_) => "number (not an integer)",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Adds every field path of the top-level object `v`, with the JSON type of
/// its value, to `seen`.
fn collect(v: &Value, prefix: &str, seen: &mut BTreeMap<String, BTreeSet<String>>) {
    match v {
        Value::Object(map) => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                seen.entry(path.clone())
                    .or_default()
                    .insert(json_type(value).to_owned());
                collect(value, &path, seen);
            }
        }
        Value::Array(items) => {
            let path = format!("{prefix}[]");
            for item in items {
                if !item.is_object() {
                    seen.entry(path.clone())
                        .or_default()
                        .insert(json_type(item).to_owned());
                }
                collect(item, &path, seen);
            }
        }
        _ => {}
    }
}

/// Compares what `output` printed with its table, both ways.
fn check_against_doc(schema: &Schema, output: &str, objects: &[Value]) -> Vec<String> {
    let documented = &schema.fields[output];
    let mut seen = BTreeMap::new();
    for object in objects {
        collect(object, "", &mut seen);
    }
    let mut problems = Vec::new();
    for (path, types) in &seen {
        match documented.get(path) {
            None => problems.push(format!("{output}: field `{path}` is not in docs/json.md")),
            Some(allowed) => {
                for t in types.difference(allowed) {
                    problems.push(format!(
                        "{output}: `{path}` was {t}, docs/json.md says {allowed:?}"
                    ));
                }
            }
        }
    }
    for (path, types) in documented {
        let got = seen.get(path).cloned().unwrap_or_default();
        for t in types.difference(&got) {
            if !UNOBSERVED.contains(&(output, path.as_str(), t.as_str())) {
                problems.push(format!(
                    "{output}: docs/json.md lists `{path}` as {t}, never seen"
                ));
            }
        }
    }
    problems
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's
/// `days_from_civil`), to check RFC 3339 strings against the `_ms` fields.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2025-03-07T14:05:09.123Z` as epoch milliseconds.
fn rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let shape = b.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z';
    if !shape {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let days = days_from_civil(n(0..4)?, n(5..7)?, n(8..10)?);
    let secs = days * 86_400 + n(11..13)? * 3600 + n(14..16)? * 60 + n(17..19)?;
    Some(secs * 1000 + n(20..23)?)
}

/// Every `X` string field of `v`, at any depth, agrees with its `X_ms`.
fn check_times(v: &Value, problems: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (key, value) in map {
                if let Some(ms) = map.get(&format!("{key}_ms")) {
                    // A time that does not apply is null in both fields.
                    if value.is_null() && ms.is_null() {
                        continue;
                    }
                    let parsed = value.as_str().and_then(rfc3339_ms);
                    if parsed.is_none() || parsed != ms.as_i64() {
                        problems.push(format!("`{key}` {value} does not match `{key}_ms` {ms}"));
                    }
                }
                check_times(value, problems);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| check_times(i, problems)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Processes.

struct TestBoard {
    name: String,
    /// A 0700 directory of this test's own for the archive.
    dir: std::path::PathBuf,
}

impl TestBoard {
    fn new(test: &str) -> Self {
        let name = format!("t-json-{}-{test}", std::process::id());
        let dir = std::env::temp_dir().join(format!("{name}-archive"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        TestBoard { name, dir }
    }

    fn archive(&self) -> std::path::PathBuf {
        self.dir.join("archive.sqlite3")
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::new(bin());
        cmd.env_remove("SHM_CLIP_BOARD")
            .env("SHM_CLIP_ARCHIVE", self.archive())
            .env("RUST_LOG", "warn")
            .arg("--board")
            .arg(&self.name);
        cmd
    }

    fn run(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .cmd()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn shm-clip");
        let mut stdin = child.stdin.take().unwrap();
        std::io::Write::write_all(&mut stdin, input).unwrap();
        drop(stdin);
        let out = common::within(&format!("shm-clip {}", args[0]), TIMEOUT, move || {
            child.wait_with_output().unwrap()
        });
        assert!(
            out.status.success(),
            "shm-clip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_slice(&self.run(args, b"").stdout).expect("JSON")
    }

    /// The pids in the subscriber table; none while the board does not
    /// exist yet (a `watch` just started creates it).
    fn subscriber_pids(&self) -> Vec<u64> {
        let out = self.cmd().args(["status", "--json"]).output().unwrap();
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("does not exist"), "status failed: {stderr}");
            return Vec::new();
        }
        let status: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        status["subscribers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["origin"]["pid"].as_u64().unwrap())
            .collect()
    }
}

impl Drop for TestBoard {
    fn drop(&mut self) {
        if let Ok(mut child) = self
            .cmd()
            .args(["destroy", "--force"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            let _ = common::wait_or_kill(&mut child, TIMEOUT, |c| {
                let _ = c.kill();
            });
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running `watch`, its stdout line by line.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Watch {
    fn start(board: &TestBoard, args: &[&str]) -> Self {
        let mut child = board
            .cmd()
            .arg("watch")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn watch");
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        common::spawn_named("watch-stdout", move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let pid = u64::from(child.id());
        let deadline = Instant::now() + TIMEOUT;
        // Subscribed: its pid is in the table (a state we can see, not a delay).
        while !board.subscriber_pids().contains(&pid) {
            assert!(Instant::now() < deadline, "watch never subscribed");
            std::thread::yield_now();
        }
        Watch { child, lines }
    }

    /// The next event, which must be of `kind`.
    fn expect(&self, kind: &str) -> Value {
        let line = self
            .lines
            .recv_timeout(TIMEOUT)
            .unwrap_or_else(|_| panic!("no `{kind}` event from watch --json"));
        let event: Value = serde_json::from_str(&line).expect("a JSON line");
        assert_eq!(event["event"], kind, "{line}");
        event
    }

    fn stop(mut self) {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).unwrap();
        common::wait_or_kill(&mut self.child, TIMEOUT, |c| {
            let _ = c.kill();
        })
        .expect("watch stops on SIGTERM");
    }
}

// ---------------------------------------------------------------------------

#[test]
fn the_schema_document_is_pinned_to_its_version() {
    let schema = parse_doc(&doc());
    let fingerprint = schema.fingerprint();
    let pinned = FINGERPRINTS
        .iter()
        .find(|(n, _)| *n == schema.current)
        .map(|(_, f)| *f);
    assert_eq!(
        pinned,
        Some(fingerprint.as_str()),
        "docs/json.md's tables do not match the fingerprint of schema {}: a field \
         changed without a schema bump. Bump SCHEMA in cli/src/json/mod.rs and \
         'Current schema' in docs/json.md to {}, add a changelog row, and add ({}, \
         \"{fingerprint}\") to FINGERPRINTS",
        schema.current,
        schema.current + 1,
        schema.current + 1,
    );
    let max = FINGERPRINTS.iter().map(|(n, _)| *n).max().unwrap();
    assert_eq!(
        schema.current, max,
        "docs/json.md is not at the newest schema"
    );
    let versions: Vec<u64> = (1..=schema.current).collect();
    assert_eq!(schema.changelog, versions, "one changelog row per schema");
    assert_eq!(schema.kinds, EVENT_KINDS, "the event kinds");
}

/// Outputs collected from real commands, by the table they belong to.
#[derive(Default)]
struct Samples {
    history: Vec<Value>,
    statuses: Vec<Value>,
    events: Vec<Value>,
    archived: Vec<Value>,
    hits: Vec<Value>,
    archive_stats: Vec<Value>,
}

#[test]
fn every_json_output_matches_the_schema_document() {
    let schema = parse_doc(&doc());
    let board = TestBoard::new("all");
    let mut samples = Samples::default();

    // `watch` creates the board; nothing is committed yet.
    let watch = Watch::start(&board, &["--json"]);
    let fresh = board.json(&["status", "--json"]);
    assert!(fresh["last_change"].is_null(), "{fresh}");
    samples.statuses.push(fresh);
    edit_the_history(&board, &watch, &mut samples);
    subscribe_and_leave(&board, &watch, &mut samples);
    archive_outputs(&board, &watch, &mut samples);
    destroy(&board, watch, &mut samples);

    let kinds: BTreeSet<&str> = samples
        .events
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert_eq!(kinds, EVENT_KINDS.into_iter().collect(), "every kind seen");
    let mut problems = Vec::new();
    for (output, objects) in [
        ("history --json", &samples.history),
        ("status --json", &samples.statuses),
        ("watch --json", &samples.events),
        ("history --archive --json", &samples.archived),
        ("search --json", &samples.hits),
        ("archive stats --json", &samples.archive_stats),
    ] {
        for object in objects {
            if object["schema"] != schema.current {
                problems.push(format!(
                    "{output}: schema is not {}: {object}",
                    schema.current
                ));
            }
            check_times(object, &mut problems);
        }
        problems.extend(check_against_doc(&schema, output, objects));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// copy (text and an image), select, pin, unpin, rm, clear; each event is
/// awaited before the next command.
fn edit_the_history(board: &TestBoard, watch: &Watch, samples: &mut Samples) {
    let text = "héllo\n\tworld";
    board.run(&["copy", text], b"");
    let copied = watch.expect("copy");
    assert_eq!(copied["entry"]["index"], 0, "{copied}");
    assert_eq!(copied["origin"]["kind"], "cli", "{copied}");
    assert_eq!(copied["origin"]["label"], "cli", "{copied}");
    assert!(
        copied["entry"].get("text").is_none(),
        "watch prints no content"
    );
    samples.events.push(copied);
    board.run(
        &["copy", "-t", "image/png"],
        b"\x89PNG\r\n\x1a\n-not-really",
    );
    samples.events.push(watch.expect("copy"));
    let entries = board.json(&["history", "--json"]);
    // Raw text and a separate display preview; no text for an image.
    let entry = &entries[1];
    assert_eq!(entry["text"], text, "{entry}");
    assert_eq!(entry["text_truncated"], false, "{entry}");
    assert_eq!(entry["preview"], "héllo⏎ world", "{entry}");
    assert_eq!(entry["origin"]["label"], "cli", "{entry}");
    assert!(entries[0]["text"].is_null(), "{}", entries[0]);
    let text_seq = entry["seq"].clone();
    samples.history.extend(entries.as_array().unwrap().clone());

    board.run(&["select", "1"], b"");
    let selected = watch.expect("select");
    assert_eq!(selected["entry"]["seq"], text_seq, "{selected}");
    samples.events.push(selected);
    board.run(&["pin", "1"], b"");
    let pinned = watch.expect("pin");
    assert_eq!(pinned["entry"]["pinned"], true, "{pinned}");
    samples.events.push(pinned);
    board.run(&["unpin", "1"], b"");
    samples.events.push(watch.expect("unpin"));
    board.run(&["rm", "0"], b"");
    let deleted = watch.expect("delete");
    assert_eq!(
        deleted["removed"],
        serde_json::json!([text_seq]),
        "{deleted}"
    );
    assert!(deleted["entry"].is_null(), "{deleted}");
    samples.events.push(deleted);

    board.run(&["copy", "a"], b"");
    samples.events.push(watch.expect("copy"));
    board.run(&["copy", &"x".repeat(600)], b"");
    samples.events.push(watch.expect("copy"));
    let entries = board.json(&["history", "--json"]);
    assert_eq!(entries[0]["text_truncated"], true, "{}", entries[0]);
    assert_eq!(entries[0]["text"].as_str().map(str::len), Some(512));
    samples.history.extend(entries.as_array().unwrap().clone());
    board.run(&["clear"], b"");
    let cleared = watch.expect("clear");
    assert_eq!(
        cleared["removed"].as_array().map(Vec::len),
        Some(3),
        "{cleared}"
    );
    samples.events.push(cleared);
}

/// Another watcher comes and goes: two `subscribe` events.
fn subscribe_and_leave(board: &TestBoard, watch: &Watch, samples: &mut Samples) {
    let other = Watch::start(board, &[]);
    let joined = watch.expect("subscribe");
    assert_eq!(joined["subscribers"], 2, "{joined}");
    assert_eq!(joined["origin"]["pid"], other.child.id(), "{joined}");
    samples.events.push(joined);
    let status = board.json(&["status", "--json"]);
    assert_eq!(status["mode"], "0600", "{status}");
    assert!(status["last_change"].is_object(), "{status}");
    samples.statuses.push(status);
    other.stop();
    let left = watch.expect("subscribe");
    assert_eq!(left["subscribers"], 1, "{left}");
    samples.events.push(left);
}

/// The archive's outputs: stats before there is an archive, then two clips
/// archived (one pinned) and one of them removed from the board only, so
/// that a search has a board hit and an archive hit.
fn archive_outputs(board: &TestBoard, watch: &Watch, samples: &mut Samples) {
    let none = board.json(&["archive", "stats", "--json"]);
    assert!(none["oldest"].is_null(), "{none}");
    samples.archive_stats.push(none);
    board.run(&["copy", "findme alpha"], b"");
    samples.events.push(watch.expect("copy"));
    board.run(&["copy", "findme beta"], b"");
    samples.events.push(watch.expect("copy"));
    board.run(&["pin", "0"], b"");
    samples.events.push(watch.expect("pin"));
    let name = shm_clip::BoardName::new(&board.name).unwrap();
    let mut archiver = shm_clip_archive::Archiver::new(
        shm_clip::Board::open(&name, shm_clip::OriginKind::Cli).unwrap(),
        shm_clip_archive::Archive::open(&board.archive()).unwrap(),
        shm_clip_archive::Policy::default(),
    );
    assert_eq!(archiver.sync().unwrap().archived, 2);
    drop(archiver);
    // Off the board, still archived (no archiver runs to see the rm).
    board.run(&["rm", "1"], b"");
    samples.events.push(watch.expect("delete"));
    let hits = board.json(&["search", "--json", "findme"]);
    let places: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["location"].as_str().unwrap())
        .collect();
    assert_eq!(places.len(), 2, "{hits}");
    assert!(
        places.contains(&"board") && places.contains(&"archive"),
        "{hits}"
    );
    samples.hits.extend(hits.as_array().unwrap().clone());
    let listed = board.json(&["history", "--archive", "--json"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    samples.archived.extend(listed.as_array().unwrap().clone());
    samples
        .archive_stats
        .push(board.json(&["archive", "stats", "--json"]));
}

/// Destroyed: a last event, then watch exits and says why.
fn destroy(board: &TestBoard, watch: Watch, samples: &mut Samples) {
    board.run(&["destroy"], b"");
    let destroyed = watch.expect("destroy");
    assert!(destroyed["origin"].is_null(), "{destroyed}");
    samples.events.push(destroyed);
    let mut child = watch.child;
    let mut stderr = child.stderr.take().unwrap();
    let exit = common::wait_or_kill(&mut child, TIMEOUT, |c| {
        let _ = c.kill();
    })
    .expect("watch exits after destroy");
    let mut message = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut message).unwrap();
    assert!(
        !exit.success() && message.contains("destroyed"),
        "{exit}: {message}"
    );
}

#[test]
fn the_checker_catches_what_it_should() {
    let schema = parse_doc(&doc());
    let good = serde_json::json!({ "schema": 1, "name": "x" });
    let problems = check_against_doc(&schema, "status --json", &[good]);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`mode`") && p.contains("never seen")),
        "{problems:?}"
    );
    let bad = serde_json::json!({ "schema": 1, "mode": 384, "surprise": true });
    let problems = check_against_doc(&schema, "status --json", &[bad]);
    assert!(
        problems.iter().any(|p| p.contains("`mode` was integer")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("`surprise`")),
        "{problems:?}"
    );
    let mut times = Vec::new();
    check_times(
        &serde_json::json!({ "at": "2000-02-29T00:00:00.000Z", "at_ms": 951_782_400_000_u64 }),
        &mut times,
    );
    assert!(times.is_empty(), "{times:?}");
    check_times(
        &serde_json::json!({ "at": "2000-02-29T00:00:01.000Z", "at_ms": 951_782_400_000_u64 }),
        &mut times,
    );
    assert_eq!(times.len(), 1);
}
