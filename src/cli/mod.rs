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

/// Restores the default action of `SIGPIPE` (which the Rust runtime ignores), so that output
/// into a closed pipe (`strass verify kernels/*.json | head -1`) ends the process quietly, as
/// for other command-line tools, instead of making `println!` panic.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: `signal` with a valid signal number and `SIG_DFL` has no memory-safety
    // preconditions; it runs before any other thread exists and before any output.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Parses the command line and runs it; errors print one line and exit with status 2.
pub fn run() -> ExitCode {
    restore_sigpipe();
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
