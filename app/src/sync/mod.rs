//! The bridge between a board and the desktop's system clipboard.
//!
//! On X11, [`Owner`] watches CLIPBOARD and PRIMARY through `XFixes`
//! selection events (no polling) and serves the board's clip when it owns
//! CLIPBOARD, with INCR for large data; [`Reader`] fetches another owner's
//! targets on its own connection; [`targets`] decides which targets are worth
//! reading and turns them into one [`Clip`](shm_clip::Clip) with several
//! representations. On Wayland with the data-control protocol, [`Wayland`]
//! does the same through `wl-clipboard-rs`. The tray ([`crate::tray`])
//! decides when to do what.

mod atoms;
mod owner;
mod reader;
pub mod targets;
mod wayland;

use std::time::Duration;

pub use owner::{Owner, OwnerChange};
pub use reader::Reader;
pub use targets::{ReadOutcome, ReadPolicy};
pub use wayland::{Wayland, WlEvent};

/// Errors talking to the X server.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The display could not be opened.
    #[error("cannot open the X display {display:?}: {source}")]
    Connect {
        display: String,
        source: x11rb::errors::ConnectError,
    },
    /// The X server lacks the `XFixes` extension, so changes cannot be watched.
    #[error("the X server has no XFixes extension; clipboard changes cannot be watched")]
    NoXfixes,
    /// A request failed or the connection broke.
    #[error("X11: {0}")]
    Connection(String),
    /// The selection owner did not answer in time.
    #[error("the clipboard owner did not answer within {0:?}")]
    Timeout(Duration),
}

macro_rules! from_x11_error {
    ($($t:ty),*) => {$(
        impl From<$t> for SyncError {
            fn from(err: $t) -> Self {
                SyncError::Connection(err.to_string())
            }
        }
    )*};
}
from_x11_error!(
    x11rb::errors::ConnectionError,
    x11rb::errors::ReplyError,
    x11rb::errors::ReplyOrIdError
);

/// Result of a bridge operation.
pub type Result<T, E = SyncError> = std::result::Result<T, E>;

/// The display name for messages: `$DISPLAY`, or a placeholder.
#[must_use]
pub fn display_name() -> String {
    std::env::var("DISPLAY").unwrap_or_else(|_| "(DISPLAY is not set)".into())
}

/// Connects to the X server named by `$DISPLAY`.
pub(crate) fn connect() -> Result<(x11rb::rust_connection::RustConnection, usize)> {
    x11rb::connect(None).map_err(|source| SyncError::Connect {
        display: display_name(),
        source,
    })
}
