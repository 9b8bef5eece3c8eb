//! `destroy` means destroyed, end to end: a real tray serving a real X
//! server's CLIPBOARD, xclip as the application that pastes, and the
//! history the tray keeps on disk in the archive (issue 13, section 1;
//! issue 12).

mod tray_support;

use std::path::Path;

use shm_clip_test_kit::contains;
use tray_support::{World, wait_for};

/// Every file below `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_destroyed_clip_never_comes_back() {
    const SECRET: &[u8] = b"secret-before-destroy";
    let w = World::new("destroy");
    let data = w.dir.join("data");
    let db = data.join("shm-clip/archive.sqlite3");
    let wal = data.join("shm-clip/archive.sqlite3-wal");
    let tray = w.tray(&["--no-icon"]);

    // 1-2. The tray serves the secret, and archives it on disk.
    assert!(
        w.cli(&["copy", "secret-before-destroy"], b"")
            .status
            .success()
    );
    wait_for("xclip to paste the secret", || {
        (w.xclip_out(None).as_deref() == Some(SECRET)).then_some(())
    });
    wait_for("the tray to archive the secret", || {
        [&db, &wal]
            .iter()
            .any(|f| std::fs::read(f).is_ok_and(|b| contains(&b, SECRET)))
            .then_some(())
    });

    // 3. destroy says what it did, the tray among the programs told.
    let out = w.cli(&["destroy"], b"");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.starts_with(&format!(
            // The tray's mailbox and its archiver thread's.
            "destroyed board {}: wiped 1 entry, told 2 running programs; deleted its 1 archived clip from {}",
            w.board,
            db.display()
        )),
        "{said}"
    );
    wait_for("the tray to notice", || {
        tray.log_text()
            .contains("the board was destroyed")
            .then_some(())
    });
    // The desktop clipboard no longer offers it.
    assert_eq!(w.xclip_out(None), None, "xclip still pastes something");

    // 4-5. A new copy lands on the fresh board the tray moved to.
    assert!(w.cli(&["copy", "after-destroy"], b"").status.success());
    wait_for("xclip to paste the new clip", || {
        (w.xclip_out(None).as_deref() == Some(&b"after-destroy"[..])).then_some(())
    });
    let only_new = |w: &World| {
        let json = String::from_utf8(w.cli(&["history", "--json"], b"").stdout).unwrap();
        assert_eq!(json.matches("\"seq\"").count(), 1, "{json}");
        assert!(json.contains("after-destroy"), "{json}");
        assert!(!json.contains("secret-before-destroy"), "{json}");
    };
    only_new(&w);

    // 6. A restart restores nothing that was destroyed. The board is left
    // as a reboot leaves it: gone, so the new tray restores from disk.
    let log = tray.stop();
    assert!(!log.contains("cannot"), "{log}");
    assert!(w.cli(&["destroy", "--keep-history"], b"").status.success());
    let tray = w.tray(&["--no-icon"]);
    wait_for("the restored clip on the desktop clipboard", || {
        (w.xclip_out(None).as_deref() == Some(&b"after-destroy"[..])).then_some(())
    });
    only_new(&w);
    drop(tray);

    // The marker is in no file under the data directory.
    let all = files(&data);
    assert!(!all.is_empty(), "the tray saved nothing at all");
    for file in all {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !contains(&bytes, SECRET),
            "{} still holds the destroyed clip",
            file.display()
        );
    }
}

/// The tray may notice a destroy only after the next copy has already
/// created the fresh board (here forced with SIGSTOP): that copy is still
/// served, saved, and restored after a restart.
#[test]
fn a_copy_that_beats_the_tray_to_the_fresh_board_is_kept() {
    let w = World::new("destroy-late");
    let tray = w.tray(&["--no-icon"]);
    assert!(
        w.cli(&["copy", "secret-before-destroy"], b"")
            .status
            .success()
    );
    wait_for("xclip to paste the secret", || {
        (w.xclip_out(None).as_deref() == Some(&b"secret-before-destroy"[..])).then_some(())
    });
    let stopped = shm_clip_test_kit::Stopped::new(tray.pid());
    assert!(w.cli(&["destroy"], b"").status.success());
    assert!(w.cli(&["copy", "after-destroy"], b"").status.success());
    drop(stopped);
    wait_for("xclip to paste the new clip", || {
        (w.xclip_out(None).as_deref() == Some(&b"after-destroy"[..])).then_some(())
    });
    tray.stop();
    assert!(w.cli(&["destroy", "--keep-history"], b"").status.success());
    let _tray = w.tray(&["--no-icon"]);
    wait_for("the restored clip on the desktop clipboard", || {
        (w.xclip_out(None).as_deref() == Some(&b"after-destroy"[..])).then_some(())
    });
}
