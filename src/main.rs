use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cartgate::cli::Cli::parse();
    cartgate::telemetry::init_with_default(cli.default_log_filter());
    cli.run().await
}
