//! Propagation: every replica polls the stored tenants' version and rebuilds its directory when
//! it changed. A write is also applied to the writing replica's directory at once; every other
//! replica has it within one poll period ([`POLL`]), and a replica that missed anything (a
//! restart, a store outage) converges on the next successful poll — there is no message to miss.

use std::time::Duration;

use super::Tenants;
use crate::lifecycle::Readiness;

/// How often the stored version is read (the API promises a write is live everywhere in 2 s).
pub const POLL: Duration = Duration::from_millis(500);

/// Polls until shutdown begins.
pub async fn poll_until_stopped(tenants: Tenants, readiness: Readiness) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = readiness.stopped() => return,
            _ = tick.tick() => {}
        }
        match tenants.reload().await {
            Ok(true) => tracing::info!(version = tenants.now().version(), "tenant directory reloaded"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the stored tenants; serving the last directory"),
        }
    }
}
