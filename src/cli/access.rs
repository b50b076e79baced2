//! `isobar user|group|grant|revoke|token|whoami|audit`: access management against a running
//! server (the `ChangeAccess`, `IssueToken`, `DescribeAccess`, `WhoAmI` and
//! `ListAuditEntries` RPCs).
//!
//! Secrets never come from the command line, where other users of the host can read them in
//! the process list: a password is read from `--password-file FILE` or standard input
//! (`--password-stdin`); a `--password VALUE` or `--secret VALUE` argument is refused with an
//! error saying so. `token issue` prints the new secret once, alone on standard output (so it
//! can be redirected into a file), and what it is on standard error.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use isobar_proto::v1 as pb;

use super::CliError;
use super::args::OutputFormat;
use super::output::{Cell, listing, print_all};
use crate::client::Client;

/// How a password is given.
#[derive(Args, Clone, Debug, Default, PartialEq)]
pub struct PasswordArgs {
    /// Read the password from this file (its final newline is ignored).
    #[arg(long, value_name = "FILE", conflicts_with = "password_stdin")]
    pub password_file: Option<PathBuf>,
    /// Read the password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Refused: a password is never taken as an argument (use --password-file or --password-stdin).
    #[arg(long, hide = true, value_name = "REFUSED")]
    pub password: Option<String>,
}

/// `isobar user ...`.
#[derive(Subcommand, Clone, Debug, PartialEq)]
pub enum UserCommand {
    /// Create a user (enabled, no permissions, no tokens).
    #[command(after_help = "Examples:\n  isobar user create alice\n  isobar user create bob --password-file bob.pw")]
    Create {
        /// The user's name: letters, digits, _ - . (starting with a letter), at most 64.
        name: String,
        /// The optional password.
        #[command(flatten)]
        password: PasswordArgs,
        /// Create it disabled.
        #[arg(long)]
        disabled: bool,
    },
    /// Disable a user: its tokens and password are refused from the next request on.
    #[command(after_help = "Example:\n  isobar user disable alice")]
    Disable {
        /// The user.
        name: String,
    },
    /// Enable a disabled user.
    #[command(after_help = "Example:\n  isobar user enable alice")]
    Enable {
        /// The user.
        name: String,
    },
    /// Set a user's password (or remove it with --remove).
    #[command(
        after_help = "Examples:\n  isobar user set-password alice --password-file alice.pw\n  isobar user set-password alice --remove"
    )]
    SetPassword {
        /// The user.
        name: String,
        /// The new password.
        #[command(flatten)]
        password: PasswordArgs,
        /// Remove the password instead.
        #[arg(long)]
        remove: bool,
    },
    /// Delete a user with its tokens, grants and memberships.
    #[command(after_help = "Example:\n  isobar user delete alice")]
    Delete {
        /// The user.
        name: String,
    },
    /// List users (and the config file's tokens).
    #[command(after_help = "Examples:\n  isobar user list\n  isobar --format json user list")]
    List,
    /// Show one user: groups, grants, effective grants, tokens.
    #[command(after_help = "Example:\n  isobar user describe alice")]
    Describe {
        /// The user.
        name: String,
    },
}

/// `isobar group ...`.
#[derive(Subcommand, Clone, Debug, PartialEq)]
pub enum GroupCommand {
    /// Create a group.
    #[command(after_help = "Example:\n  isobar group create field-techs")]
    Create {
        /// The group's name.
        name: String,
    },
    /// Delete a group (its members stay).
    #[command(after_help = "Example:\n  isobar group delete field-techs")]
    Delete {
        /// The group.
        name: String,
    },
    /// Add a user to a group.
    #[command(after_help = "Example:\n  isobar group add-member field-techs alice")]
    AddMember {
        /// The group.
        group: String,
        /// The user.
        user: String,
    },
    /// Remove a user from a group.
    #[command(after_help = "Example:\n  isobar group remove-member field-techs alice")]
    RemoveMember {
        /// The group.
        group: String,
        /// The user.
        user: String,
    },
    /// List groups with members and grants.
    #[command(after_help = "Example:\n  isobar group list")]
    List,
}

/// `isobar grant|revoke`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(after_help = "\
Permissions: view, add, change, delete, admin. A table name or '*' (every table, including
tables created later). A revoke without permissions removes everything on that table.

Examples:
  isobar grant --group field-techs weather add
  isobar grant --user alice '*' view
  isobar revoke --user alice weather")]
pub struct GrantArgs {
    /// To (or from) this user.
    #[arg(long, conflicts_with = "group", required_unless_present = "group")]
    pub user: Option<String>,
    /// To (or from) this group.
    #[arg(long)]
    pub group: Option<String>,
    /// A table name or '*'.
    pub table: String,
    /// Permissions.
    pub permissions: Vec<String>,
}

/// `isobar token ...`.
#[derive(Subcommand, Clone, Debug, PartialEq)]
pub enum TokenCommand {
    /// Issue a token for a user; prints its secret once on standard output.
    #[command(after_help = "Examples:\n  isobar token issue alice laptop\n  \
                            isobar token issue ci deploy --expires now+30d\n\
                            Only the secret goes to standard output: redirect it into a file to keep it.")]
    Issue {
        /// The user.
        user: String,
        /// The token's name (unique per user).
        name: String,
        /// When it expires: RFC 3339, a date, or now+DURATION (e.g. now+30d).
        #[arg(long, value_parser = super::time::parse_time)]
        expires: Option<i64>,
    },
    /// Revoke a user's token (refused from the next request on, even on open connections).
    #[command(after_help = "Example:\n  isobar token revoke alice laptop")]
    Revoke {
        /// The user.
        user: String,
        /// The token.
        name: String,
    },
}

/// `isobar audit`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(after_help = "Examples:\n  isobar audit\n  isobar --format json audit --limit 1000")]
pub struct AuditArgs {
    /// At most this many entries (newest last).
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

/// The password `args` give: `None` when none was given; an argument value is refused.
pub fn read_password(args: &PasswordArgs) -> Result<Option<String>, CliError> {
    if args.password.is_some() {
        return Err(CliError::Argument {
            arg: "--password",
            reason: "a password is never taken as a command-line argument (other users can read it in the \
                     process list): use --password-file FILE or --password-stdin",
        });
    }
    let text = match (&args.password_file, args.password_stdin) {
        (Some(path), _) => {
            std::fs::read_to_string(path).map_err(|source| CliError::Io { path: path.clone(), source })?
        }
        (None, true) => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| CliError::Io { path: "<stdin>".into(), source })?;
            text
        }
        (None, false) => return Ok(None),
    };
    Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()))
}

fn grant_change(args: &GrantArgs) -> pb::GrantChange {
    let kind = match (&args.user, &args.group) {
        (Some(user), _) => pb::access_subject::Kind::User(user.clone()),
        (None, group) => pb::access_subject::Kind::Group(group.clone().unwrap_or_default()),
    };
    pb::GrantChange {
        subject: Some(pb::AccessSubject { kind: Some(kind) }),
        table: args.table.clone(),
        permissions: args.permissions.clone(),
    }
}

/// The `ChangeAccess` request of a user command (`None` for the listing commands).
pub fn user_request(command: &UserCommand) -> Result<Option<pb::ChangeAccessRequest>, CliError> {
    use pb::change_access_request::Change as C;
    let change = match command {
        UserCommand::Create { name, password, disabled } => C::CreateUser(pb::CreateUser {
            name: name.clone(),
            password: read_password(password)?,
            disabled: *disabled,
        }),
        UserCommand::Disable { name } => C::SetUserEnabled(pb::SetUserEnabled { name: name.clone(), enabled: false }),
        UserCommand::Enable { name } => C::SetUserEnabled(pb::SetUserEnabled { name: name.clone(), enabled: true }),
        UserCommand::SetPassword { name, password, remove } => {
            let password = read_password(password)?;
            if password.is_none() && !remove {
                return Err(CliError::Argument {
                    arg: "--password-file",
                    reason: "give the new password with --password-file FILE or --password-stdin, or --remove",
                });
            }
            C::SetPassword(pb::SetPassword { name: name.clone(), password: password.filter(|_| !remove) })
        }
        UserCommand::Delete { name } => C::DeleteUser(name.clone()),
        UserCommand::List | UserCommand::Describe { .. } => return Ok(None),
    };
    Ok(Some(pb::ChangeAccessRequest { change: Some(change) }))
}

/// The `ChangeAccess` request of a group command (`None` for `list`).
pub fn group_request(command: &GroupCommand) -> Option<pb::ChangeAccessRequest> {
    use pb::change_access_request::Change as C;
    let change = match command {
        GroupCommand::Create { name } => C::CreateGroup(name.clone()),
        GroupCommand::Delete { name } => C::DeleteGroup(name.clone()),
        GroupCommand::AddMember { group, user } => {
            C::AddMember(pb::Membership { group: group.clone(), user: user.clone() })
        }
        GroupCommand::RemoveMember { group, user } => {
            C::RemoveMember(pb::Membership { group: group.clone(), user: user.clone() })
        }
        GroupCommand::List => return None,
    };
    Some(pb::ChangeAccessRequest { change: Some(change) })
}

fn grants_text(grants: &[pb::TableGrant]) -> String {
    grants.iter().map(|g| format!("{}={}", g.table, g.permissions.join("+"))).collect::<Vec<_>>().join(" ")
}

fn time_text(ms: Option<i64>) -> String {
    ms.map_or_else(String::new, |ms| crate::snapshots::utc_text(ms.saturating_mul(1_000_000)))
}

async fn change(client: &mut Client, request: pb::ChangeAccessRequest, done: &str) -> Result<(), CliError> {
    let r = client.admin.change_access(request).await?.into_inner();
    eprintln!("{done} (access catalog generation {})", r.generation);
    Ok(())
}

fn print_users(users: &[pb::UserInfo], format: OutputFormat) -> Result<(), CliError> {
    let rows: Vec<Vec<Cell>> = users
        .iter()
        .map(|u| {
            vec![
                Cell::Text(u.name.clone()),
                Cell::Text(if u.file_defined { "config file" } else { "catalog" }.into()),
                Cell::Text(if u.enabled { "yes" } else { "no" }.into()),
                Cell::Text(u.groups.join(",")),
                Cell::Text(grants_text(&u.effective_grants)),
                Cell::Text(u.tokens.iter().map(|t| t.name.clone()).collect::<Vec<_>>().join(",")),
            ]
        })
        .collect();
    let batch = listing(&["name", "defined_in", "enabled", "groups", "effective_grants", "tokens"], &rows)?;
    print_all(format, &batch.schema(), &[batch])?;
    Ok(())
}

/// Runs `isobar user ...`.
pub async fn run_user(command: &UserCommand, client: &mut Client, format: OutputFormat) -> Result<(), CliError> {
    if let Some(request) = user_request(command)? {
        return change(client, request, "done").await;
    }
    let all = client.admin.describe_access(pb::DescribeAccessRequest {}).await?.into_inner();
    match command {
        UserCommand::Describe { name } => {
            let user = all
                .users
                .iter()
                .find(|u| &u.name == name)
                .ok_or_else(|| CliError::from(tonic::Status::not_found(format!("user {name:?} does not exist"))))?;
            print_users(std::slice::from_ref(user), format)?;
            let rows: Vec<Vec<Cell>> = user
                .tokens
                .iter()
                .map(|t| {
                    vec![
                        Cell::Text(t.name.clone()),
                        Cell::Text(time_text(Some(t.created_ms))),
                        Cell::Text(time_text(t.expires_at_ms)),
                        Cell::Text(time_text(t.last_used_ms)),
                    ]
                })
                .collect();
            let batch = listing(&["token", "created", "expires", "last_used"], &rows)?;
            print_all(format, &batch.schema(), &[batch])?;
            Ok(())
        }
        _ => print_users(&all.users, format),
    }
}

/// Runs `isobar group ...`.
pub async fn run_group(command: &GroupCommand, client: &mut Client, format: OutputFormat) -> Result<(), CliError> {
    if let Some(request) = group_request(command) {
        return change(client, request, "done").await;
    }
    let all = client.admin.describe_access(pb::DescribeAccessRequest {}).await?.into_inner();
    let rows: Vec<Vec<Cell>> = all
        .groups
        .iter()
        .map(|g| vec![Cell::Text(g.name.clone()), Cell::Text(g.members.join(",")), Cell::Text(grants_text(&g.grants))])
        .collect();
    let batch = listing(&["name", "members", "grants"], &rows)?;
    print_all(format, &batch.schema(), &[batch])?;
    Ok(())
}

/// Runs `isobar grant` (`revoke = false`) or `isobar revoke`.
pub async fn run_grant(args: &GrantArgs, revoke: bool, client: &mut Client) -> Result<(), CliError> {
    use pb::change_access_request::Change as C;
    let g = grant_change(args);
    let change_kind = if revoke { C::Revoke(g) } else { C::Grant(g) };
    change(client, pb::ChangeAccessRequest { change: Some(change_kind) }, if revoke { "revoked" } else { "granted" })
        .await
}

/// Runs `isobar token ...`.
pub async fn run_token(command: &TokenCommand, client: &mut Client) -> Result<(), CliError> {
    match command {
        TokenCommand::Issue { user, name, expires } => {
            let request = pb::IssueTokenRequest {
                user: user.clone(),
                name: name.clone(),
                expires_at_ms: expires.map(|ns| ns.div_euclid(1_000_000)),
            };
            let r = client.admin.issue_token(request).await?.into_inner();
            println!("{}", r.secret);
            eprintln!(
                "token {name:?} of user {user:?} issued (access catalog generation {}); the secret above is shown \
                 only this once: store it now (clients: --token-file FILE or $ISOBAR_TOKEN)",
                r.generation
            );
            Ok(())
        }
        TokenCommand::Revoke { user, name } => {
            let request = pb::ChangeAccessRequest {
                change: Some(pb::change_access_request::Change::RevokeToken(pb::TokenRef {
                    user: user.clone(),
                    name: name.clone(),
                })),
            };
            change(client, request, "revoked").await
        }
    }
}

/// Runs `isobar whoami`.
pub async fn run_whoami(client: &mut Client, format: OutputFormat) -> Result<(), CliError> {
    let me = client.admin.who_am_i(pb::WhoAmIRequest {}).await?.into_inner();
    let defined = if me.anonymous {
        "authentication off"
    } else if me.file_defined {
        "config file"
    } else {
        "catalog"
    };
    let row = vec![
        Cell::Text(me.name),
        Cell::Text(defined.into()),
        Cell::Text(me.token),
        Cell::Text(time_text(me.token_expires_at_ms)),
        Cell::Text(me.groups.join(",")),
        Cell::Text(grants_text(&me.effective_grants)),
    ];
    let batch = listing(&["name", "defined_in", "token", "expires", "groups", "effective_grants"], &[row])?;
    print_all(format, &batch.schema(), &[batch])?;
    Ok(())
}

/// Runs `isobar audit`.
pub async fn run_audit(args: &AuditArgs, client: &mut Client, format: OutputFormat) -> Result<(), CliError> {
    let r = client.admin.list_audit_entries(pb::ListAuditEntriesRequest { limit: args.limit }).await?.into_inner();
    let rows: Vec<Vec<Cell>> = r
        .entries
        .into_iter()
        .map(|e| {
            vec![
                Cell::Text(time_text(Some(e.at_ms))),
                Cell::Text(e.who),
                Cell::Text(e.action),
                Cell::Text(e.target),
                Cell::Text(e.outcome),
                Cell::Text(e.peer),
            ]
        })
        .collect();
    let batch = listing(&["at", "who", "action", "target", "outcome", "peer"], &rows)?;
    print_all(format, &batch.schema(), &[batch])?;
    Ok(())
}
