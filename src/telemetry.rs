//! Logging: human-readable on a terminal, JSON lines otherwise (`CARTGATE_LOG_FORMAT=json|text`
//! overrides); the filter comes from `RUST_LOG` (default `info`; `error` for the demo, which tells its own story).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. A second call (tests) is a no-op.
pub fn init() {
    init_with_default("info");
}

/// [`init`] with another filter for when `RUST_LOG` is not set.
pub fn init_with_default(filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    let json = match std::env::var("CARTGATE_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") | Ok("pretty") => false,
        _ => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ =
        if json { builder.json().flatten_event(true).with_current_span(true).try_init() } else { builder.try_init() };
}
