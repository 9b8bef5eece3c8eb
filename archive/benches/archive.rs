//! `cargo bench -p shm-clip-archive`: the archive's figures, each next to a
//! floor measured in the same run (BENCHMARKS.md, section "Archive").
//!
//! 1. Ingest: small clips archived per second by the archiver (board ->
//!    archive), against plain SQLite inserts of the same bytes.
//! 2. The board's copy -> paste latency with an archiver process running,
//!    against the same without one.
//! 3. Search over 100,000 archived clips: `shm-clip search` as a whole
//!    process (p50), against starting `/bin/true`; and `Archive::search`
//!    in process, what the window pays per keystroke.
//! 4. Disk: database size against the payload bytes (text).
//! 5. Writes: bytes the archiver process writes per small clip
//!    (`/proc/PID/io` `write_bytes`), against rewriting the tray's whole
//!    history file once.
//! 6. Deletes on a 100,000-clip archive: `rm` of one clip (the delete and
//!    its scrub, a rewrite and a TRUNCATE checkpoint) in process and through
//!    the archiver, `clear`, against the delete transaction alone.
//!
//! 7. One scrub of an archive near 1 GiB (`scrub`, only when named): its
//!    time, peak memory and peak extra disk, against copying the file once.
//!
//! Needs the release CLI: `cargo build --release -p shm-clip-cli` first.
//! Arguments after `--` pick parts: `ingest`, `copy-paste`, `search`
//! (search and disk), `writes`, `delete`, `scrub`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use shm_clip::{Board, BoardName, Clip, CreateOptions, Origin, OriginKind, Representation};
use shm_clip_archive::{Archive, Archiver, NewClip, Policy};

/// The generated text: a Zipf vocabulary, URLs, paths, code, numbers.
#[path = "archive/corpus.rs"]
mod corpus;
/// 6. What a delete costs on a 100,000-clip archive.
#[path = "archive/deletes.rs"]
mod deletes;
/// 7. One scrub of an archive near 1 GiB: time, memory, disk.
#[path = "archive/scrub.rs"]
mod scrub;
use corpus::{Corpus, Rng};

const ROLE: &str = "SHM_CLIP_ARCHIVE_BENCH_ROLE";

fn main() {
    if std::env::var(ROLE).as_deref() == Ok("archiver") {
        archiver_child();
        return;
    }
    let dir = std::env::temp_dir().join(format!("shm-clip-archive-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    set_mode(&dir, 0o700);
    println!(
        "# shm-clip archive bench ({} CPUs)",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    // `cargo bench ... -- copy-paste disk`: only the named parts.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let part = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    if part("ingest") {
        ingest(&dir);
    }
    if part("copy-paste") {
        copy_paste(&dir);
    }
    if part("search") {
        search_and_disk(&dir);
    }
    if part("writes") {
        writes(&dir);
    }
    if part("delete") {
        deletes::deletes(&dir);
    }
    // Not in a default run: it fills 1 GiB and needs 3 GiB of disk.
    if only.iter().any(|o| o == "scrub") {
        scrub::scrub(&dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn set_mode(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
}

fn percentiles(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort_unstable();
    let at = |q: f64| v[((v.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99), *v.last().unwrap())
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn board(name: &str, depth: u32) -> (BoardName, Board) {
    let name = BoardName::new(&format!("bench-arch-{}-{name}", std::process::id())).unwrap();
    let _ = Board::destroy(&name, true);
    let b = Board::open_with(
        &name,
        Origin::this_process(OriginKind::Cli),
        Some(CreateOptions {
            depth,
            ..CreateOptions::default()
        }),
    )
    .unwrap();
    (name, b)
}

/// 1. Small clips through the archiver: copy 100, sync, repeat.
fn ingest(dir: &Path) {
    const N: u64 = 5000;
    let (name, b) = board("ingest", 200);
    let db = dir.join("ingest.sqlite3");
    let mut a = Archiver::new(
        Board::open(&name, OriginKind::Cli).unwrap(),
        Archive::open(&db).unwrap(),
        Policy::default(),
    );
    let corpus = Corpus::new();
    let mut rng = Rng(7);
    let mut spent = Duration::ZERO;
    let mut n = 0;
    while n < N {
        for _ in 0..100 {
            n += 1;
            b.copy(&Clip::text(small(&corpus, &mut rng, n))).unwrap();
        }
        let t = Instant::now();
        a.sync().unwrap();
        spent += t.elapsed();
    }
    let rate = N as f64 / spent.as_secs_f64();
    // Floor: the same bytes as plain inserts, 100 per transaction.
    let floor_db = dir.join("floor.sqlite3");
    let conn = rusqlite::Connection::open(&floor_db).unwrap();
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE t(id INTEGER PRIMARY KEY, data BLOB);").unwrap();
    let mut rng = Rng(7);
    let t = Instant::now();
    let mut n = 0;
    while n < N {
        let tx = conn.unchecked_transaction().unwrap();
        for _ in 0..100 {
            n += 1;
            tx.execute(
                "INSERT INTO t(data) VALUES (?1)",
                [small(&corpus, &mut rng, n).into_bytes()],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let floor = N as f64 / t.elapsed().as_secs_f64();
    println!(
        "ingest: {rate:.0} small clips/s through the archiver (target >= 2000); floor (plain SQLite inserts, same batches) {floor:.0}/s; ratio {:.2}",
        floor / rate
    );
    drop(a);
    let _ = Board::destroy(&name, true);
}

fn archiver_child() {
    let name = BoardName::new(&std::env::var("BENCH_BOARD").unwrap()).unwrap();
    let db = PathBuf::from(std::env::var("BENCH_DB").unwrap());
    let board = Board::open(&name, OriginKind::Cli).unwrap();
    let mut a = Archiver::new(board, Archive::open(&db).unwrap(), Policy::default());
    let (_c, w) = shm_clip_archive::control().unwrap();
    let mut first = true;
    let _ = shm_clip_archive::run(
        &mut a,
        &w,
        shm_clip_archive::ScrubTiming::default(),
        &mut |_| {
            if first {
                first = false;
                println!("ready");
            }
        },
    );
}

fn spawn_archiver(exe: &Path, name: &BoardName, db: &Path) -> Child {
    use std::io::BufRead;
    let mut child = Command::new(exe)
        .env(ROLE, "archiver")
        .env("BENCH_BOARD", name.as_str())
        .env("BENCH_DB", db)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    child
}

/// One kind of round of [`copy_paste`]: its label, the archiver it runs
/// (none, this build's, another build's), its database, what it measured.
struct Arm {
    label: &'static str,
    exe: Option<PathBuf>,
    db: PathBuf,
    all: Vec<Duration>,
    p50s: Vec<Duration>,
    /// CPU time its archiver processes used (user + system).
    cpu: Duration,
}

/// The CPU time (user + system) process `pid` has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command's closing parenthesis; utime and
    // stime are the 14th and 15th of the whole line.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    // In USER_HZ, which Linux fixes at 100 for /proc.
    Duration::from_millis(ticks * 10)
}

impl Arm {
    fn new(label: &'static str, exe: Option<PathBuf>, db: PathBuf) -> Arm {
        Arm {
            label,
            exe,
            db,
            all: Vec::new(),
            p50s: Vec::new(),
            cpu: Duration::ZERO,
        }
    }
}

/// 2. copy -> paste on the board, with and without an archiver process.
///
/// This machine's load drifts by more than the 5 % to be resolved, so one
/// long run of each says nothing: many short rounds alternate (archiver
/// running / archiver process gone, the order rotated every round, so a
/// drift favours none), and the medians of the rounds' p50s are compared.
/// The rounds' own spread is printed as the noise beside it.
///
/// `SHM_CLIP_BENCH_BASELINE=PATH` adds a third kind of round: the archiver
/// of another build of this bench (PATH, run in its archiver role), so an
/// archiver change is measured against the one before it in the same run.
fn copy_paste(dir: &Path) {
    const ROUNDS: usize = 20;
    const N: usize = 1000;
    // A pause after each copy (not timed), so that the archiver's work on
    // one copy overlaps the next ones, as it would for a user's copies; back
    // to back, a round would be over before the archiver woke.
    const PAUSE: Duration = Duration::from_micros(200);
    let (name, b) = board("latency", 200);
    let run = |b: &Board, round: usize, all: &mut Vec<Duration>| {
        let mut v = Vec::with_capacity(N);
        for i in 0..N {
            // New text each round: the archiver has a clip to write for
            // every copy, as it would for a user's.
            let clip = Clip::text(format!("latency clip {round} {i}"));
            let t = Instant::now();
            b.copy(&clip).unwrap();
            let got = b.paste().unwrap();
            v.push(t.elapsed());
            assert_eq!(got.reps.len(), 1);
            std::thread::sleep(PAUSE);
        }
        all.extend_from_slice(&v);
        percentiles(v).0
    };
    let mut scratch = Vec::new();
    let _ = run(&b, usize::MAX, &mut scratch);
    let mut arms = vec![
        Arm::new("without an archiver", None, PathBuf::new()),
        Arm::new(
            "with this build's archiver",
            Some(std::env::current_exe().unwrap()),
            dir.join("latency.sqlite3"),
        ),
    ];
    if let Some(base) = std::env::var_os("SHM_CLIP_BENCH_BASELINE") {
        arms.push(Arm::new(
            "with the baseline build's archiver",
            Some(PathBuf::from(base)),
            dir.join("latency-baseline.sqlite3"),
        ));
    }
    let n = arms.len();
    let mut round = 0;
    for r in 0..ROUNDS {
        // Rotated every round and reversed every other one.
        let mut order: Vec<usize> = (0..n).map(|k| (k + r) % n).collect();
        if r % 2 == 1 {
            order.reverse();
        }
        for k in order {
            let arm = &mut arms[k];
            let child = arm
                .exe
                .as_ref()
                .map(|exe| spawn_archiver(exe, &name, &arm.db));
            arm.p50s.push(run(&b, round, &mut arm.all));
            round += 1;
            if let Some(mut child) = child {
                arm.cpu += cpu_time(child.id());
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    let quartiles = |v: &[Duration]| (us(v[v.len() / 4]), us(v[v.len() * 3 / 4]));
    let floor = us(median(&mut arms[0].p50s.clone()));
    let mut parts = Vec::new();
    for arm in &mut arms {
        let m = us(median(&mut arm.p50s));
        let (q1, q3) = quartiles(&arm.p50s);
        let (p50, p99, max) = percentiles(std::mem::take(&mut arm.all));
        // What the archiver did meanwhile: it must have been working.
        let archived = match arm.exe {
            Some(_) => {
                let clips = Archive::open(&arm.db).unwrap().stats().unwrap().clips;
                format!(
                    ", archived {clips} clips using {:.0} ms of CPU ({:.0} us per clip)",
                    arm.cpu.as_secs_f64() * 1e3,
                    us(arm.cpu) / clips.max(1) as f64
                )
            }
            None => String::new(),
        };
        parts.push(format!(
            "{}: median round p50 {m:.2} us (ratio to without {:.3}), round p50 quartiles {q1:.2}-{q3:.2} us, \
             all copies p50/p99/max {:.1}/{:.1}/{:.1} us{archived}",
            arm.label,
            m / floor,
            us(p50),
            us(p99),
            us(max),
        ));
    }
    println!(
        "copy->paste (small text, same process), {ROUNDS} rounds of {N} of each kind, interleaved (target: with/without <= 1.05): {}",
        parts.join("; ")
    );
    let _ = Board::destroy(&name, true);
}

/// 3 and 4. 100,000 clips of realistic text sizes; whole-process search.
#[allow(clippy::too_many_lines, reason = "one measurement, in order")]
/// An archive of `n` generated clips at `db`, filled in batches of 1,000
/// and checkpointed: the archive, the payload bytes and the time it took.
fn fill(db: &Path, n: u64) -> (Archive, u64, Duration) {
    let mut a = Archive::open(db).unwrap();
    let origin = Origin::this_process(OriginKind::Tray);
    let corpus = Corpus::new();
    let mut rng = Rng(42);
    let mut payload = 0u64;
    let t = Instant::now();
    for chunk in 0..n / 1000 {
        let clips: Vec<Vec<Representation>> = (0..1000)
            .map(|_| {
                vec![Representation {
                    mime: "text/plain;charset=utf-8".into(),
                    data: corpus.clip(&mut rng).into_bytes(),
                }]
            })
            .collect();
        payload += clips.iter().map(|r| r[0].data.len() as u64).sum::<u64>();
        a.batch(|b| {
            for (i, reps) in clips.iter().enumerate() {
                let at = SystemTime::UNIX_EPOCH
                    + Duration::from_secs(1_700_000_000 + chunk * 1000 + i as u64);
                b.insert(&NewClip {
                    board: "bench",
                    clip_id: None,
                    created: at,
                    touched: at,
                    origin: &origin,
                    pinned: false,
                    reps,
                })?;
            }
            Ok(())
        })
        .unwrap();
    }
    let fill = t.elapsed();
    a.checkpoint().unwrap();
    (a, payload, fill)
}

fn search_and_disk(dir: &Path) {
    const N: u64 = 100_000;
    let db = dir.join("search.sqlite3");
    let (a, payload, fill) = fill(&db, N);
    let corpus = Corpus::new();
    let stats = a.stats().unwrap();
    println!(
        "disk: {} clips, payload {:.1} MiB, database {:.1} MiB: {:.2}x the payload (target <= 1.3); filled in {:.1} s",
        stats.clips,
        payload as f64 / 1_048_576.0,
        stats.file_bytes as f64 / 1_048_576.0,
        stats.file_bytes as f64 / payload as f64,
        fill.as_secs_f64()
    );
    disk_breakdown(&db, payload);
    // In process, per keystroke: a word of middle rank as typed, then a
    // second word, and some whole queries.
    let mut v = Vec::new();
    for q in keystrokes(&corpus) {
        for _ in 0..5 {
            let t = Instant::now();
            let hits = a.search(&q, 20).unwrap();
            v.push(t.elapsed());
            // A one-letter last word is a whole word, which may be in no clip.
            let last = q.split_whitespace().last().unwrap_or("");
            assert!(last.len() < 2 || !hits.is_empty(), "{q}");
        }
    }
    let (p50, p99, max) = percentiles(v);
    println!(
        "search in process (the window's, limit 20, per keystroke): p50/p99/max {:.2}/{:.2}/{:.2} ms (target <= 5)",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    drop(a);
    // The window's worker today opens the file for each search
    // (app/src/worker/archive.rs): the same keystrokes, each with its open.
    let mut v = Vec::new();
    for q in keystrokes(&corpus) {
        for _ in 0..5 {
            let t = Instant::now();
            let a = Archive::open_existing(&db).unwrap().unwrap();
            let _ = a.search(&q, 20).unwrap();
            drop(a);
            v.push(t.elapsed());
        }
    }
    let (p50, p99, max) = percentiles(v);
    println!(
        "search with an open of the file per keystroke (as the window's worker does): p50/p99/max {:.2}/{:.2}/{:.2} ms (target <= 5)",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    // `SHM_CLIP_BENCH_KEEP=DIR`: keep a copy of the searched file there.
    if let Some(keep) = std::env::var_os("SHM_CLIP_BENCH_KEEP") {
        std::fs::copy(&db, Path::new(&keep).join("search.sqlite3")).unwrap();
    }
    // Whole `shm-clip search` processes, against starting /bin/true.
    let cli = shm_clip_test_kit::workspace_bin("shm-clip");
    let time = |cmd: &mut Command| {
        let t = Instant::now();
        let out = cmd.stdout(Stdio::null()).status().unwrap();
        assert!(out.success());
        t.elapsed()
    };
    let mut v = Vec::new();
    let mut floor = Vec::new();
    for q in whole_queries(&corpus) {
        for _ in 0..10 {
            v.push(time(
                Command::new(&cli)
                    .args(["--board", "bench-no-such-board", "search", &q])
                    .env("SHM_CLIP_ARCHIVE", &db)
                    .env("SHM_CLIP_CONFIG", dir.join("none.toml")),
            ));
            floor.push(time(&mut Command::new("/bin/true")));
        }
    }
    let (p50, p99, max) = percentiles(v);
    let (f50, _, _) = percentiles(floor);
    println!(
        "shm-clip search over {N} clips, whole process: p50/p99/max {:.1}/{:.1}/{:.1} ms (target p50 <= 20); floor /bin/true p50 {:.2} ms; ratio {:.1}",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        f50.as_secs_f64() * 1e3,
        p50.as_secs_f64() / f50.as_secs_f64()
    );
}

/// Where the database's bytes are: each table and index (SQLite's
/// `dbstat`), against the payload, largest first.
fn disk_breakdown(db: &Path, payload: u64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let rows: Vec<(String, i64, i64)> = conn
        .prepare("SELECT name, sum(pgsize), sum(unused) FROM dbstat GROUP BY name ORDER BY 2 DESC")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let free: i64 = conn
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .unwrap();
    let parts: Vec<String> = rows
        .iter()
        .filter(|r| r.1 >= 64 * 1024)
        .map(|(name, size, unused)| {
            format!(
                "{name} {:.2} MiB {:.3}x ({:.0} % unused)",
                *size as f64 / 1_048_576.0,
                *size as f64 / payload as f64,
                100.0 * *unused as f64 / *size as f64
            )
        })
        .collect();
    let (stored, raw, packed): (i64, i64, i64) = conn
        .query_row(
            "SELECT sum(length(data)), sum(total_size), count(*) FILTER (WHERE codec = 1) FROM clips",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap_or_default();
    println!(
        "disk by object: {}; free pages {free}; clip content stored in {:.2} MiB for {:.2} MiB ({packed} clips compressed)",
        parts.join(", "),
        stored as f64 / 1_048_576.0,
        raw as f64 / 1_048_576.0
    );
}

/// A small clip (about 60 bytes) of prose, unique by its number.
fn small(corpus: &Corpus, rng: &mut Rng, n: u64) -> String {
    format!("{n} {}", corpus.prose(rng, 56))
}

/// What the window's search gets while a user types: a word of middle
/// rank letter by letter, then a common word and a second, rarer one.
fn keystrokes(corpus: &Corpus) -> Vec<String> {
    let w = &corpus.words;
    let mut q: Vec<String> = (1..=w[700].len()).map(|n| w[700][..n].to_owned()).collect();
    let second = &w[300];
    q.extend((1..=second.len().min(4)).map(|n| format!("{} {}", w[700], &second[..n])));
    q.push(format!("the {}", w[1500]));
    q.push(w[3000].clone());
    q.push(format!("https {}", w[80]));
    q.push(format!("{} {} {}", w[5], w[12], &w[200][..2]));
    q
}

/// Whole `shm-clip search` commands: a common word, a rare one, two words.
fn whole_queries(corpus: &Corpus) -> Vec<String> {
    let w = &corpus.words;
    vec![
        w[60].clone(),
        format!("{} {}", w[700], w[300]),
        w[3000].clone(),
        format!("the {}", &w[1500][..3]),
        format!("{} {}", w[5], w[200]),
    ]
}

fn write_bytes(pid: u32) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Measurement 5: what the archiver writes per small clip, and what one save of the
/// tray's whole history file writes.
fn writes(dir: &Path) {
    const N: usize = 1000;
    // Deep enough that no clip is evicted before the archiver looks (1,000
    // copies in a burst outrun it on a 200-entry board).
    let (name, b) = board("writes", 1100);
    let db = dir.join("writes.sqlite3");
    let child = spawn_archiver(&std::env::current_exe().unwrap(), &name, &db);
    let before = write_bytes(child.id());
    let mut last = 0;
    for i in 0..N {
        let c = b
            .copy(&Clip::text(format!(
                "a small clip number {i} with a few words"
            )))
            .unwrap();
        last = c.seq;
    }
    // Wait until the archiver has it all: the last clip in the file.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let a = Archive::open(&db).unwrap();
        if a.stats().unwrap().clips as usize >= N {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the archiver did not catch up (seq {last})"
        );
        std::thread::yield_now();
    }
    let after = write_bytes(child.id());
    let mut child = child;
    let _ = child.kill();
    let _ = child.wait();
    let per = (after - before) as f64 / N as f64;
    // The tray's file for a default 200-entry board of these clips (200 x
    // ~40 B plus framing),
    // rewritten whole at each save.
    let hist = b.history().unwrap();
    let file: u64 = 20
        + hist
            .iter()
            .map(|e| {
                1 + 12
                    + 16
                    + 4
                    + e.total_size
                    + e.types
                        .iter()
                        .map(|(m, _)| 12 + m.len() as u64)
                        .sum::<u64>()
            })
            .sum::<u64>();
    println!(
        "writes: the archiver wrote {per:.0} bytes per small clip ({N} clips, /proc/PID/io write_bytes); one rewrite of the tray's whole history file of this board is {file} bytes (the tray rewrites it at most every 2 s: during 1,000 copies that is one rewrite per 2 s of copying, each the whole file, up to 64 MiB for a full board)"
    );
    let _ = Board::destroy(&name, true);
}
