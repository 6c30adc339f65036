//! Scheme commands (verify, import).

use clap::Subcommand;
use std::process::ExitCode;

/// Scheme commands (verify, import).
#[derive(Debug, Subcommand)]
pub enum SchemeCommand {
    /// Placeholder until this stage's commands land.
    #[command(hide = true, name = "__schemes")]
    Placeholder,
}

/// Runs one of these commands.
pub fn run(cmd: SchemeCommand) -> crate::Result<ExitCode> {
    match cmd {
        SchemeCommand::Placeholder => Err(crate::Error::Config("not implemented yet".into())),
    }
}
