//! `config path` and `config show`: where the settings live and what they are.

use std::io::Write;

use shm_clip::Config;

use crate::args::{ConfigArgs, ConfigCommand};
use crate::errors::CliError;

/// The subcommand's long help.
pub const LONG_ABOUT: &str = "\
Show where the config file is, or the effective settings.

The file is config.toml in the XDG config directory (~/.config/shm-clip/), or \
the file named by SHM_CLIP_CONFIG. A missing file means the defaults; an invalid \
one is an error naming its line and key, and no command starts with it. Every \
setting is described in the README.

Example:
  shm-clip config path
  shm-clip config show > ~/.config/shm-clip/config.toml";

/// Runs `config path` or `config show`.
pub fn run(args: &ConfigArgs) -> Result<(), CliError> {
    let text = match args.command {
        ConfigCommand::Path => format!("{}\n", Config::path()?.display()),
        ConfigCommand::Show => {
            let path = Config::path()?;
            let config = Config::load_from(&path)?;
            let source = if path.exists() {
                format!("# effective settings: {} plus defaults", path.display())
            } else {
                format!(
                    "# effective settings: defaults ({} does not exist)",
                    path.display()
                )
            };
            format!("{source}\n{}", config.to_toml())
        }
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(CliError::Stdout)
}
