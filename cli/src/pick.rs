//! `shm-clip pick`: choose a history entry with a menu program or the
//! built-in terminal picker, and make it current.

mod filter;
mod terminal;
mod tui;

use std::io::{IsTerminal, Read, Write};
use std::process::{Command, Stdio};

use shm_clip::{Error, Selector};

use crate::args::{Global, PickArgs};
use crate::errors::CliError;
use crate::menu;
use crate::open;

/// Picks an entry and selects it; a cancelled pick changes nothing.
pub fn run(global: &Global, args: &PickArgs) -> Result<(), CliError> {
    let board = open::existing(global)?;
    let seq = if let Some(cmd) = &args.menu {
        let items = menu::load(&board, args.format.icons)?;
        if items.is_empty() {
            return Err(Error::Empty.into());
        }
        let chosen = run_menu(cmd, menu::lines(&items, args.format).into_bytes())?;
        menu::parse_choice(&chosen)?
    } else {
        if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
            return Err(CliError::NoTerminal);
        }
        let items = menu::load(&board, false)?;
        if items.is_empty() {
            return Err(Error::Empty.into());
        }
        tui::pick(items)?.ok_or(CliError::Cancelled)?
    };
    let commit = board.select(Selector::Seq(seq))?;
    tracing::debug!(seq, commit, "picked");
    Ok(())
}

/// Runs the menu with `input` on its stdin and returns what it printed. A
/// non-zero exit or an empty answer is a cancel.
fn run_menu(cmd: &str, input: Vec<u8>) -> Result<Vec<u8>, CliError> {
    let exec = |source| CliError::Menu {
        cmd: cmd.to_owned(),
        source,
    };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(exec)?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    // A separate writer: a menu may answer (or quit) before it has read
    // everything, and fzf reads while it draws.
    let writer = std::thread::Builder::new()
        .name("menu-input".into())
        .spawn(move || {
            // A menu that quits early closes the pipe; that is no error.
            let _ = stdin.write_all(&input);
        })
        .map_err(exec)?;
    let mut chosen = Vec::new();
    let read = child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_end(&mut chosen);
    let status = child.wait().map_err(exec)?;
    let _ = writer.join();
    read.map_err(exec)?;
    tracing::debug!(%status, answer = chosen.len(), "menu finished");
    if !status.success() || chosen.iter().all(|&b| b == b'\n' || b == b'\0') {
        return Err(CliError::Cancelled);
    }
    Ok(chosen)
}
