//! `zmon user …` and `zmon token …`: accounts, administered straight on the database.

use std::io::BufRead;

use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use clap::{Args, Subcommand};
use uuid::Uuid;
use zmon_controller::auth::{password, tokens};
use zmon_controller::store::{NewToken, NewUser, Store, StoreError};
use zmon_core::Role;

use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a local user (HTTP Basic login).
    Add(AddUser),
    /// List local users.
    List,
    /// Delete a user; their API tokens and UI sessions stop working.
    Delete {
        /// Login name.
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct AddUser {
    /// Login name.
    name: String,
    /// Read the password from the first line of standard input.
    #[arg(long, conflicts_with = "password")]
    password_stdin: bool,
    /// The password (visible in the process list; prefer --password-stdin).
    #[arg(long)]
    password: Option<String>,
    /// ADMIN, LEAD, USER, VIEWER, API_READER or API_WRITER.
    #[arg(long, default_value = "USER")]
    role: Role,
    /// A team the user belongs to; repeat for several.
    #[arg(long = "team", value_name = "TEAM")]
    teams: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it once.
    Create {
        /// The user the token acts as.
        #[arg(long)]
        user: String,
        /// A note on what the token is for.
        #[arg(long)]
        label: Option<String>,
        /// Days until the token expires; it never does if omitted.
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
    },
    /// Revoke a token by its id (or by the token itself).
    Revoke {
        /// The id printed by `token create` / `token list`, or the token.
        token: String,
    },
    /// List tokens (never the secrets).
    List {
        #[arg(long)]
        user: Option<String>,
    },
}

async fn store(settings: &Settings) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    let store = zmon_controller::connect_store(&settings.controller()).await?;
    Ok(store)
}

fn read_password(add: &AddUser) -> anyhow::Result<String> {
    let password = match (&add.password, add.password_stdin) {
        (Some(p), false) => p.clone(),
        (None, true) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
        _ => bail!("give the password with --password-stdin (recommended) or --password"),
    };
    if password.is_empty() {
        bail!("the password must not be empty");
    }
    if password.len() < password::MIN_PASSWORD_LEN {
        eprintln!(
            "warning: the password is shorter than {} characters",
            password::MIN_PASSWORD_LEN
        );
    }
    Ok(password)
}

pub async fn user(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add(add) => {
            let secret = read_password(&add)?;
            let hash = password::hash(&secret)?;
            let store = store(settings).await?;
            let created = store
                .create_user(&NewUser {
                    name: add.name.clone(),
                    password_hash: Some(hash),
                    role: add.role,
                    teams: add.teams.clone(),
                })
                .await;
            match created {
                Ok(()) => {
                    println!(
                        "created user {} ({}, teams: {})",
                        add.name,
                        add.role,
                        display_teams(&add.teams)
                    );
                    Ok(())
                }
                Err(StoreError::Conflict(_)) => bail!("user '{}' already exists", add.name),
                Err(StoreError::Invalid(_)) => bail!(
                    "'{}' is not a valid user name: use letters, digits and ._@+- (up to 128 characters)",
                    add.name
                ),
                Err(e) => Err(e.into()),
            }
        }
        UserCommand::Delete { name } => {
            if store(settings).await?.delete_user(&name).await? {
                println!("deleted user {name} and their API tokens");
                Ok(())
            } else {
                bail!("no user '{name}'")
            }
        }
        UserCommand::List => {
            let users = store(settings).await?.users().await?;
            println!("{:<24} {:<11} {:<20} TEAMS", "NAME", "ROLE", "CREATED");
            for u in users {
                println!(
                    "{:<24} {:<11} {:<20} {}",
                    u.name,
                    u.role,
                    u.created_at.format("%Y-%m-%d %H:%M:%S"),
                    display_teams(&u.teams)
                );
            }
            Ok(())
        }
    }
}

fn display_teams(teams: &[String]) -> String {
    if teams.is_empty() {
        "-".into()
    } else {
        teams.join(",")
    }
}

pub async fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let store = store(settings).await?;
    match command {
        TokenCommand::Create {
            user,
            label,
            expires_in_days,
        } => {
            if store.user(&user).await?.is_none() {
                bail!("user '{user}' does not exist; create it with `zmon user add`");
            }
            let secret = tokens::generate();
            let id = Uuid::new_v4();
            let expires_at = expires_in_days.map(|d| Utc::now() + Duration::days(i64::from(d)));
            store
                .create_token(&NewToken {
                    id,
                    user_name: user.clone(),
                    token_hash: tokens::hash(&secret),
                    label,
                    expires_at,
                })
                .await?;
            eprintln!("created token {id} for {user}; it is shown only this once:");
            println!("{secret}");
            Ok(())
        }
        TokenCommand::Revoke { token } => {
            let id = match Uuid::parse_str(&token) {
                Ok(id) => id,
                Err(_) => store
                    .token_by_hash(&tokens::hash(&token))
                    .await?
                    .map(|(t, _)| t.id)
                    .context("no such token")?,
            };
            if store.revoke_token(id).await? {
                println!("revoked token {id}");
                Ok(())
            } else {
                bail!("token {id} does not exist or is already revoked")
            }
        }
        TokenCommand::List { user } => {
            let list = store.tokens(user.as_deref()).await?;
            println!(
                "{:<36} {:<16} {:<10} {:<20} LABEL",
                "ID", "USER", "STATE", "EXPIRES"
            );
            let now = Utc::now();
            for t in list {
                let state = t.state_at(now);
                let expires = t
                    .expires_at
                    .map(|e| e.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_else(|| "never".into());
                println!(
                    "{:<36} {:<16} {:<10} {:<20} {}",
                    t.id,
                    t.user_name,
                    state,
                    expires,
                    t.label.unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}
