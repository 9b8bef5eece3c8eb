//! How `shm-clip-app --picker` reaches the resident picker: a Unix stream
//! socket in `$XDG_RUNTIME_DIR` that the resident picker owns (mode 0600),
//! one request per connection.
//!
//! Why a socket and not a POSIX message queue like the board's mailboxes:
//! a connection says at once whether a picker is alive (a dead one's
//! socket refuses it, and the next picker replaces the file), it carries an
//! answer back (so the summoner knows the picker is shown), its access is a
//! file mode in a 0700 directory, and it costs nothing of the per-user
//! queue budget (`RLIMIT_MSGQUEUE` fits only 9 default queues, which the
//! board's subscribers need). Two pickers starting at once are kept apart by
//! an `flock`ed lock file beside the socket.
//!
//! ```text
//! request: SHOW\n
//! answer:  OK <pid>\n
//! ```

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg, OFlag};
use shm_clip::BoardName;

/// How long a summoner may take to send its request, and the picker to answer.
const TIMEOUT: Duration = Duration::from_secs(2);

/// `$XDG_RUNTIME_DIR/shm-clip-picker-UID-BOARD.EXT` (the temp directory without it).
fn path(board: &BoardName, ext: &str) -> PathBuf {
    let uid = nix::unistd::geteuid().as_raw();
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(std::env::temp_dir, PathBuf::from);
    dir.join(format!("shm-clip-picker-{uid}-{board}.{ext}"))
}

/// The resident picker's socket for `board`.
#[must_use]
pub fn socket_path(board: &BoardName) -> PathBuf {
    path(board, "sock")
}

/// Asks the resident picker of `board` to show itself; `Ok(pid)` when it
/// answered, an error when there is none (or it is stuck).
pub fn summon(board: &BoardName) -> io::Result<u32> {
    let mut stream = UnixStream::connect(socket_path(board))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    stream.write_all(b"SHOW\n")?;
    let mut answer = String::new();
    BufReader::new(stream.take(64)).read_line(&mut answer)?;
    answer
        .strip_prefix("OK ")
        .and_then(|pid| pid.trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("unexpected answer {answer:?}")))
}

/// The resident picker's side: its lock and its listening socket (removed
/// when dropped).
#[derive(Debug)]
pub struct Mailbox {
    listener: UnixListener,
    path: PathBuf,
    _lock: Flock<File>,
}

/// Why this process cannot be the resident picker.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    /// Another picker holds the lock (it may still be starting).
    #[error("another picker is starting on this board")]
    Taken,
    #[error("cannot use {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

impl Mailbox {
    /// Becomes the resident picker of `board`: takes the lock, replaces a
    /// dead picker's socket and listens.
    pub fn bind(board: &BoardName) -> Result<Mailbox, MailboxError> {
        let lock_path = path(board, "lock");
        let io_err = |path: &PathBuf| {
            let path = path.clone();
            move |source| MailboxError::Io { path, source }
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).bits())
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        let lock =
            Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|_| MailboxError::Taken)?;
        let path = socket_path(board);
        match std::fs::remove_file(&path) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(io_err(&path)(err)),
            _ => {}
        }
        let listener = UnixListener::bind(&path).map_err(io_err(&path))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(io_err(&path))?;
        Ok(Mailbox {
            listener,
            path,
            _lock: lock,
        })
    }

    /// Serves summons on a named thread until the process exits: each one
    /// calls `show` (which must not block), then is answered.
    pub fn serve(self, show: impl Fn() + Send + 'static) -> io::Result<()> {
        std::thread::Builder::new()
            .name("shm-clip-picker-mailbox".into())
            .spawn(move || {
                // Owns the lock and the socket file for as long as it serves.
                let mailbox = self;
                for stream in mailbox.listener.incoming() {
                    match stream {
                        Ok(stream) => {
                            if let Err(err) = answer(&stream, &show) {
                                tracing::debug!(%err, "a summoner went away");
                            }
                        }
                        Err(err) => tracing::warn!(%err, "accepting a summon failed"),
                    }
                }
            })?;
        Ok(())
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn answer(stream: &UnixStream, show: &impl Fn()) -> io::Result<()> {
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let mut line = String::new();
    BufReader::new(stream.take(64)).read_line(&mut line)?;
    if line != "SHOW\n" {
        return writeln!(&*stream, "ERR unknown request");
    }
    show();
    writeln!(&*stream, "OK {}", std::process::id())
}
