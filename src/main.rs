//! The `isobar` binary: parses the command line and runs it (see the `isobar` library).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = isobar::cli::Cli::parse();
    match isobar::cli::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        // Already the last line of the log, in the configured format (text or JSON).
        Err(err) if err.is_logged() => ExitCode::FAILURE,
        Err(err) => {
            let message = err.to_string();
            eprintln!("error: {message}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                // Most variants print their source inline; show a cause only when it adds text.
                let text = cause.to_string();
                if !message.contains(&text) {
                    eprintln!("  caused by: {text}");
                }
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}
