//! Which X11 targets are worth reading, and how they become one clip.
//!
//! Pure logic, unit-tested without a display.

use shm_clip::{Clip, TEXT_MIME};

/// The target that password managers (`KeePassXC`, KDE) add with the value
/// `secret`: such a clip never reaches the board or the disk.
pub const PASSWORD_HINT: &str = "x-kde-passwordManagerHint";

/// Text targets, best first; all of them are stored as [`TEXT_MIME`].
pub const TEXT_TARGETS: &[&str] = &[
    "UTF8_STRING",
    "text/plain;charset=utf-8",
    "text/plain;charset=UTF-8",
    "text/plain",
    "STRING",
];

/// The names an owner of a text clip answers to, beyond the stored type.
pub const TEXT_ALIASES: &[&str] = &[
    "UTF8_STRING",
    "text/plain;charset=utf-8",
    "text/plain",
    "STRING",
    "TEXT",
];

/// The other targets read from a clipboard owner, in the order they are stored.
pub const RICH_TARGETS: &[&str] = &["text/html", "text/uri-list", "image/png"];

/// What the user allows to be synced.
#[derive(Clone, Debug)]
pub struct ReadPolicy {
    /// The largest clip (all representations) copied into the board.
    pub max_size: u64,
    /// MIME types never read.
    pub ignore: Vec<String>,
}

impl ReadPolicy {
    fn ignores(&self, mime: &str) -> bool {
        self.ignore
            .iter()
            .any(|i| shm_clip::mime_matches(i.trim(), mime))
    }
}

/// What reading a selection gave.
#[derive(Debug)]
pub enum ReadOutcome {
    /// A clip to copy into the board.
    Clip(Clip),
    /// The owner marked it as a password: not copied, not logged.
    Secret,
    /// Larger than the limit: at least `size` bytes.
    TooLarge {
        /// Bytes seen before giving up (or announced by INCR).
        size: u64,
        /// The limit.
        max: u64,
    },
    /// Nothing readable in a type we sync (or every type was ignored).
    Nothing,
}

/// One target to convert: its X11 name and the MIME type it is stored as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// The target asked of the owner.
    pub target: String,
    /// The MIME type stored on the board.
    pub mime: &'static str,
}

/// The targets to read out of those the owner offers, in storage order.
#[must_use]
pub fn wanted(offered: &[String], policy: &ReadPolicy) -> Vec<Wanted> {
    let has = |t: &str| offered.iter().any(|o| o == t);
    let mut out = Vec::new();
    if !policy.ignores(TEXT_MIME)
        && let Some(t) = TEXT_TARGETS.iter().find(|t| has(t))
    {
        out.push(Wanted {
            target: (*t).to_owned(),
            mime: TEXT_MIME,
        });
    }
    for &mime in RICH_TARGETS {
        if has(mime) && !policy.ignores(mime) {
            out.push(Wanted {
                target: mime.to_owned(),
                mime,
            });
        }
    }
    out
}

/// Whether the owner offers the password-manager hint at all.
#[must_use]
pub fn offers_hint(offered: &[String]) -> bool {
    offered.iter().any(|o| o == PASSWORD_HINT)
}

/// Whether the hint's value marks a secret. Unreadable means secret: when in
/// doubt, a password stays out of the history.
#[must_use]
pub fn is_secret(hint: Option<&[u8]>) -> bool {
    hint.is_none_or(|v| v.trim_ascii().eq_ignore_ascii_case(b"secret"))
}

/// Normalises one converted target into the bytes stored for `mime`.
#[must_use]
pub fn normalise(target: &str, mime: &str, data: Vec<u8>) -> Vec<u8> {
    if target == "STRING" {
        // ICCCM: STRING is Latin-1.
        return data
            .iter()
            .map(|&b| char::from(b))
            .collect::<String>()
            .into_bytes();
    }
    if mime == "text/html" {
        return html_to_utf8(data);
    }
    data
}

/// Firefox and Chromium have served `text/html` as UTF-16 with a BOM.
fn html_to_utf8(data: Vec<u8>) -> Vec<u8> {
    let units = |le: bool| {
        data[2..]
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect::<Vec<u16>>()
    };
    match data.get(..2) {
        Some([0xff, 0xfe]) => String::from_utf16_lossy(&units(true)).into_bytes(),
        Some([0xfe, 0xff]) => String::from_utf16_lossy(&units(false)).into_bytes(),
        _ => data,
    }
}

/// Orders the representations: text first for text clips, the image first
/// when there is no text (a browser's image copy also offers HTML).
#[must_use]
pub fn assemble(mut reps: Vec<(&'static str, Vec<u8>)>) -> Option<Clip> {
    if reps.is_empty() {
        return None;
    }
    let has_text = reps.iter().any(|(m, _)| *m == TEXT_MIME);
    if !has_text && let Some(i) = reps.iter().position(|(m, _)| *m == "image/png") {
        let png = reps.remove(i);
        reps.insert(0, png);
    }
    let mut clip = Clip::default();
    for (mime, data) in reps {
        clip = clip.with(mime, data);
    }
    Some(clip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ReadPolicy {
        ReadPolicy {
            max_size: 1 << 20,
            ignore: vec![],
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn picks_best_text_and_rich_types() {
        let offered = names(&["TARGETS", "STRING", "UTF8_STRING", "text/html", "image/png"]);
        let w = wanted(&offered, &policy());
        let got: Vec<_> = w.iter().map(|w| (w.target.as_str(), w.mime)).collect();
        assert_eq!(
            got,
            [
                ("UTF8_STRING", TEXT_MIME),
                ("text/html", "text/html"),
                ("image/png", "image/png")
            ]
        );
    }

    #[test]
    fn ignored_types_are_not_read() {
        let offered = names(&["UTF8_STRING", "image/png"]);
        let p = ReadPolicy {
            ignore: vec!["image/png".into()],
            ..policy()
        };
        assert_eq!(wanted(&offered, &p).len(), 1);
        let p = ReadPolicy {
            ignore: vec!["text".into()],
            ..policy()
        };
        assert_eq!(wanted(&offered, &p)[0].mime, "image/png");
    }

    #[test]
    fn secret_hint() {
        assert!(is_secret(Some(b"secret")));
        assert!(is_secret(Some(b"secret\n")));
        assert!(is_secret(None));
        assert!(!is_secret(Some(b"public")));
        assert!(offers_hint(&names(&["UTF8_STRING", PASSWORD_HINT])));
    }

    #[test]
    fn latin1_and_utf16_are_converted() {
        assert_eq!(normalise("STRING", TEXT_MIME, vec![0xe9]), "é".as_bytes());
        let utf16: Vec<u8> = [0xff, 0xfe, b'<', 0, b'b', 0, b'>', 0].to_vec();
        assert_eq!(normalise("text/html", "text/html", utf16), b"<b>");
    }

    #[test]
    fn image_first_without_text() {
        let clip = assemble(vec![
            ("text/html", b"<img>".to_vec()),
            ("image/png", b"P".to_vec()),
        ])
        .unwrap();
        assert_eq!(clip.types(), ["image/png", "text/html"]);
        let clip = assemble(vec![
            (TEXT_MIME, b"t".to_vec()),
            ("image/png", b"P".to_vec()),
        ])
        .unwrap();
        assert_eq!(clip.types(), [TEXT_MIME, "image/png"]);
        assert!(assemble(vec![]).is_none());
    }
}
