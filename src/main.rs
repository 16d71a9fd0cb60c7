//! The `repmail` binary: parse arguments, run one command, print the error
//! chain, map it to an exit code. Everything else lives in the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
