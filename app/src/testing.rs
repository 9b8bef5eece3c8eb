//! Test fixtures shared by the worker's and the window's tests: a board per
//! test, and a second process that writes to it.

use shm_clip::{Board, BoardName, Clip, OriginKind};

/// A board of this test's own, destroyed on drop.
pub struct TestBoard(pub BoardName);

impl TestBoard {
    pub fn new(test: &str) -> Self {
        let name = BoardName::new(&format!("app-{test}-{}", std::process::id())).unwrap();
        let _ = Board::destroy(&name, true);
        TestBoard(name)
    }

    /// A handle on the board from this process, as the CLI would write.
    pub fn open(&self) -> Board {
        Board::open(&self.0, OriginKind::Cli).unwrap()
    }
}

impl Drop for TestBoard {
    fn drop(&mut self) {
        let _ = Board::destroy(&self.0, true);
    }
}

const COPY_ROLE: &str = "SHM_CLIP_APP_TEST_COPY";

/// Copies `data` as `mime` to `board` from another process (this test binary
/// re-run as `copy_role`). Writers skip their own process's mailboxes, so only
/// another process shows whether the window hears of changes.
pub fn copy_from_another_process(board: &BoardName, mime: &str, data: &[u8]) {
    let dir = std::env::temp_dir().join(format!("shm-clip-app-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{board}.clip"));
    std::fs::write(&file, data).unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "testing::copy_role",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(COPY_ROLE, format!("{board}\n{mime}\n{}", file.display()))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(status.success(), "writer process failed: {status}");
}

/// Does nothing unless run by `copy_from_another_process`: then it copies
/// the file to the board from this separate process, as the CLI.
#[test]
fn copy_role() {
    let Ok(job) = std::env::var(COPY_ROLE) else {
        return;
    };
    let mut parts = job.splitn(3, '\n');
    let (board, mime, file) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let board = Board::open(&BoardName::new(board).unwrap(), OriginKind::Cli).unwrap();
    board
        .copy(&Clip::new(mime, std::fs::read(file).unwrap()))
        .unwrap();
}
