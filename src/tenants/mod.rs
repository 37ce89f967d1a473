//! Tenants managed at runtime (merchants and carts set up through the admin API): the key ring
//! that seals their secrets at rest ([`seal`]).

pub mod seal;

pub use seal::{KeyError, KeyRing, SealError, Sealed, generate_key};

use crate::settings::TenantSettings;

impl TenantSettings {
    /// The key ring of `tenants.keys` (validated at start-up, so this only fails on settings
    /// built around the validation).
    pub fn key_ring(&self) -> Result<KeyRing, (usize, KeyError)> {
        KeyRing::new(self.keys.iter().map(|k| k.expose()))
    }
}
