//! `redis-cli` against one node of a test cluster, in plain text or over TLS.
//!
//! Which ports are TLS nodes is kept here, by port, so every helper of [`super::TestCluster`]
//! (start-up, failover, slot moves) calls `cli(port, …)` the same way for both kinds of
//! cluster. A port is not reused while its node runs: free ports come from the OS.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};

/// The CA file of every TLS node this process runs, by port.
static TLS_NODES: Mutex<Option<HashMap<u16, PathBuf>>> = Mutex::new(None);

fn tls_nodes() -> MutexGuard<'static, Option<HashMap<u16, PathBuf>>> {
    TLS_NODES.lock().unwrap_or_else(|p| p.into_inner())
}

/// From now on, `cli` speaks TLS to `port`, trusting `ca`.
pub(super) fn speaks_tls(port: u16, ca: PathBuf) {
    tls_nodes().get_or_insert_default().insert(port, ca);
}

/// The node on `port` is gone.
pub(super) fn forget(port: u16) {
    if let Some(ports) = tls_nodes().as_mut() {
        ports.remove(&port);
    }
}

/// `--tls --cacert <ca>` when `port` is a TLS node's, else nothing.
pub(super) fn tls_args(port: u16) -> Vec<String> {
    let ca = tls_nodes().as_ref().and_then(|ports| ports.get(&port).cloned());
    ca.map(|ca| vec!["--tls".to_owned(), "--cacert".to_owned(), ca.display().to_string()]).unwrap_or_default()
}

/// `redis-cli -p port args…` (over TLS to a TLS node); an error reply is an error.
pub(super) fn cli(port: u16, args: &[&str]) -> std::io::Result<String> {
    let out = Command::new("redis-cli")
        .args(tls_args(port))
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() || text.starts_with("ERR") || text.starts_with("Could not connect") {
        return Err(std::io::Error::other(format!("redis-cli -p {port} {args:?}: {text}")));
    }
    Ok(text)
}
