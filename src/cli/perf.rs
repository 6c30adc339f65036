//! Performance commands (tune, bench).

use clap::Subcommand;
use std::process::ExitCode;

/// Performance commands (tune, bench).
#[derive(Debug, Subcommand)]
pub enum PerfCommand {
    /// Placeholder until this stage's commands land.
    #[command(hide = true, name = "__perf")]
    Placeholder,
}

/// Runs one of these commands.
pub fn run(cmd: PerfCommand) -> crate::Result<ExitCode> {
    match cmd {
        PerfCommand::Placeholder => Err(crate::Error::Config("not implemented yet".into())),
    }
}
