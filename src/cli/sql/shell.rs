//! The interactive shell of `isobar sql`: a line editor with history (kept in
//! `~/.isobar_sql_history`), statements ending at `;` over as many lines as needed, `\q` to
//! quit. An error is printed and the shell goes on.

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use super::flight::SqlClient;
use super::statements::Splitter;
use crate::cli::CliError;
use crate::cli::args::OutputFormat;

/// Most lines of history kept.
const HISTORY_LINES: usize = 1000;

const HELP: &str = "\
Type SQL ending with `;` (it may span lines). Commands:
  \\q   quit (also Ctrl-D)
  \\?   this help
Ctrl-C clears the statement being typed.";

/// The history file: `$HOME/.isobar_sql_history` (none without `$HOME`).
fn history_file() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".isobar_sql_history"))
}

/// Runs the shell until `\q` or end of input.
pub async fn run(client: &mut SqlClient, format: OutputFormat) -> Result<(), CliError> {
    let config = rustyline::Config::builder().max_history_size(HISTORY_LINES).map_err(editor_error)?.build();
    let mut editor = DefaultEditor::with_config(config).map_err(editor_error)?;
    let history = history_file();
    if let Some(path) = &history {
        // A missing history file is the normal first start.
        let _ = editor.load_history(path);
    }
    eprintln!("isobar sql: statements end with `;`, \\q quits, \\? helps.");
    let mut splitter = Splitter::default();
    loop {
        let prompt = if splitter.is_pending() { "     -> " } else { "isobar> " };
        // The editor blocks on the terminal: keep it off the async workers.
        let (back, line) = tokio::task::spawn_blocking(move || {
            let line = editor.readline(prompt);
            (editor, line)
        })
        .await
        .map_err(|e| CliError::Flight(format!("the line editor stopped: {e}")))?;
        editor = back;
        let line = match line {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                let _ = splitter.finish();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(editor_error(e)),
        };
        let command = line.trim();
        if !splitter.is_pending() && command.starts_with('\\') {
            match command {
                "\\q" => break,
                "\\?" | "\\h" => eprintln!("{HELP}"),
                other => eprintln!("unknown command {other}; \\? lists the commands"),
            }
            continue;
        }
        let _ = editor.add_history_entry(line.as_str());
        for statement in splitter.push(&format!("{line}\n")) {
            if let Err(error) = client.run(&statement, format).await {
                eprintln!("error: {error}");
            }
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    Ok(())
}

fn editor_error(error: ReadlineError) -> CliError {
    CliError::Flight(format!("the line editor failed: {error}"))
}
