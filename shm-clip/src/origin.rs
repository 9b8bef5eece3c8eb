//! Who made a change: a process and the kind of program it is.

/// The kind of program that wrote a clip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OriginKind {
    /// Not recorded, or written by an unknown program.
    Unknown,
    /// The `shm-clip` command line.
    Cli,
    /// An `shm-clip-app` window.
    App,
    /// The tray process bridging the system clipboard.
    Tray,
    /// `shm-clip-bridge`, applying a clip from another machine.
    Bridge,
    /// The archive, restoring a clip from disk.
    Archive,
}

impl OriginKind {
    /// The number that stands for this kind in the segment and in saved
    /// history files.
    #[must_use]
    pub fn to_raw(self) -> u32 {
        match self {
            OriginKind::Unknown => 0,
            OriginKind::Cli => 1,
            OriginKind::App => 2,
            OriginKind::Tray => 3,
            OriginKind::Bridge => 4,
            OriginKind::Archive => 5,
        }
    }

    /// The kind a stored number stands for; unknown numbers are `Unknown`.
    #[must_use]
    pub fn from_raw(raw: u32) -> Self {
        match raw {
            1 => OriginKind::Cli,
            2 => OriginKind::App,
            3 => OriginKind::Tray,
            4 => OriginKind::Bridge,
            5 => OriginKind::Archive,
            _ => OriginKind::Unknown,
        }
    }

    /// A short lowercase name: `cli`, `app`, `tray` or `unknown`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            OriginKind::Unknown => "unknown",
            OriginKind::Cli => "cli",
            OriginKind::App => "app",
            OriginKind::Tray => "tray",
            OriginKind::Bridge => "bridge",
            OriginKind::Archive => "archive",
        }
    }
}

impl std::fmt::Display for OriginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The process behind a change.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// Its process id.
    pub pid: u32,
    /// The kind of program.
    pub kind: OriginKind,
    /// An optional label, such as `window 2`; at most 31 bytes are stored.
    pub label: String,
}

impl Origin {
    /// This process, as a program of `kind`.
    #[must_use]
    pub fn this_process(kind: OriginKind) -> Self {
        Origin {
            pid: crate::sys::pid(),
            kind,
            label: String::new(),
        }
    }

    /// The same origin with a label.
    #[must_use]
    pub fn labelled(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.label.is_empty() {
            write!(f, "{} {}", self.kind, self.pid)
        } else {
            write!(f, "{} {} ({})", self.kind, self.pid, self.label)
        }
    }
}
