//! The `repmail` binary: parse arguments, run one command, print the error
//! chain, map it to an exit code. Everything else lives in the library.

// Every line goes through the terminal cleaner (src/cli/terminal.rs).
#[deny(clippy::disallowed_macros)]
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
