//! `--primary` on `copy` and `paste`: the desktop's PRIMARY selection lives
//! in the X server, and only the tray talks to it, so the CLI asks the
//! board's running tray over its socket (`BoardName::tray_socket_path`; the
//! protocol is documented in the app's `tray/requests.rs`).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use shm_clip::Representation;

use crate::args::Global;
use crate::errors::CliError;

/// Reading another application's selection can take a while (INCR).
const TIMEOUT: Duration = Duration::from_secs(15);
/// The longest answer line: `OK`, a MIME type, a length.
const MAX_LINE: u64 = 512;

/// The PRIMARY selection's representation of `mime` (or its first one).
pub fn paste(global: &Global, mime: Option<&str>) -> Result<Representation, CliError> {
    let header = format!("PASTE-PRIMARY {}\n", mime.unwrap_or("-"));
    request(global, header.as_bytes(), &[])
}

/// Makes `rep` the PRIMARY selection, served by the tray.
pub fn copy(global: &Global, rep: &Representation) -> Result<(), CliError> {
    if rep.mime.contains([' ', '\n']) {
        return Err(CliError::TrayRefused {
            board: global.board.to_string(),
            why: format!("{:?} is not a MIME type", rep.mime),
        });
    }
    let header = format!("COPY-PRIMARY {} {}\n", rep.mime, rep.data.len());
    request(global, header.as_bytes(), &rep.data).map(drop)
}

fn request(global: &Global, header: &[u8], body: &[u8]) -> Result<Representation, CliError> {
    let board = global.board.to_string();
    let path = global.board.tray_socket_path();
    let mut stream = match UnixStream::connect(&path) {
        Ok(stream) => stream,
        // No socket, or nobody behind it: no tray runs on this board.
        Err(err)
            if matches!(
                err.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Err(CliError::NoTray { board });
        }
        Err(source) => {
            return Err(CliError::Read {
                path: path.display().to_string(),
                source,
            });
        }
    };
    let io = |source| CliError::Read {
        path: format!("the tray's socket {}", path.display()),
        source,
    };
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .and_then(|()| stream.write_all(header))
        .and_then(|()| stream.write_all(body))
        .map_err(io)?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    (&mut reader)
        .take(MAX_LINE)
        .read_until(b'\n', &mut line)
        .map_err(io)?;
    let line = String::from_utf8_lossy(&line);
    let line = line.trim_end_matches('\n');
    if let Some(why) = line.strip_prefix("ERR ") {
        return Err(CliError::TrayRefused {
            board,
            why: why.to_owned(),
        });
    }
    let bad = || CliError::TrayRefused {
        board: board.clone(),
        why: format!("it answered {line:?}"),
    };
    let mut words = line.strip_prefix("OK ").ok_or_else(bad)?.split(' ');
    let (mime, len) = (words.next().ok_or_else(bad)?, words.next().ok_or_else(bad)?);
    let len: u64 = len.parse().map_err(|_| bad())?;
    let mut data = Vec::new();
    reader.take(len).read_to_end(&mut data).map_err(io)?;
    if data.len() as u64 != len {
        return Err(bad());
    }
    Ok(Representation {
        mime: mime.to_owned(),
        data,
    })
}
