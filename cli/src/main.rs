//! `zmon`: one binary for every role of the platform.

mod admin;
mod logging;
mod settings;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use zmon_controller::store::Store;

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
    /// Run the REST controller (applies pending migrations first).
    Controller,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage local users.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(admin::TokenCommand),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    zmon_checks::install_crypto_provider();
    let cli = Cli::parse();
    let loaded = Settings::load(cli.config.as_deref())?;
    let settings = loaded.settings;
    logging::init(settings.log_format, &settings.log)?;
    for key in &loaded.unknown_env {
        tracing::warn!(variable = %key, "ignoring unknown ZMON_* environment variable");
    }
    match cli.command {
        Command::Controller => run_controller(&settings).await,
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
        Command::User(cmd) => admin::user(&settings, cmd).await,
        Command::Token(cmd) => admin::token(&settings, cmd).await,
    }
}

async fn run_controller(settings: &Settings) -> anyhow::Result<()> {
    let config = settings.controller();
    tracing::info!(?config, "starting controller");
    let store = zmon_controller::connect_store(&config).await?;
    let bus = zmon_controller::connect_bus(&config)?;
    let running = zmon_controller::start(&config, store, bus).await?;
    let handle = running.handle();
    tokio::spawn(async move {
        wait_for_shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        handle.stop(true).await;
    });
    running
        .run()
        .await
        .context("controller stopped with an error")?;
    tracing::info!("controller stopped");
    Ok(())
}

/// SIGTERM (Kubernetes) or Ctrl-C.
async fn wait_for_shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
