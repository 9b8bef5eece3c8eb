//! 7. One scrub of an archive near the default `archive.max_bytes` (1 GiB),
//! mostly image-sized blobs plus text: its wall time, the process's peak
//! resident memory while it runs (`VmHWM`, reset just before through
//! `/proc/self/clear_refs`), and the peak extra disk it takes beside the
//! database (its WAL, the scrub's copy, any other file in the directory),
//! sampled every 5 ms by a thread. The floor is copying the database file
//! once (`std::fs::copy`): the least a rewrite of the whole file can cost.
//!
//! `SHM_CLIP_BENCH_SCRUB_MIB` sets the image payload (default 960 MiB).

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use shm_clip::{Origin, OriginKind, Representation};
use shm_clip_archive::{Archive, NewClip};

use super::corpus::{Corpus, Rng};

/// Text clips beside the images.
const TEXTS: u64 = 20_000;
/// One image: about a screenshot's PNG.
const IMAGE: usize = 1 << 20;

fn mib(b: u64) -> f64 {
    b as f64 / 1_048_576.0
}

/// This process's resident memory now and at its peak (`VmRSS`, `VmHWM`), KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Bytes the files in `dir` take on disk (allocated blocks).
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |rd| {
        rd.filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.blocks() * 512)
            .sum()
    })
}

fn fill(db: &Path, images: u64) -> Archive {
    let mut a = Archive::open(db).unwrap();
    let origin = Origin::this_process(OriginKind::Tray);
    let corpus = Corpus::new();
    let mut rng = Rng(7);
    let at = |i: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i);
    // Images in batches of 32, each 1 MiB of incompressible bytes.
    let mut n = 0u64;
    while n < images {
        let batch: Vec<Vec<Representation>> = (0..32.min(images - n))
            .map(|_| {
                let mut data = vec![0u8; IMAGE];
                for c in data.chunks_exact_mut(8) {
                    c.copy_from_slice(&rng.next().to_le_bytes());
                }
                vec![Representation {
                    mime: "image/png".into(),
                    data,
                }]
            })
            .collect();
        a.batch(|b| {
            for reps in &batch {
                n += 1;
                b.insert(&NewClip {
                    board: "bench",
                    clip_id: None,
                    created: at(n),
                    touched: at(n),
                    origin: &origin,
                    pinned: false,
                    reps,
                })?;
            }
            Ok(())
        })
        .unwrap();
    }
    for chunk in 0..TEXTS / 1000 {
        let clips: Vec<Vec<Representation>> = (0..1000)
            .map(|_| {
                vec![Representation {
                    mime: "text/plain;charset=utf-8".into(),
                    data: corpus.clip(&mut rng).into_bytes(),
                }]
            })
            .collect();
        a.batch(|b| {
            for (i, reps) in clips.iter().enumerate() {
                let t = at(images + chunk * 1000 + i as u64);
                b.insert(&NewClip {
                    board: "bench",
                    clip_id: None,
                    created: t,
                    touched: t,
                    origin: &origin,
                    pinned: false,
                    reps,
                })?;
            }
            Ok(())
        })
        .unwrap();
    }
    a.checkpoint().unwrap();
    a
}

pub fn scrub(dir: &Path) {
    let images: u64 = std::env::var("SHM_CLIP_BENCH_SCRUB_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(960);
    let sub = dir.join("scrub");
    std::fs::create_dir_all(&sub).unwrap();
    super::set_mode(&sub, 0o700);
    let db = sub.join("archive.sqlite3");
    let t = Instant::now();
    let mut a = fill(&db, images);
    let filled = t.elapsed();
    let size = std::fs::metadata(&db).unwrap().len();
    println!(
        "scrub: {images} images of 1 MiB and {TEXTS} text clips, database {:.1} MiB, filled in {:.1} s",
        mib(size),
        filled.as_secs_f64()
    );
    // The floor: the file read and written once.
    let copy = sub.join("floor-copy");
    let t = Instant::now();
    std::fs::copy(&db, &copy).unwrap();
    let floor = t.elapsed();
    std::fs::remove_file(&copy).unwrap();
    let ids: Vec<i64> = a.list(2, 0).unwrap().into_iter().map(|i| i.id).collect();
    for (round, id) in ids.into_iter().enumerate() {
        let base = dir_bytes(&sub);
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (stop, sub) = (Arc::clone(&stop), sub.clone());
            std::thread::Builder::new()
                .name("disk-sampler".into())
                .spawn(move || {
                    let mut peak = 0;
                    while !stop.load(Ordering::Relaxed) {
                        peak = peak.max(dir_bytes(&sub));
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    peak
                })
                .unwrap()
        };
        // Resets VmHWM to the current RSS (Linux >= 4.0), so that the peak
        // read after is the scrub's own.
        std::fs::write("/proc/self/clear_refs", "5").unwrap();
        let (rss_before, _) = rss_kib();
        let t = Instant::now();
        assert_eq!(a.delete(&[id]).unwrap(), 1);
        let took = t.elapsed();
        let (_, hwm) = rss_kib();
        stop.store(true, Ordering::Relaxed);
        let peak_disk = sampler.join().unwrap().max(dir_bytes(&sub));
        assert!(!a.scrub_pending());
        println!(
            "scrub {round}: Archive::delete of one clip with its scrub {:.2} s (floor: copying the file once {:.2} s, ratio {:.1}); \
             resident memory {:.1} MiB before, peak {:.1} MiB (+{:.1} MiB); disk of the directory {:.1} MiB before, peak {:.1} MiB (+{:.1} MiB), after {:.1} MiB",
            took.as_secs_f64(),
            floor.as_secs_f64(),
            took.as_secs_f64() / floor.as_secs_f64(),
            rss_before as f64 / 1024.0,
            hwm as f64 / 1024.0,
            hwm.saturating_sub(rss_before) as f64 / 1024.0,
            mib(base),
            mib(peak_disk),
            mib(peak_disk.saturating_sub(base)),
            mib(dir_bytes(&sub)),
        );
    }
    drop(a);
    std::fs::remove_dir_all(&sub).unwrap();
}
