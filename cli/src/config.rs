//! `config path` and `config show`: where the settings live and what they are.

use std::io::Write;

use shm_clip::Config;

use crate::args::{ConfigArgs, ConfigCommand};
use crate::errors::CliError;

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
