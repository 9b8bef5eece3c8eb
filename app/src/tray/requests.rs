//! Requests from the command line to the tray: `shm-clip copy --primary`
//! and `shm-clip paste --primary`. The PRIMARY selection lives in the X
//! server, and only the tray talks to it, so the CLI asks the tray.
//!
//! A Unix stream socket per board (`BoardName::tray_socket_path`), mode
//! 0600, one request per connection. The client is any process of ours, so
//! everything it sends is bounded and checked, and a slow one cannot stall
//! the tray for long (2 s read and write timeouts).
//!
//! ```text
//! request:  PASTE-PRIMARY <mime or ->\n
//!           COPY-PRIMARY <mime> <length>\n<length bytes>
//!           PASTE <X11 window id or ->\n   (auto-paste, from the picker)
//! answer:   OK <mime> <length>\n<length bytes>
//!           ERR <one line>\n
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use shm_clip::{Clip, MAX_MIME_LEN, Representation, mime_matches};

/// How long a client may take to send its request or read the answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest request line: the verb, a MIME type and a length.
const MAX_LINE: u64 = 64 + MAX_MIME_LEN as u64;

/// A request, as read from a client.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// The PRIMARY selection's representation of this type (or the first).
    PastePrimary { mime: Option<String> },
    /// Own PRIMARY with this content.
    CopyPrimary(Representation),
    /// Send the paste keys to this window (the picker's auto-paste).
    Paste { target: Option<u32> },
}

/// The listening socket; removed when dropped.
#[derive(Debug)]
pub struct Requests {
    listener: UnixListener,
    path: PathBuf,
}

impl Requests {
    /// Listens at `path`. We hold the board's tray lock, so a file there is
    /// a dead tray's socket and is replaced.
    pub fn bind(path: &Path) -> io::Result<Requests> {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        listener.set_nonblocking(true)?;
        Ok(Requests {
            listener,
            path: path.to_owned(),
        })
    }

    /// The listening descriptor, for the tray's poll.
    pub fn listener(&self) -> &UnixListener {
        &self.listener
    }

    /// A waiting client and its request, if one is there.
    pub fn accept(&self) -> Option<(UnixStream, Result<Request, String>)> {
        let (stream, _) = match self.listener.accept() {
            Ok(client) => client,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return None,
            Err(err) => {
                tracing::warn!(%err, "accepting a command-line request failed");
                return None;
            }
        };
        let setup = stream
            .set_nonblocking(false)
            .and_then(|()| stream.set_read_timeout(Some(CLIENT_TIMEOUT)))
            .and_then(|()| stream.set_write_timeout(Some(CLIENT_TIMEOUT)));
        if let Err(err) = setup {
            tracing::warn!(%err, "cannot set up a command-line request");
            return None;
        }
        let request = read_request(&stream, max_copy_size());
        Some((stream, request))
    }
}

impl Drop for Requests {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The largest clip a client may hand over: the board's own upper bound.
fn max_copy_size() -> u64 {
    shm_clip::CreateOptions::CAPACITY.end().to_owned()
}

/// Reads one request: a bounded line, then for a copy its bytes.
pub fn read_request(stream: impl Read, max_size: u64) -> Result<Request, String> {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    (&mut reader)
        .take(MAX_LINE)
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("reading the request: {e}"))?;
    if line.pop() != Some(b'\n') {
        return Err("the request line is too long or cut short".into());
    }
    let line = String::from_utf8(line).map_err(|_| "the request is not UTF-8".to_owned())?;
    let words: Vec<&str> = line.split(' ').collect();
    match words.as_slice() {
        ["PASTE-PRIMARY", "-"] => Ok(Request::PastePrimary { mime: None }),
        ["PASTE-PRIMARY", mime] => Ok(Request::PastePrimary {
            mime: Some((*mime).to_owned()),
        }),
        ["PASTE", "-"] => Ok(Request::Paste { target: None }),
        ["PASTE", window] => window
            .parse()
            .map(|w| Request::Paste { target: Some(w) })
            .map_err(|_| format!("bad window id {window:?}")),
        ["COPY-PRIMARY", mime, len] if !mime.is_empty() => {
            let len: u64 = len.parse().map_err(|_| format!("bad length {len:?}"))?;
            if len > max_size {
                return Err(format!(
                    "{len} bytes is more than the {max_size} a board can hold"
                ));
            }
            let mut data = Vec::new();
            reader
                .take(len)
                .read_to_end(&mut data)
                .map_err(|e| format!("reading the clip: {e}"))?;
            if data.len() as u64 != len {
                return Err(format!(
                    "the clip was cut short at {} of {len} bytes",
                    data.len()
                ));
            }
            Ok(Request::CopyPrimary(Representation {
                mime: (*mime).to_owned(),
                data,
            }))
        }
        _ => Err(format!(
            "unknown request {:?}",
            words.first().unwrap_or(&"")
        )),
    }
}

/// The representation of `clip` a paste of `mime` gets: the first matching
/// one, or the first of all.
pub fn pick(clip: Clip, mime: Option<&str>) -> Result<Representation, String> {
    let available: Vec<String> = clip.reps.iter().map(|r| r.mime.clone()).collect();
    let found = match mime {
        None => clip.reps.into_iter().next(),
        Some(want) => clip.reps.into_iter().find(|r| mime_matches(want, &r.mime)),
    };
    found.ok_or_else(|| match mime {
        Some(want) => format!(
            "PRIMARY has no {want} representation (it has: {})",
            available.join(", ")
        ),
        None => "PRIMARY is empty".into(),
    })
}

/// Answers a client: the bytes of `rep`, or one line saying why not.
pub fn answer(mut stream: UnixStream, result: Result<Representation, String>) {
    let written = match result {
        Ok(rep) => writeln!(stream, "OK {} {}", rep.mime, rep.data.len())
            .and_then(|()| stream.write_all(&rep.data)),
        Err(why) => writeln!(stream, "ERR {}", why.replace('\n', " ")),
    };
    if let Err(err) = written {
        tracing::debug!(%err, "the command-line client went away before the answer");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_hostile_ones_are_refused() {
        assert_eq!(
            read_request(&b"PASTE-PRIMARY -\n"[..], 10),
            Ok(Request::PastePrimary { mime: None })
        );
        assert_eq!(
            read_request(&b"PASTE 4194305\n"[..], 10),
            Ok(Request::Paste {
                target: Some(4_194_305)
            })
        );
        assert_eq!(
            read_request(&b"COPY-PRIMARY text/plain 3\nabcdef"[..], 10),
            Ok(Request::CopyPrimary(Representation {
                mime: "text/plain".into(),
                data: b"abc".to_vec()
            }))
        );
        for bad in [
            &b"COPY-PRIMARY text/plain 11\n"[..],
            b"COPY-PRIMARY text/plain 5\nab",
            b"COPY-PRIMARY  3\nabc",
            b"PASTE-PRIMARY -",
            b"FROB x\n",
            b"PASTE window\n",
            &[b'x'; 400],
        ] {
            assert!(read_request(bad, 10).is_err(), "{bad:?}");
        }
    }
}
