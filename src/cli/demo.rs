//! `strass` without a subcommand: a short demonstration of the whole pipeline.

use std::process::ExitCode;

/// Runs the demonstration.
pub fn run() -> crate::Result<ExitCode> {
    println!("strass: see `strass --help`");
    Ok(ExitCode::SUCCESS)
}
