use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    cartgate::telemetry::init();
    cartgate::cli::Cli::parse().run().await
}
