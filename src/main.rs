//! The `strass` command; see `strass --help`.

fn main() -> std::process::ExitCode {
    strass::cli::run()
}
