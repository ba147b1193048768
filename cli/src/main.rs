//! `zmon`: one binary for every role of the platform.

mod accounts;
mod library;
mod logging;
mod probes;
mod roles;
mod settings;
mod standalone;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::settings::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "zmon",
    version,
    about = "ZMON-compatible check and alert platform"
)]
struct Cli {
    /// TOML configuration file; `ZMON_*` environment variables override it.
    #[arg(long, global = true, env = "ZMON_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run everything in one process: controller, scheduler, a worker
    /// watching this host, and the Glances API.
    Standalone,
    /// Run the REST controller (applies pending migrations first).
    Controller,
    /// Run a scheduler (replicas elect one leader).
    Scheduler,
    /// Run a worker (needs Redis only, no database).
    Worker,
    /// Deliver notifications (mail, Slack, PagerDuty, SMS, webhooks);
    /// needs Redis only.
    Notifier,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage local users.
    #[command(subcommand)]
    User(accounts::UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(accounts::TokenCommand),
    /// Ready-made check and alert definitions.
    #[command(subcommand)]
    Library(LibraryCommand),
}

#[derive(Debug, Subcommand)]
enum LibraryCommand {
    /// Load a library file (e.g. `checks/library/host.yaml`) through a
    /// controller's API; loading again updates the definitions.
    Load(library::LoadArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    zmon_checks::install_crypto_provider();
    let cli = Cli::parse();
    let loaded = Settings::load(cli.config.as_deref())?;
    let settings = loaded.settings;
    let loaded_explicit = loaded.explicit;
    logging::init(settings.log_format, &settings.log)?;
    for key in &loaded.unknown_env {
        tracing::warn!(variable = %key, "ignoring unknown ZMON_* environment variable");
    }
    match cli.command {
        Command::Standalone => standalone::standalone(&settings, &loaded_explicit).await,
        Command::Controller => roles::controller(&settings).await,
        Command::Scheduler => roles::scheduler(&settings).await,
        Command::Worker => roles::worker(&settings).await,
        Command::Notifier => roles::notifier(&settings).await,
        Command::Migrate => {
            let config = settings.controller();
            let store = zmon_controller::connect_store(&config).await?;
            store.ping().await?;
            println!(
                "migrations applied to {}",
                zmon_controller::config::redact_url(&config.database_url)
            );
            Ok(())
        }
        Command::User(cmd) => accounts::user(&settings, cmd).await,
        Command::Token(cmd) => accounts::token(&settings, cmd).await,
        Command::Library(LibraryCommand::Load(args)) => library::load(args).await,
    }
}
