//! 6. What "deleted means gone" costs on a 100,000-clip archive: every
//! delete is followed by a scrub (a rewrite of the whole file, `VACUUM INTO`
//! a copy and the copy put back, then a TRUNCATE checkpoint,
//! `Archive::scrub`). The floor is the
//! delete transaction alone, and the delete with the checkpoint that was
//! all a delete did before (Session 7).

use std::path::Path;
use std::time::{Duration, Instant};

use shm_clip::{Clip, Selector};
use shm_clip_archive::{Archive, Archiver, Policy};

use super::{board, fill, percentiles};

const N: u64 = 100_000;
/// Deletes timed per figure: each costs a rewrite of the file.
const ROUNDS: usize = 5;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn line(what: &str, v: Vec<Duration>) {
    let (p50, _, max) = percentiles(v);
    println!("{what}: p50/max {:.1}/{:.1} ms", ms(p50), ms(max));
}

/// The process's peak resident memory (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

pub fn deletes(dir: &Path) {
    let db = dir.join("delete.sqlite3");
    let (mut a, payload, _) = fill(&db, N);
    let stats = a.stats().unwrap();
    println!(
        "delete: {} clips, payload {:.1} MiB, database {:.1} MiB",
        stats.clips,
        payload as f64 / 1_048_576.0,
        stats.file_bytes as f64 / 1_048_576.0
    );
    let ids: Vec<i64> = a
        .list(3 * ROUNDS, 0)
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    let mut ids = ids.into_iter();
    let mut alone = Vec::new();
    let mut before = Vec::new();
    for _ in 0..ROUNDS {
        let id = ids.next().unwrap();
        let t = Instant::now();
        assert!(a.batch(|b| b.delete(id)).unwrap());
        alone.push(t.elapsed());
        a.checkpoint().unwrap();
        before.push(t.elapsed());
    }
    line("floor: the delete transaction of one clip alone", alone);
    line(
        "floor: the same with a TRUNCATE checkpoint (a delete before Session 7)",
        before,
    );
    let rss = peak_rss_kib();
    let mut rm = Vec::new();
    for _ in 0..ROUNDS {
        let id = ids.next().unwrap();
        let t = Instant::now();
        assert_eq!(a.delete(&[id]).unwrap(), 1);
        rm.push(t.elapsed());
        assert!(!a.scrub_pending());
    }
    line(
        "Archive::delete of one clip (delete, rewrite, TRUNCATE checkpoint)",
        rm,
    );
    println!(
        "peak resident memory: {} MiB before the scrubs, {} MiB after (the scrub's copy is on disk)",
        rss / 1024,
        peak_rss_kib() / 1024
    );
    drop(a);
    through_the_archiver(&db);
    let mut a = Archive::open(&db).unwrap();
    let t = Instant::now();
    let n = a.clear().unwrap();
    println!(
        "Archive::clear (clear --all) of {n} clips, with its scrub: {:.1} ms",
        ms(t.elapsed())
    );
}

/// `rm` on a board, then the archiver's look that applies it: how long the
/// archiver is busy after a delete (its delay for what comes next), and
/// what the board's copies cost while it scrubs (they never wait for it).
fn through_the_archiver(db: &Path) {
    let (name, b) = board("delete", 200);
    // A second handle on the same board: the copies a user makes meanwhile.
    let user = shm_clip::Board::open(&name, shm_clip::OriginKind::Cli).unwrap();
    for i in 0..200 {
        b.copy(&Clip::text(format!("board clip {i} for the delete bench")))
            .unwrap();
    }
    let archiver = Archiver::new(b, Archive::open(db).unwrap(), Policy::default());
    let mut archiver = Some(archiver);
    archiver.as_mut().unwrap().sync().unwrap();
    // The floor: the same copies with no look running.
    let mut quiet = Vec::new();
    for k in 0..5000 {
        let t = Instant::now();
        user.copy(&Clip::text(format!("copied with no look running {k}")))
            .unwrap();
        quiet.push(t.elapsed());
    }
    let (p50, p99, max) = percentiles(quiet);
    println!(
        "floor: board copies with no look running (5000): p50/p99/max {:.1}/{:.1}/{:.1} us",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        max.as_secs_f64() * 1e6
    );
    let mut looks = Vec::new();
    let mut copies = Vec::new();
    let mut during = Vec::new();
    for _ in 0..ROUNDS {
        let mut arch = archiver.take().unwrap();
        // The last round's copies archived first, as the notes would have.
        arch.sync().unwrap();
        arch.board().delete(Selector::Current).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = std::thread::Builder::new()
            .name("archiver".into())
            .spawn(move || {
                let t = Instant::now();
                let done = arch.sync().unwrap();
                let took = t.elapsed();
                tx.send(()).unwrap();
                (arch, done, took)
            })
            .unwrap();
        // Copies on the board while the look applies the delete and
        // scrubs (at most 1,000: the next look archives them).
        // Unique texts: a copy equal to the deleted clip would bring it
        // back (the archive keeps content that is still on the board).
        let mut k = 0u32;
        while rx.try_recv().is_err() && k < 1000 {
            let t = Instant::now();
            user.copy(&Clip::text(format!(
                "copied while scrubbing {} {k}",
                looks.len()
            )))
            .unwrap();
            copies.push(t.elapsed());
            k += 1;
        }
        let (arch, done, took) = worker.join().unwrap();
        assert_eq!(done.deleted, 1, "{done:?}");
        during.push(k);
        looks.push(took);
        archiver = Some(arch);
    }
    line(
        "rm on the board -> the archiver's look that deletes and scrubs",
        looks,
    );
    let (p50, p99, max) = percentiles(copies);
    println!(
        "board copies during those looks ({:?} per look): p50/p99/max {:.1}/{:.1}/{:.1} us",
        during,
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        max.as_secs_f64() * 1e6
    );
    let mut arch = archiver.take().unwrap();
    arch.sync().unwrap();
    arch.board().clear(false).unwrap();
    let t = Instant::now();
    let done = arch.sync().unwrap();
    println!(
        "clear on the board ({} clips) -> the archiver's look that deletes and scrubs: {:.1} ms",
        done.deleted,
        ms(t.elapsed())
    );
}
