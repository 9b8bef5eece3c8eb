//! The `[bridge]` table of config.toml, and the flags that stand in for it.
//!
//! The bridge reads the same file as every other shm-clip program
//! (`shm_clip::Config::path()`), but only its own table: the library keeps
//! no bridge settings. A flag given on the command line wins over the file.
//!
//! ```toml
//! [bridge]
//! servers = ["nats://127.0.0.1:4222"]   # several for a cluster
//! key_file = "~/.config/shm-clip/bridge.key"
//! boards = ["default"]                  # or "LOCAL=SHARED" to bridge a board under another name
//! name = "laptop"                        # this node's display name (default: the host name)
//! max_clip_size = "64M"                  # larger clips do not cross, either way (allowed types counted)
//! allow_types = ["*"]                    # MIME patterns that cross: "text/*", "image/png", "*"; others are dropped
//! user = "alice"                         # with password (or password_file)
//! password = "secret"
//! nkey_seed_file = "/path/user.nk"       # or an nkey seed
//! creds_file = "/path/user.creds"        # or a .creds file (JWT + seed)
//! tls_ca_file = "/path/ca.pem"           # TLS: trust this CA (TLS is then required)
//! tls_cert_file = "/path/client.pem"     # optional client certificate ...
//! tls_key_file = "/path/client-key.pem"  # ... and its key
//! replicas = 1                           # stream replicas: 3 on a 3-node cluster
//! stream_max_bytes = "256M"              # the server's bytes per board stream
//! blob_ttl = "24h"                       # large payloads expire after this
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use shm_clip::BoardName;
use shm_clip::config::Size;

use crate::error::{Error, Result};

/// The settings a bridge runs with, after the file and the flags.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Server URLs.
    pub servers: Vec<String>,
    /// The board key's file.
    pub key_file: PathBuf,
    /// The boards to bridge.
    pub boards: Vec<BoardSpec>,
    /// This node's display name.
    pub name: String,
    /// Clips larger than this do not cross.
    pub max_clip_size: u64,
    /// MIME patterns that cross.
    pub allow_types: Vec<String>,
    /// How the bridge proves who it is to the server.
    pub auth: Auth,
    /// TLS files.
    pub tls: Tls,
    /// Stream replicas.
    pub replicas: usize,
    /// Byte cap of each board's stream.
    pub stream_max_bytes: u64,
    /// How long blobs live on the server.
    pub blob_ttl: Duration,
    /// The file these came from (for messages).
    pub source: PathBuf,
}

/// A local board and the shared name it is bridged under (the same name
/// unless given as `LOCAL=SHARED`). Boards of one shared name on every
/// machine are one board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoardSpec {
    /// The board on this machine.
    pub local: BoardName,
    /// The name the machines share (hashed; the server never sees it).
    pub shared: BoardName,
}

impl BoardSpec {
    /// Parses `NAME` or `LOCAL=SHARED`.
    pub fn parse(text: &str) -> std::result::Result<BoardSpec, String> {
        let (local, shared) = text.split_once('=').unwrap_or((text, text));
        let local = BoardName::new(local).map_err(|e| e.to_string())?;
        let shared = BoardName::new(shared).map_err(|e| e.to_string())?;
        Ok(BoardSpec { local, shared })
    }
}

/// Server credentials.
#[derive(Clone, Debug, Default)]
pub enum Auth {
    /// None.
    #[default]
    None,
    /// A user name and password.
    UserPassword { user: String, password: String },
    /// An nkey seed, read from a 0600 file.
    NkeySeedFile(PathBuf),
    /// A `.creds` file (JWT and nkey seed).
    CredsFile(PathBuf),
}

/// TLS settings.
#[derive(Clone, Debug, Default)]
pub struct Tls {
    /// Extra root CA (PEM); TLS is required when set.
    pub ca_file: Option<PathBuf>,
    /// A client certificate and its key (PEM).
    pub client: Option<(PathBuf, PathBuf)>,
}

/// The flags that override the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub servers: Vec<String>,
    pub key_file: Option<PathBuf>,
    pub boards: Vec<String>,
    pub name: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub nkey_seed_file: Option<PathBuf>,
    pub creds_file: Option<PathBuf>,
    pub tls_ca_file: Option<PathBuf>,
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    pub replicas: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(default)]
    bridge: Option<Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    servers: Option<Vec<String>>,
    key_file: Option<String>,
    boards: Option<Vec<String>>,
    name: Option<String>,
    max_clip_size: Option<String>,
    allow_types: Option<Vec<String>>,
    user: Option<String>,
    password: Option<String>,
    password_file: Option<String>,
    nkey_seed_file: Option<String>,
    creds_file: Option<String>,
    tls_ca_file: Option<String>,
    tls_cert_file: Option<String>,
    tls_key_file: Option<String>,
    replicas: Option<usize>,
    stream_max_bytes: Option<String>,
    blob_ttl: Option<String>,
}

/// Loads `[bridge]` from config.toml (missing file: defaults) and applies `flags`.
pub fn load(flags: &Overrides) -> Result<Settings> {
    let path = shm_clip::Config::path()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(Error::Io { path, source }),
    };
    resolve(&text, &path, flags)
}

/// Parses `text` (the contents of `path`) and applies `flags`.
pub fn resolve(text: &str, path: &Path, flags: &Overrides) -> Result<Settings> {
    let file: File = toml::from_str(text).map_err(|err| {
        let line = err.span().map(|s| line_of(text, s.start));
        Error::Config {
            path: path.to_owned(),
            line,
            key: err
                .span()
                .and_then(|s| key_at(text, s.start))
                .unwrap_or_else(|| "bridge".into()),
            message: err.message().trim().to_owned(),
        }
    })?;
    let t = file.bridge.unwrap_or_default();
    let bad = |key: &str, message: String| Error::Config {
        path: path.to_owned(),
        line: find_key(text, key),
        key: format!("bridge.{key}"),
        message,
    };

    let servers = if flags.servers.is_empty() {
        t.servers
            .unwrap_or_else(|| vec!["nats://127.0.0.1:4222".into()])
    } else {
        flags.servers.clone()
    };
    if servers.is_empty() {
        return Err(bad(
            "servers",
            "is empty: give at least one nats:// or tls:// URL".into(),
        ));
    }
    for s in &servers {
        if !(s.starts_with("nats://") || s.starts_with("tls://") || !s.contains("://")) {
            return Err(bad(
                "servers",
                format!("{s:?} is not a NATS URL (nats://host:port or tls://host:port)"),
            ));
        }
    }

    let key_file = match (&flags.key_file, &t.key_file) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => expand_home(p),
        (None, None) => crate::key::default_key_path().ok_or_else(|| Error::Missing {
            what: "key file",
            flag: "--key-file",
            key: "key_file",
            path: path.to_owned(),
        })?,
    };

    let raw_boards = if flags.boards.is_empty() {
        t.boards
            .unwrap_or_else(|| vec![shm_clip::DEFAULT_BOARD.into()])
    } else {
        flags.boards.clone()
    };
    if raw_boards.is_empty() {
        return Err(bad("boards", "is empty: name at least one board".into()));
    }
    let mut boards: Vec<BoardSpec> = Vec::new();
    for b in &raw_boards {
        let spec = BoardSpec::parse(b).map_err(|err| bad("boards", format!("{b:?}: {err}")))?;
        if boards.iter().any(|o| o.local == spec.local) {
            return Err(bad(
                "boards",
                format!("board {} is listed twice", spec.local),
            ));
        }
        boards.push(spec);
    }

    let name = flags.name.clone().or(t.name).unwrap_or_else(|| {
        nix::unistd::gethostname()
            .map_or_else(|_| "bridge".into(), |h| h.to_string_lossy().into_owned())
    });
    if name.trim().is_empty() || name.len() > 64 {
        return Err(bad("name", format!("{name:?} must be 1-64 bytes")));
    }

    let size = |key: &str, v: Option<String>, default: u64| -> Result<u64> {
        match v {
            None => Ok(default),
            Some(v) => Size::parse(&v)
                .map(|s| s.0)
                .map_err(|e| bad(key, format!("{v:?}: {e}"))),
        }
    };
    let max_clip_size = size("max_clip_size", t.max_clip_size, 64 << 20)?;
    if max_clip_size == 0 {
        return Err(bad("max_clip_size", "must be more than 0".into()));
    }
    let stream_max_bytes = size("stream_max_bytes", t.stream_max_bytes, 256 << 20)?;

    let allow_types = t.allow_types.unwrap_or_else(|| vec!["*".into()]);
    if let Some(p) = allow_types.iter().find(|p| !valid_pattern(p)) {
        return Err(bad(
            "allow_types",
            format!("{p:?} is not a MIME pattern (\"*\", \"text/*\" or \"image/png\")"),
        ));
    }

    let blob_ttl = match t.blob_ttl {
        None => Duration::from_secs(24 * 3600),
        Some(v) => parse_duration(&v).ok_or_else(|| {
            bad(
                "blob_ttl",
                format!("{v:?} is not a duration such as \"90s\", \"30m\", \"24h\" or \"7d\""),
            )
        })?,
    };

    let user = flags.user.clone().or(t.user);
    let password = match (flags.password.clone().or(t.password), t.password_file) {
        (Some(p), _) => Some(p),
        (None, Some(file)) => Some(
            std::fs::read_to_string(expand_home(&file))
                .map_err(|e| bad("password_file", format!("{file}: {e}")))?
                .trim()
                .to_owned(),
        ),
        (None, None) => None,
    };
    let nkey = flags
        .nkey_seed_file
        .clone()
        .or(t.nkey_seed_file.as_deref().map(expand_home));
    let creds = flags
        .creds_file
        .clone()
        .or(t.creds_file.as_deref().map(expand_home));
    let auth = match (user, password, nkey, creds) {
        (None, None, None, None) => Auth::None,
        (Some(user), Some(password), None, None) => Auth::UserPassword { user, password },
        (None, None, Some(seed), None) => Auth::NkeySeedFile(seed),
        (None, None, None, Some(creds)) => Auth::CredsFile(creds),
        (Some(_), None, None, None) => {
            return Err(bad(
                "password",
                "user is set but no password (password or password_file)".into(),
            ));
        }
        (None, Some(_), None, None) => {
            return Err(bad("user", "password is set but no user".into()));
        }
        _ => {
            return Err(bad(
                "user",
                "give one kind of credentials: user + password, nkey_seed_file, or creds_file"
                    .into(),
            ));
        }
    };

    let ca_file = flags
        .tls_ca_file
        .clone()
        .or(t.tls_ca_file.as_deref().map(expand_home));
    let cert = flags
        .tls_cert_file
        .clone()
        .or(t.tls_cert_file.as_deref().map(expand_home));
    let cert_key = flags
        .tls_key_file
        .clone()
        .or(t.tls_key_file.as_deref().map(expand_home));
    let client = match (cert, cert_key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => {
            return Err(bad(
                "tls_cert_file",
                "a client certificate needs both tls_cert_file and tls_key_file".into(),
            ));
        }
    };

    let replicas = flags.replicas.or(t.replicas).unwrap_or(1);
    if !(1..=5).contains(&replicas) {
        return Err(bad("replicas", format!("must be 1 to 5, not {replicas}")));
    }

    Ok(Settings {
        servers,
        key_file,
        boards,
        name,
        max_clip_size,
        allow_types,
        auth,
        tls: Tls { ca_file, client },
        replicas,
        stream_max_bytes,
        blob_ttl,
        source: path.to_owned(),
    })
}

impl Settings {
    /// Whether a representation of type `mime` may cross.
    pub fn allows(&self, mime: &str) -> bool {
        self.allow_types.iter().any(|p| pattern_matches(p, mime))
    }
}

fn valid_pattern(p: &str) -> bool {
    let p = p.trim();
    p == "*"
        || p.split_once('/')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
}

/// `*`, `type/*` or an exact type (parameters ignored, case-insensitive).
pub fn pattern_matches(pattern: &str, mime: &str) -> bool {
    let pattern = pattern.trim();
    let base = mime.split(';').next().unwrap_or("").trim();
    if pattern == "*" || pattern == "*/*" {
        return true;
    }
    if let Some(prefix) = pattern.strip_suffix("/*") {
        return base
            .split_once('/')
            .is_some_and(|(t, _)| t.eq_ignore_ascii_case(prefix));
    }
    pattern.eq_ignore_ascii_case(base) || pattern.eq_ignore_ascii_case(mime)
}

fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86400)?,
        _ => return None,
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}

fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The dotted key whose line holds byte `at`.
fn key_at(text: &str, at: usize) -> Option<String> {
    let line_no = line_of(text, at);
    let mut table = String::new();
    for (i, line) in text.lines().enumerate().take(line_no) {
        let trimmed = line.trim();
        if let Some(h) = trimmed.strip_prefix('[') {
            h.trim_matches(|c| c == '[' || c == ']')
                .trim()
                .clone_into(&mut table);
        } else if i + 1 == line_no {
            let name = trimmed.split('=').next()?.trim();
            return Some(if table.is_empty() {
                name.into()
            } else {
                format!("{table}.{name}")
            });
        }
    }
    (!table.is_empty()).then_some(table)
}

/// The line of `key` inside `[bridge]`.
fn find_key(text: &str, key: &str) -> Option<usize> {
    let mut in_bridge = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_bridge = trimmed.trim_matches(|c| c == '[' || c == ']').trim() == "bridge";
        } else if in_bridge && trimmed.split('=').next().map(str::trim) == Some(key) {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings> {
        resolve(
            text,
            Path::new("/c/config.toml"),
            &Overrides {
                key_file: Some("/k".into()),
                ..Overrides::default()
            },
        )
    }

    #[test]
    fn defaults_and_a_full_table() {
        let s = parse("[board]\ndepth = 10\n").unwrap();
        assert_eq!(s.servers, ["nats://127.0.0.1:4222"]);
        assert_eq!(s.boards[0].local.as_str(), "default");
        assert!(s.allows("image/png"));
        let s = parse(
            "[bridge]\nservers = [\"nats://a:1\", \"nats://b:2\"]\nboards = [\"work\"]\nname = \"laptop\"\n\
             allow_types = [\"text/*\"]\nmax_clip_size = \"1M\"\nuser = \"u\"\npassword = \"p\"\nreplicas = 3\nblob_ttl = \"2h\"\n",
        )
        .unwrap();
        assert_eq!(s.servers.len(), 2);
        assert_eq!(s.name, "laptop");
        assert_eq!(s.max_clip_size, 1 << 20);
        assert!(s.allows("text/plain;charset=utf-8"));
        assert!(!s.allows("image/png"));
        assert!(matches!(s.auth, Auth::UserPassword { .. }));
        assert_eq!(s.blob_ttl, Duration::from_secs(7200));
        assert_eq!(s.replicas, 3);
    }

    #[test]
    fn errors_name_the_file_line_and_key() {
        let err = parse("[bridge]\nname = \"x\"\nmax_clip_size = \"lots\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("/c/config.toml:3: bridge.max_clip_size:"),
            "{err}"
        );
        let err = parse("[bridge]\nservers = [\"http://x\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("/c/config.toml:2: bridge.servers:"),
            "{err}"
        );
        let err = parse("[bridge]\n\nsrevers = []\n").unwrap_err().to_string();
        assert!(
            err.contains(":3: bridge.srevers:") && err.contains("unknown field"),
            "{err}"
        );
        let err = parse("[bridge]\nuser = \"u\"\n").unwrap_err().to_string();
        assert!(
            err.contains("bridge.password") && err.contains("no password"),
            "{err}"
        );
        let err = parse("[bridge]\nboards = [\"no spaces\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":2: bridge.boards:"), "{err}");
    }

    #[test]
    fn flags_win_over_the_file() {
        let flags = Overrides {
            servers: vec!["nats://flag:1".into()],
            boards: vec!["b".into()],
            name: Some("desk".into()),
            key_file: Some("/k".into()),
            ..Overrides::default()
        };
        let s = resolve(
            "[bridge]\nservers = [\"nats://file:1\"]\nname = \"x\"\n",
            Path::new("c"),
            &flags,
        )
        .unwrap();
        assert_eq!(s.servers, ["nats://flag:1"]);
        assert_eq!(s.name, "desk");
        assert_eq!(s.boards[0].local.as_str(), "b");
        let spec = BoardSpec::parse("work=team").unwrap();
        assert_eq!(
            (spec.local.as_str(), spec.shared.as_str()),
            ("work", "team")
        );
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("*", "x/y"));
        assert!(pattern_matches("image/*", "image/png"));
        assert!(!pattern_matches("image/*", "text/plain"));
        assert!(pattern_matches("text/plain", "text/plain; charset=utf-8"));
        assert!(!valid_pattern("text"));
    }
}
