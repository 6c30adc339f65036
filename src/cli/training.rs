//! Training commands.

use clap::Subcommand;
use std::process::ExitCode;

/// Training commands.
#[derive(Debug, Subcommand)]
pub enum TrainingCommand {
    /// Placeholder until this stage's commands land.
    #[command(hide = true, name = "__training")]
    Placeholder,
}

/// Runs one of these commands.
pub fn run(cmd: TrainingCommand) -> crate::Result<ExitCode> {
    match cmd {
        TrainingCommand::Placeholder => Err(crate::Error::Config("not implemented yet".into())),
    }
}
