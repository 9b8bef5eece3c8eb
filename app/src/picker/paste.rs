//! Auto-paste, the picker's half: once the chosen entry is current on the
//! board, ask the tray (the process that outlives the picker) to send the
//! paste keys to the window the picker was summoned over. When that cannot
//! happen, say so on screen: "Copied — press Ctrl+V", never a silent failure.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use shm_clip::BoardName;

/// The tray waits for the focus to return and the modifiers to be released
/// (bounded by its own deadlines) before it answers.
const ANSWER_WITHIN: Duration = Duration::from_secs(6);

/// The one-line notice shown when the paste keys could not be sent.
pub const COPIED: &str = "Copied \u{2014} press Ctrl+V";

/// Asks the tray of `board` to paste into `target` (an X11 window; `None`
/// for whatever has the focus). `Err` carries why it did not.
pub fn ask_tray(board: &BoardName, target: Option<u32>) -> Result<(), String> {
    let path = board.tray_socket_path();
    let mut stream = UnixStream::connect(&path)
        .map_err(|e| format!("no tray answers at {}: {e}", path.display()))?;
    let io = |e: std::io::Error| format!("talking to the tray: {e}");
    stream.set_read_timeout(Some(ANSWER_WITHIN)).map_err(io)?;
    stream.set_write_timeout(Some(ANSWER_WITHIN)).map_err(io)?;
    let target = target.map_or_else(|| "-".to_owned(), |w| w.to_string());
    writeln!(stream, "PASTE {target}").map_err(io)?;
    let mut answer = String::new();
    BufReader::new(stream.take(4096))
        .read_line(&mut answer)
        .map_err(io)?;
    match answer.trim_end().split_once(' ') {
        Some(("OK", _)) => Ok(()),
        Some(("ERR", why)) => Err(why.to_owned()),
        _ => Err(format!("the tray answered {answer:?}")),
    }
}

/// Shows "Copied — press Ctrl+V" as a desktop notification (D-Bus
/// `org.freedesktop.Notifications`), and on stderr in any case.
pub fn notify_copied(why: &str) {
    eprintln!("shm-clip-app: {COPIED} (auto-paste: {why})");
    let sent = zbus::block_on(async {
        let bus = zbus::Connection::session().await?;
        bus.call_method(
            Some("org.freedesktop.Notifications"),
            "/org/freedesktop/Notifications",
            Some("org.freedesktop.Notifications"),
            "Notify",
            &(
                "shm-clip",
                0u32,
                "edit-paste",
                COPIED,
                "",
                Vec::<&str>::new(),
                std::collections::HashMap::<&str, zbus::zvariant::Value<'_>>::new(),
                4000i32,
            ),
        )
        .await?;
        Ok::<(), zbus::Error>(())
    });
    if let Err(err) = sent {
        tracing::debug!(%err, "no notification service; the notice went to stderr only");
    }
}
