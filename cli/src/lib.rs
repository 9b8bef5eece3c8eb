//! `shm-clip`: the command line of a clipboard shared through POSIX shared
//! memory.
//!
//! Thin, like ripgrep's `main`: parse the arguments, set up logging, hand the
//! subcommand to its module, and turn an error into `shm-clip: what: why
//! (hint)` with exit status 1. A reader closing our stdout is not an error.
//! The common shapes of `copy` and `paste` are parsed without building clap
//! (`fast.rs`) into the same `Args`, and run by the same code.
//!
//! Two binaries share this crate. `shm-clip-full` ([`main`]) is the whole
//! command line. `shm-clip`, the one users run, is [`front::main`]: it runs
//! the fast path's `copy` and `paste` itself and execs `shm-clip-full` for
//! everything else, so that the code of every other subcommand (clap's
//! command tree, SQLite, the terminal picker) is not in the binary that a
//! paste starts, and its relocations are not applied at every start
//! (`front.rs` says how much that saves).

mod archive;
mod args;
mod boards;
mod change;
mod config;
mod copy;
mod entries;
mod errors;
mod fast;
pub mod front;
mod generate;
mod global;
mod history;
mod human;
mod json;
mod logging;
mod menu;
mod open;
mod output;
mod paste;
mod pick;
mod primary;
mod search;
mod status;
mod watch;

use std::process::ExitCode;

use clap::FromArgMatches;

use crate::args::{Args, Command, Global};
use crate::entries::Edit;
use crate::errors::CliError;

/// The full command line: `shm-clip-full`'s `main`.
#[must_use]
pub fn main() -> ExitCode {
    // The config is read before parsing, so that --help shows the defaults
    // in effect. An invalid one is reported after parsing, below.
    let config = shm_clip::Config::load();
    let command_line: Vec<_> = std::env::args_os().collect();
    // `copy` and `paste` in their common shapes skip building clap's
    // command tree; the `Args` are the same either way (fast.rs).
    let fast = fast::enabled()
        .then(|| fast::parse(&command_line))
        .flatten();
    let parser = if fast.is_some() { "fast path" } else { "clap" };
    let args = fast.unwrap_or_else(|| {
        let matches =
            args::command_with_defaults(config.as_ref().unwrap_or(&shm_clip::Config::default()))
                .get_matches_from(&command_line);
        Args::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
    });
    start(&args, config, parser, run, logging::init)
}

/// Sets up logging with `init_logging`, then runs `args` with `run` on the
/// board they name.
fn start(
    args: &Args,
    config: shm_clip::Result<shm_clip::Config>,
    parser: &str,
    run: fn(&Args, &Global) -> Result<(), CliError>,
    init_logging: fn(),
) -> ExitCode {
    init_logging();
    tracing::debug!(parser, "arguments parsed");
    // Every command but `config` and the generators refuses to start with an
    // invalid config file.
    let config = match (&args.command, config) {
        (_, Ok(config)) => config,
        (Command::Config(_) | Command::Completions(_), Err(_)) => shm_clip::Config::default(),
        (_, Err(err)) => return errors::report(&err.into()),
    };
    match Global::resolve(args, config).and_then(|global| run(args, &global)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => errors::report(&err),
    }
}

fn run(args: &Args, global: &Global) -> Result<(), CliError> {
    match &args.command {
        Command::Copy(copy) => copy::run(global, copy),
        Command::Paste(paste) => paste::run(global, paste),
        Command::Watch(watch) => watch::run(global, watch),
        Command::History(history) if history.menu.menu => menu::run(global, &history.menu),
        Command::History(history) if history.archive => {
            history::archived(history.limit, history.list.json)
        }
        Command::History(history) => history::run(global, &history.list),
        Command::Pick(pick) => pick::run(global, pick),
        Command::Select(target) => entries::run(global, target, Edit::Select),
        Command::Pin(target) => entries::run(global, target, Edit::Pin),
        Command::Unpin(target) => entries::run(global, target, Edit::Unpin),
        Command::Rm(rm) => entries::remove(global, rm),
        Command::Clear(clear) => entries::clear(global, clear),
        Command::Search(search) => search::run(global, search),
        Command::Archive(archive) => archive::run(global, archive),
        Command::Status(status) => status::run(global, status),
        Command::Boards => boards::list(),
        Command::Destroy(destroy) => boards::destroy(global, destroy),
        Command::Config(config) => config::run(config),
        Command::Completions(completions) => generate::completions(completions.shell),
    }
}
