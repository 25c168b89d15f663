//! The `napkin` command: parse arguments, hand them to [`napkin::run`], map the outcome to an
//! exit code (SPEC section 2). Everything else lives in the library so tests can drive it.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match napkin::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                napkin::exit::BAD_INPUT
            } else {
                0
            };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    let mut stdout = std::io::stdout().lock();
    match napkin::run(cli, &mut stdout) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // Not eprintln!: a closed stderr (`2>&1 | head`) must not turn an error into a panic.
            let _ = writeln!(std::io::stderr(), "error: {err:#}");
            ExitCode::from(napkin::exit::code_of(&err))
        }
    }
}
