//! Tenants: merchants and carts from the configuration file (read-only) and those set up at
//! runtime through the admin API (stored, secrets sealed), served from one live snapshot.
//!
//! - [`seal`] — the key ring sealing stored secrets (AES-256-GCM, tenant + field as AAD).
//! - [`record`] — a stored merchant record: sealing, opening, parsing it like the file.
//! - [`directory`] — the live [`Directory`] snapshot every lookup reads, and the [`Tenants`]
//!   handle that swaps it.
//! - [`sync`] — propagation: the stored version polled by every replica.
//! - [`view`] — a merchant as admin answers show it (secrets as `{"set","last4"}`).

pub mod directory;
pub mod record;
pub mod seal;
pub mod sync;
pub mod view;

pub use directory::{Directory, Entry, Source, Tenant, Tenants};
pub use seal::{KeyError, KeyRing, SealError, Sealed, generate_key};

use crate::settings::{Settings, TenantSettings};

impl TenantSettings {
    /// The key ring of `tenants.keys` (validated at start-up, so this only fails on settings
    /// built around the validation).
    pub fn key_ring(&self) -> Result<KeyRing, (usize, KeyError)> {
        KeyRing::new(self.keys.iter().map(|k| k.expose()))
    }
}

/// The ring tenants are sealed with. `memory://` with no key configured gets a key of its own
/// for this process (what it stores dies with the process anyway); Redis without a key has an
/// empty ring, so writing a secret through the API is refused until one is configured.
pub fn ring_for(settings: &Settings) -> anyhow::Result<KeyRing> {
    let ring = settings.tenants.key_ring().map_err(|(i, e)| anyhow::anyhow!("tenants.keys[{i}]: {e}"))?;
    if ring.sealing_key_id().is_none() && settings.is_memory_store() {
        let key = generate_key();
        return KeyRing::new([secrecy::ExposeSecret::expose_secret(&key)])
            .map_err(|(_, e)| anyhow::anyhow!("generated key: {e}"));
    }
    Ok(ring)
}
