//! The command line: `serve` (default), `check-config`, `migrate`, `healthcheck`, `demo`, `sim`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::demo::{Demo, DemoOptions, DemoStore, Output};
use crate::settings::{ConfigError, Settings};
use crate::startup::Application;

/// Exit code for an invalid configuration.
pub const EXIT_CONFIG: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "cartgate",
    version,
    about = "TradeGecko and Shopify orders to EasyPost Fulfillment; tracking and inventory back."
)]
pub struct Cli {
    /// Configuration file layered over the defaults (then CARTGATE__SECTION__KEY variables).
    #[arg(long, global = true, env = "CARTGATE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server and the workers (the default).
    Serve,
    /// Validate the configuration and print it, secrets redacted.
    CheckConfig,
    /// Move a store written by the previous release to this release's ledger layout (per
    /// merchant). Stop every replica first; safe to run again (resumes where it stopped).
    Migrate,
    /// Exit 0 if the URL answers 2xx within 3 s (for container health checks).
    Healthcheck {
        /// e.g. http://127.0.0.1:8080/healthz
        url: String,
    },
    /// Run the whole flow against built-in simulators and check the outcome (exit 1 if any
    /// order is not where it should be, or anything was duplicated).
    Demo(DemoArgs),
    /// Test Connection for a merchant's EasyPost key or a cart's TradeGecko or Shopify token.
    TestConnection {
        /// A merchant id or a cart id.
        target: String,
    },
    /// Manage a merchant's SKU → barcode aliases in the configured store.
    Aliases {
        #[command(subcommand)]
        action: AliasAction,
    },
    /// Merchants and carts managed at runtime.
    Tenants {
        #[command(subcommand)]
        action: TenantsAction,
    },
    /// Wait this many seconds, then exit 0 (a Kubernetes preStop hook in an image without
    /// a shell or `sleep`).
    Pause { seconds: u64 },
    /// Run one upstream simulator (TradeGecko, Shopify or EasyPost Fulfillment) in the foreground.
    Sim {
        #[arg(value_enum)]
        kind: crate::sim::cli::SimKind,
        /// Port to listen on (0 = any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Seed data (TOML), e.g. config/sim-seed.toml.
        #[arg(long, value_name = "FILE")]
        seed: Option<PathBuf>,
        /// EasyPost only: the `service` values orders may use (default standard,express,overnight,2day).
        #[arg(long, value_delimiter = ',')]
        services: Vec<String>,
        #[command(flatten)]
        oauth: crate::sim::cli::OAuthFlags,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantsAction {
    /// Print a fresh key for `tenants.keys` (the base64 of 32 random bytes).
    Keygen,
}

#[derive(Debug, Subcommand)]
pub enum AliasAction {
    /// Import a CSV file with a `sku,barcode` header (all rows or none).
    Import { merchant: String, file: PathBuf },
}

impl Cli {
    /// Runs the chosen command and returns the process exit code.
    pub async fn run(self) -> ExitCode {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => match load(self.config.as_deref()) {
                Ok(settings) => serve_exit(serve(settings).await),
                Err(code) => code,
            },
            Command::CheckConfig => match load(self.config.as_deref()) {
                Ok(settings) => check_config(&settings),
                Err(code) => code,
            },
            Command::Migrate => match load(self.config.as_deref()) {
                Ok(settings) => crate::cli_ops::migrate(settings).await,
                Err(code) => code,
            },
            Command::Healthcheck { url } => healthcheck(&url).await,
            Command::TestConnection { target } => match load(self.config.as_deref()) {
                Ok(settings) => crate::cli_ops::test_connection(settings, &target).await,
                Err(code) => code,
            },
            Command::Aliases { action: AliasAction::Import { merchant, file } } => match load(self.config.as_deref()) {
                Ok(settings) => crate::cli_ops::import_aliases(settings, &merchant, &file).await,
                Err(code) => code,
            },
            Command::Tenants { action: TenantsAction::Keygen } => {
                println!("{}", secrecy::ExposeSecret::expose_secret(&crate::tenants::generate_key()));
                ExitCode::SUCCESS
            }
            Command::Pause { seconds } => {
                tokio::time::sleep(std::time::Duration::from_secs(seconds)).await;
                ExitCode::SUCCESS
            }
            Command::Demo(args) => demo(args).await,
            Command::Sim { kind, port, bind, seed, services, oauth } => {
                exit(crate::sim::cli::run(kind, bind, port, seed.as_deref(), services, oauth).await)
            }
        }
    }
}

/// `cartgate demo` options.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The short form: 6 regular orders instead of 25.
    #[arg(long)]
    pub quick: bool,
    /// Regular orders to create in the carts, every third in the Shopify store (overrides --quick).
    #[arg(long, value_name = "N")]
    pub orders: Option<usize>,
    /// Use this Redis instead of the embedded store (the demo uses a key prefix of its own).
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// Leave the simulators and cartgate running after the story, until Ctrl-C.
    #[arg(long)]
    pub keep_running: bool,
    /// Seconds a step may go without any order moving before it fails.
    #[arg(long, value_name = "SECS", default_value_t = 20)]
    pub step_timeout: u64,
    /// Plain lines even on a terminal (no colour).
    #[arg(long)]
    pub plain: bool,
}

impl Cli {
    /// The log filter when `RUST_LOG` is not set: the demo keeps the terminal for its story.
    pub fn default_log_filter(&self) -> &'static str {
        if matches!(self.command, Some(Command::Demo(_))) { "error" } else { "info" }
    }
}

async fn demo(args: DemoArgs) -> ExitCode {
    let mut options = if args.quick { DemoOptions::quick() } else { DemoOptions::full() };
    if let Some(n) = args.orders {
        options.orders = n.max(2);
    }
    if let Some(url) = args.redis {
        options.store = DemoStore::Redis(url);
    }
    options.step_timeout = std::time::Duration::from_secs(args.step_timeout.max(1));
    options.output = if args.plain { Output::Plain } else { Output::Auto };
    let demo = match Demo::start(options).await {
        Ok(demo) => demo,
        Err(e) => {
            eprintln!("error: the demo could not start: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let report = demo.play().await;
    if args.keep_running {
        println!("\nEverything stays up at {} until Ctrl-C.", demo.url());
        shutdown_signal().await;
    }
    demo.shutdown().await;
    match report {
        Ok(report) if report.passed() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the settings, printing every problem and mapping failure to exit code 2.
fn load(path: Option<&std::path::Path>) -> Result<Settings, ExitCode> {
    Settings::load(path).map_err(|errors| {
        report_config_errors(&errors);
        ExitCode::from(EXIT_CONFIG)
    })
}

pub fn report_config_errors(errors: &[ConfigError]) {
    eprintln!("invalid configuration:");
    for e in errors {
        eprintln!("  {e}");
    }
}

fn check_config(settings: &Settings) -> ExitCode {
    match toml::to_string_pretty(settings) {
        Ok(text) => {
            println!("# configuration is valid; effective values (secrets redacted):\n{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot print the configuration: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::builder(settings).build().await?;
    let readiness = app.readiness();
    tokio::spawn(async move {
        shutdown_signal().await;
        readiness.begin_shutdown();
    });
    app.run_until_stopped().await
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown signal received");
}

async fn healthcheck(url: &str) -> ExitCode {
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(3)).build();
    let ok = match client {
        Ok(c) => matches!(c.get(url).send().await, Ok(r) if r.status().is_success()),
        Err(_) => false,
    };
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// [`exit`], but a store that needs `cartgate migrate` is exit 2 (like a configuration error).
fn serve_exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Err(e) if e.downcast_ref::<crate::ledger::layout::Unmigrated>().is_some() => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
        other => exit(other),
    }
}

fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = ?e, "cartgate stopped with an error");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
