//! `isobar auth hash-token`: turns a secret into the `[[auth.tokens]]` entry the server needs.
//!
//! The secret comes from standard input (`--generate` makes a random one and prints it once);
//! it is never a command-line argument, which other users of the host could read.

use std::io::{BufRead, Write};

use clap::{Args, Subcommand};

use super::CliError;
use crate::auth::{generate_secret, hash_secret};

/// `isobar auth <command>`.
#[derive(Subcommand, Clone, Debug, PartialEq)]
pub enum AuthCommand {
    /// Print the config entry for a token whose secret is read from stdin (or generated).
    HashToken(HashTokenArgs),
}

/// Arguments of `isobar auth hash-token`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(after_help = "\
Examples:
  isobar auth hash-token --generate --name ingest-agent   # prints a new secret once, and its entry
  isobar auth hash-token --name dashboard < secret.txt    # entry for an existing secret

Paste the entry into isobar.toml and edit its grants; give the secret to the client as
$ISOBAR_TOKEN or in a file passed with --token-file.")]
pub struct HashTokenArgs {
    /// Generate a random secret instead of reading one from stdin.
    #[arg(long)]
    pub generate: bool,
    /// The token's name in the entry (shown in server logs).
    #[arg(long, default_value = "my-token")]
    pub name: String,
}

/// Runs an `auth` command.
pub fn run(command: &AuthCommand) -> Result<(), CliError> {
    match command {
        AuthCommand::HashToken(args) => hash_token(args),
    }
}

/// The `[[auth.tokens]]` entry for `name` with digest `sha256`, granting read on every table.
pub fn config_entry(name: &str, sha256: &str) -> String {
    format!(
        "[[auth.tokens]]\nname = {name:?}\nsha256 = \"{sha256}\"\n\
         grants = {{ \"*\" = [\"read\"] }}   # edit: table or \"*\" = any of \"read\", \"write\", \"admin\" (or view, add, change, delete)\n"
    )
}

fn hash_token(args: &HashTokenArgs) -> Result<(), CliError> {
    let stdin_error = |source| CliError::Io { path: "<stdin>".into(), source };
    let secret = if args.generate {
        generate_secret().map_err(|e| CliError::Io { path: "<OS random source>".into(), source: e.into() })?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(stdin_error)?;
        line
    };
    if secret.trim().is_empty() {
        return Err(CliError::Argument { arg: "stdin", reason: "no secret given: pipe one in, or pass --generate" });
    }
    let mut out = std::io::stdout().lock();
    let mut text = String::new();
    if args.generate {
        text.push_str(&format!(
            "# Secret (shown only now; give it to the client as $ISOBAR_TOKEN or via --token-file):\n{}\n\n",
            secret.trim()
        ));
    }
    text.push_str("# Add to isobar.toml ([auth] enabled = true):\n");
    text.push_str(&config_entry(&args.name, &hash_secret(&secret).to_string()));
    out.write_all(text.as_bytes()).map_err(|source| CliError::Io { path: "<stdout>".into(), source })
}
