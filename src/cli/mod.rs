//! The `strass` command line. Each stage of the pipeline owns its subcommands in its own file.

mod demo;
mod discovery;
mod perf;
mod schemes;
mod training;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// strass: learned fast matrix multiplication.
#[derive(Debug, Parser)]
#[command(name = "strass", version, about)]
pub struct Cli {
    /// What to do; without a subcommand, runs the demonstration of the whole pipeline.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// All subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scheme files: verify, import.
    #[command(flatten)]
    Schemes(schemes::SchemeCommand),
    /// Training: train, study, fragility, permutations, kappa, report, discover.
    #[command(flatten)]
    Training(training::TrainingCommand),
    /// Performance: tune, bench.
    #[command(flatten)]
    Perf(perf::PerfCommand),
}

/// Parses the command line and runs it; errors print one line and exit with status 2.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => demo::run(),
        Some(Command::Schemes(c)) => schemes::run(c),
        Some(Command::Training(c)) => training::run(c),
        Some(Command::Perf(c)) => perf::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("strass: error: {e}");
            ExitCode::from(2)
        }
    }
}
