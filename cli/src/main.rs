//! `shm-clip`: the command line of a clipboard shared through POSIX shared
//! memory.
//!
//! Thin, like ripgrep's `main`: parse the arguments, set up logging, hand the
//! subcommand to its module, and turn an error into `shm-clip: what: why
//! (hint)` with exit status 1. A reader closing our stdout is not an error.

mod archive;
mod args;
mod boards;
mod change;
mod config;
mod copy;
mod entries;
mod errors;
mod generate;
mod global;
mod history;
mod human;
mod json;
mod menu;
mod open;
mod output;
mod paste;
mod pick;
mod primary;
mod search;
mod status;
mod watch;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::FromArgMatches;

use crate::args::{Args, Command, Global};
use crate::entries::Edit;
use crate::errors::CliError;

fn main() -> ExitCode {
    // The config is read before parsing, so that --help shows the defaults
    // in effect. An invalid one is reported after parsing, below.
    let config = shm_clip::Config::load();
    let matches =
        args::command_with_defaults(config.as_ref().unwrap_or(&shm_clip::Config::default()))
            .get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    init_logging();
    // Every command but `config` and the generators refuses to start with an
    // invalid config file.
    let config = match (&args.command, config) {
        (_, Ok(config)) => config,
        (Command::Config(_) | Command::Completions(_), Err(_)) => shm_clip::Config::default(),
        (_, Err(err)) => return errors::report(&err.into()),
    };
    match Global::resolve(&args, config).and_then(|global| run(&args, &global)) {
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

/// Logs go to stderr, filtered by `RUST_LOG` (default `warn`). Clip contents
/// are never logged, only sizes, types and seqs.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
