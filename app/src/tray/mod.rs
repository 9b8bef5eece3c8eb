//! The tray process: mirrors the desktop's system clipboard into the board
//! and back, with a `StatusNotifierItem` icon. Its own module, never folded into
//! the window code.
//!
//! - [`instance`]: one tray per board (a `flock`ed lock file).
//! - [`menu`]: the icon, its tooltip and menu (ksni), as plain data.
//! - [`archiving`]: the archiver thread and the refill of a new board from
//!   the archive (`shm-clip-archive`), which replace the history file.
//! - [`persist`]: the history file in the XDG data directory, used when the
//!   archive is off (`archive.enabled = false`) or refused.
//! - [`service`]: the event loop tying the board, X11 and the menu together.
//! - [`hotkey`], [`keyboard`], [`shortcut`]: the picker's global hotkey
//!   (X11 `GrabKey`), auto-paste's keys (`XTest`), and the bindings to write
//!   by hand where the tray cannot own a key.
//! - [`virtual_keyboard`]: auto-paste's keys on Wayland (the wlroots
//!   virtual-keyboard protocol).
//!
//! The X11 side lives in [`crate::sync`].

mod archiving;
mod hotkey;
mod instance;
mod keyboard;
mod menu;
mod persist;
pub(crate) mod portal;
mod requests;
mod service;
mod shortcut;
mod virtual_keyboard;

use std::os::unix::net::UnixDatagram;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, mpsc};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use shm_clip::{Board, BoardName, Config, Origin, OriginKind};

use self::menu::{TrayIcon, View};
use self::persist::Store;
use self::service::Desktop;
use self::service::Service;
use crate::sync::{Owner, ReadPolicy, Reader, Wayland};

/// What `shm-clip-app --tray` was asked to do.
#[derive(Debug)]
pub struct TrayArgs {
    /// The board to bridge.
    pub board: BoardName,
    /// Sync without an icon, for desktops without a tray.
    pub no_icon: bool,
}

/// Runs the tray until it is told to quit.
pub fn run(args: &TrayArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("shm-clip-app: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_inner(args: &TrayArgs) -> Result<(), String> {
    let config = Config::load().map_err(|err| match err.hint() {
        Some(hint) => format!("{err} ({hint})"),
        None => err.to_string(),
    })?;
    let _instance = instance::acquire(&args.board).map_err(|e| e.to_string())?;

    // Block the shutdown signals before any thread starts, so every thread
    // inherits the mask and only the signalfd sees them.
    let mut signals = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        signals.add(s);
    }
    signals
        .thread_block()
        .map_err(|e| format!("blocking signals: {e}"))?;
    let signals = SignalFd::with_flags(&signals, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| format!("creating a signalfd: {e}"))?;

    let board = Board::open_with(
        &args.board,
        Origin::this_process(OriginKind::Tray).labelled("tray"),
        Some(config.create_options()),
    )
    .map_err(|err| err.to_string())?;
    let (archiving, store) = persistence(&args.board, &board, &config);
    let saved_seq = store.as_ref().map(|_| board.seq());
    // Without a mailbox (queue limits, a full subscriber table) the tray
    // still brings the desktop's clips into the board; only the other
    // direction needs to hear about the board's changes, and nobody polls.
    let subscription = match board.subscribe() {
        Ok(subscription) => Some(subscription),
        Err(err) => {
            tracing::warn!(
                %err,
                hint = err.hint().unwrap_or_default(),
                "no mailbox: the board's changes will not reach the desktop clipboard \
                 (desktop -> board still syncs)"
            );
            None
        }
    };
    let desktop = connect_desktop(&config)?;
    let keys = PickerKeys::from_config(&config)?;
    let keyboard = connect_keyboard(&desktop, &keys);
    let virtual_keyboard = connect_virtual_keyboard(&desktop, &keys);

    let (tx, commands) = mpsc::channel();
    let (wake, waker) = wake_pair()?;
    if matches!(desktop, Desktop::Wayland(_)) {
        start_portal(&args.board, &keys, tx.clone(), Arc::clone(&waker));
    }
    let icon = if args.no_icon {
        None
    } else {
        spawn_icon(
            &args.board,
            TrayIcon::new(
                View::new(&args.board.to_string(), &[], false),
                tx,
                waker,
                Arc::new(AtomicBool::new(false)),
            ),
        )
    };

    tracing::info!(
        board = %args.board,
        pid = std::process::id(),
        to_board = config.sync.to_board,
        to_system = config.sync.to_system,
        primary = config.sync.primary,
        "tray running"
    );
    // Whether an icon shows is the watcher's to say ("a system tray appeared"
    // or a warning that none shows), not ours to guess here.
    if args.no_icon {
        tracing::info!("no icon (--no-icon)");
    }
    let mut service = Service {
        board,
        config,
        desktop,
        subscription,
        signals,
        icon,
        commands,
        wake,
        store,
        paused: false,
        head: None,
        saved_seq,
        save_at: None,
        skipped_secret: false,
        serving: false,
        requests: bind_requests(&args.board),
        archiving,
        keyboard,
        virtual_keyboard,
        keys,
    };
    service.start();
    let result = service.run();
    service.save();
    if let Some(mut archiving) = service.archiving.take() {
        archiving.stop();
    }
    if let Some(icon) = service.icon.take() {
        icon.shutdown().wait();
    }
    result.map_err(|e| e.to_string())
}

/// Wayland's data-control protocol where the compositor offers it, else X11
/// (through `XWayland` on a Wayland session, with one warning).
fn connect_desktop(config: &Config) -> Result<Desktop, String> {
    let display = std::env::var_os("DISPLAY").filter(|d| !d.is_empty());
    let wayland = std::env::var_os("WAYLAND_DISPLAY").filter(|d| !d.is_empty());
    if wayland.is_some() {
        let policy = ReadPolicy {
            max_size: config.sync.max_size.0,
            ignore: config.sync.ignore_types.clone(),
        };
        match Wayland::start(policy) {
            Ok(bridge) => {
                if config.sync.primary {
                    tracing::warn!(
                        "sync.primary is not supported on Wayland yet; syncing CLIPBOARD only"
                    );
                }
                tracing::info!("syncing through the Wayland data-control protocol");
                return Ok(Desktop::Wayland(bridge));
            }
            Err(err) if display.is_some() => tracing::warn!(
                %err,
                "no Wayland data-control protocol; syncing through XWayland (DISPLAY={})",
                crate::sync::display_name()
            ),
            Err(err) => {
                return Err(format!(
                    "the compositor offers no Wayland data-control protocol ({err}) and DISPLAY is not set for XWayland"
                ));
            }
        }
    } else if display.is_none() {
        return Err("no display: neither WAYLAND_DISPLAY nor DISPLAY is set".into());
    }
    let owner = Owner::new(config.sync.primary).map_err(|e| e.to_string())?;
    let reader = Reader::new().map_err(|e| e.to_string())?;
    Ok(Desktop::X11 {
        owner: Box::new(owner),
        reader: Box::new(reader),
    })
}

/// Where the history lives: the archive (with the tray's archiver thread,
/// unless another archiver runs), else the history file, which is then
/// restored into a board that was just created.
fn persistence(
    name: &BoardName,
    board: &Board,
    config: &Config,
) -> (Option<archiving::Archiving>, Option<Store>) {
    if config.archive.enabled {
        match archiving::start(name, board, config, board.seq() == 0) {
            Ok(started) => return (started.archiving, None),
            Err(err) => {
                tracing::warn!(%err, "the archive is not used; saving the history file instead");
            }
        }
    }
    (None, open_store(name, board))
}

/// The picker's keys from `[picker]`: the hotkey and the paste keys,
/// checked once at start so that a typo is an error naming the key.
#[derive(Debug, Clone)]
pub struct PickerKeys {
    /// `None` when `picker.hotkey` is empty.
    pub hotkey: Option<hotkey::Combo>,
    pub paste: hotkey::Combo,
    /// (`WM_CLASS`, keys), lowercase.
    pub rules: Vec<(String, hotkey::Combo)>,
}

impl PickerKeys {
    fn from_config(config: &Config) -> Result<PickerKeys, String> {
        let path =
            Config::path().map_or_else(|_| "config.toml".into(), |p| p.display().to_string());
        let bad = |key: &str, value: &str, why: String| format!("{path}: {key} = {value:?}: {why}");
        let picker = &config.picker;
        let hotkey = if picker.hotkey.trim().is_empty() {
            None
        } else {
            Some(
                hotkey::parse(&picker.hotkey)
                    .map_err(|why| bad("picker.hotkey", &picker.hotkey, why))?,
            )
        };
        let paste = hotkey::parse(&picker.paste_keys)
            .map_err(|why| bad("picker.paste_keys", &picker.paste_keys, why))?;
        let mut rules = Vec::new();
        for (class, keys) in &picker.paste_rules {
            let combo = hotkey::parse(keys)
                .map_err(|why| bad(&format!("picker.paste_rules.{class}"), keys, why))?;
            rules.push((class.to_lowercase(), combo));
        }
        Ok(PickerKeys {
            hotkey,
            paste,
            rules,
        })
    }

    /// The virtual keyboard's keymap: every key a paste may type.
    fn keymap(&self) -> virtual_keyboard::Keymap {
        virtual_keyboard::Keymap::for_combos(
            std::iter::once(&self.paste).chain(self.rules.iter().map(|(_, combo)| combo)),
        )
    }

    /// The paste keys for a window of these `WM_CLASS` names.
    #[must_use]
    pub fn paste_keys_for(&self, classes: &[String]) -> hotkey::Combo {
        self.rules
            .iter()
            .find(|(class, _)| classes.iter().any(|c| c.to_lowercase() == *class))
            .map_or_else(|| self.paste.clone(), |(_, combo)| combo.clone())
    }
}

/// `--print-shortcut-setup`: how to bind the picker on each desktop.
#[must_use]
pub fn shortcut_setup(board: &BoardName) -> String {
    let hotkey = Config::load()
        .ok()
        .and_then(|c| hotkey::parse(&c.picker.hotkey).ok());
    shortcut::setup_text(board, hotkey.as_ref())
}

/// X11: the keyboard connection for the picker's hotkey and auto-paste.
/// Wayland: none (see [`start_portal`]).
fn connect_keyboard(desktop: &Desktop, keys: &PickerKeys) -> Option<keyboard::Keyboard> {
    match desktop {
        Desktop::X11 { .. } => match keyboard::Keyboard::connect(keys.hotkey.clone()) {
            Ok(keyboard) => Some(keyboard),
            Err(err) => {
                tracing::warn!(%err, "no keyboard connection: no picker hotkey, no auto-paste");
                None
            }
        },
        Desktop::Wayland(_) => None,
    }
}

/// Wayland: the virtual keyboard auto-paste types with, made at start so
/// that clients know the seat's keyboard before the first paste. `None`
/// (one warning) where the compositor offers no such protocol; the picker
/// then shows "Copied — press Ctrl+V".
fn connect_virtual_keyboard(
    desktop: &Desktop,
    keys: &PickerKeys,
) -> Option<virtual_keyboard::VirtualKeyboard> {
    if !matches!(desktop, Desktop::Wayland(_)) {
        return None;
    }
    match virtual_keyboard::VirtualKeyboard::connect(keys.keymap()) {
        Ok(keyboard) => {
            tracing::info!("auto-paste types through the Wayland virtual keyboard");
            Some(keyboard)
        }
        Err(why) => {
            tracing::warn!(%why, "no virtual keyboard: auto-paste will say \"Copied — press Ctrl+V\"");
            None
        }
    }
}

/// The menu's and the portal's wake-up socket: the loop polls `wake`, the
/// other threads write to `waker`.
fn wake_pair() -> Result<(UnixDatagram, Arc<UnixDatagram>), String> {
    let (wake, waker) = UnixDatagram::pair().map_err(|e| format!("socketpair: {e}"))?;
    wake.set_nonblocking(true)
        .and_then(|()| waker.set_nonblocking(true))
        .map_err(|e| format!("socketpair: {e}"))?;
    Ok((wake, Arc::new(waker)))
}

/// Wayland: the picker's shortcut through the `GlobalShortcuts` portal, or,
/// where there is none (sway, other wlroots compositors), the bindings to
/// add by hand, printed once.
fn start_portal(
    board: &BoardName,
    keys: &PickerKeys,
    commands: mpsc::Sender<menu::Command>,
    waker: Arc<UnixDatagram>,
) {
    if keys.hotkey.is_none() {
        return;
    }
    if let Err(why) = portal::start(keys.hotkey.as_ref(), commands, waker) {
        tracing::warn!(
            %why,
            "no global hotkey on Wayland without the GlobalShortcuts portal; bind the picker in your compositor:\n{}",
            shortcut::setup_text(board, keys.hotkey.as_ref())
        );
    }
}

/// The history file, restoring it into a board that was just created.
fn open_store(name: &BoardName, board: &Board) -> Option<Store> {
    let dir = match Config::data_dir() {
        Ok(dir) => dir,
        Err(err) => {
            tracing::warn!(%err, "no data directory: the history will not be saved");
            return None;
        }
    };
    let store = Store::new(&dir, name);
    if board.seq() == 0 {
        match store.restore(board) {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(entries = n, path = %store.path().display(), "history restored");
            }
            Err(err) => {
                tracing::warn!(%err, path = %store.path().display(), "cannot restore the saved history");
            }
        }
    }
    Some(store)
}

/// The socket for `shm-clip copy/paste --primary`; without it the tray
/// still syncs, and the CLI says that no tray answered.
fn bind_requests(board: &BoardName) -> Option<requests::Requests> {
    let path = board.tray_socket_path();
    match requests::Requests::bind(&path) {
        Ok(requests) => Some(requests),
        Err(err) => {
            tracing::warn!(%err, path = %path.display(), "cannot listen for --primary requests");
            None
        }
    }
}

/// Serves the icon over D-Bus; without a session bus, warns once and goes on.
fn spawn_icon(board: &BoardName, icon: TrayIcon) -> Option<ksni::blocking::Handle<TrayIcon>> {
    use ksni::blocking::TrayMethods as _;
    match icon.assume_sni_available(true).spawn() {
        Ok(handle) => Some(handle),
        Err(err) => {
            tracing::warn!(
                %err,
                %board,
                "cannot show a tray icon (no D-Bus session bus?); syncing continues without one"
            );
            None
        }
    }
}

/// A clip's fingerprint for the logs: xxh3 over every representation's type
/// and bytes, so that two log lines can be matched without any content.
pub(crate) fn digest(clip: &shm_clip::Clip) -> String {
    use std::hash::Hasher;
    let mut hasher = twox_hash::XxHash3_64::new();
    for rep in &clip.reps {
        hasher.write(rep.mime.as_bytes());
        hasher.write(&[0]);
        hasher.write(&(rep.data.len() as u64).to_le_bytes());
        hasher.write(&rep.data);
    }
    format!("{:016x}", hasher.finish())
}
