//! The live tenant directory: every merchant and cart this replica serves — from the
//! configuration file (read-only) and from the store (set up through the admin API) — as one
//! immutable snapshot, swapped whole when the stored tenants change.
//!
//! Readers (the webhook path above all) take the current `Arc<Directory>` under a read lock
//! held for a pointer copy, then look up in memory: no store read per webhook. A snapshot is
//! only replaced by one built from a newer stored version, so a replica never goes back.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use super::KeyRing;
use super::record;
use crate::ledger::{TenantStore, TenantsAt};
use crate::settings::{CartSettings, MerchantSettings, Settings};
use crate::store::StoreError;

/// Where a merchant was set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Config,
    Store,
}

/// A merchant as the directory knows it.
#[derive(Debug, Clone)]
pub enum Tenant {
    Usable(Arc<MerchantSettings>),
    /// A stored merchant whose secrets no configured key opens (or whose record no longer
    /// parses): shown to the operator, skipped by everything else.
    Unusable {
        reason: String,
        carts: Vec<String>,
    },
}

/// One merchant's entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub source: Source,
    pub tenant: Tenant,
}

type CartEntry = (Arc<MerchantSettings>, Arc<CartSettings>);

/// One consistent view of every merchant and cart.
#[derive(Debug, Default)]
pub struct Directory {
    version: u64,
    merchants: BTreeMap<String, Entry>,
    carts: HashMap<String, CartEntry>,
    /// Cart id → merchant id, unusable merchants' carts included (ids stay taken).
    owners: HashMap<String, String>,
}

impl Directory {
    /// The file's merchants, then the stored ones (opened with `ring`).
    pub fn build(config: &Settings, stored: &TenantsAt, ring: &KeyRing) -> Self {
        let mut dir = Self { version: stored.version, ..Self::default() };
        for m in &config.merchants {
            dir.insert(Source::Config, Tenant::Usable(Arc::new(m.clone())));
        }
        for (id, rec) in &stored.tenants.merchants {
            if dir.merchants.contains_key(id) {
                tracing::warn!(merchant = %id, "a stored merchant has the id of one in the file; the file's wins");
                continue;
            }
            let tenant = match record::open(ring, id, rec) {
                Ok(opened) => match record::parse(id, &opened) {
                    Ok(m) => Tenant::Usable(Arc::new(m)),
                    Err(problems) => unusable(id, rec, format!("stored settings are invalid: {}", joined(&problems))),
                },
                Err(e) => unusable(id, rec, format!("secret {} does not open: {}", e.field, e.error)),
            };
            dir.insert_as(id, Source::Store, tenant);
        }
        dir
    }

    fn insert(&mut self, source: Source, tenant: Tenant) {
        if let Tenant::Usable(m) = &tenant {
            let id = m.id.to_string();
            self.insert_as(&id, source, tenant);
        }
    }

    fn insert_as(&mut self, id: &str, source: Source, tenant: Tenant) {
        match &tenant {
            Tenant::Usable(m) => {
                for c in &m.carts {
                    self.carts.insert(c.id.to_string(), (m.clone(), Arc::new(c.clone())));
                    self.owners.insert(c.id.to_string(), id.to_owned());
                }
            }
            Tenant::Unusable { carts, .. } => {
                for c in carts {
                    self.owners.insert(c.clone(), id.to_owned());
                }
            }
        }
        self.merchants.insert(id.to_owned(), Entry { source, tenant });
    }

    /// The stored version this snapshot was built from.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn entry(&self, merchant: &str) -> Option<&Entry> {
        self.merchants.get(merchant)
    }

    /// Every merchant, by id.
    pub fn entries(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.merchants.iter()
    }

    /// A usable merchant.
    pub fn merchant(&self, id: &str) -> Option<Arc<MerchantSettings>> {
        match &self.merchants.get(id)?.tenant {
            Tenant::Usable(m) => Some(m.clone()),
            Tenant::Unusable { .. } => None,
        }
    }

    /// A usable cart and its merchant.
    pub fn cart(&self, id: &str) -> Option<CartEntry> {
        self.carts.get(id).cloned()
    }

    /// The merchant a cart id belongs to, usable or not.
    pub fn owner_of(&self, cart: &str) -> Option<&str> {
        self.owners.get(cart).map(String::as_str)
    }

    /// Every cart id with its merchant's id, usable or not.
    pub fn cart_owners(&self) -> impl Iterator<Item = (&str, &str)> {
        self.owners.iter().map(|(c, m)| (c.as_str(), m.as_str()))
    }

    /// Every usable merchant.
    pub fn merchants(&self) -> impl Iterator<Item = &Arc<MerchantSettings>> {
        self.merchants.values().filter_map(|e| match &e.tenant {
            Tenant::Usable(m) => Some(m),
            Tenant::Unusable { .. } => None,
        })
    }
}

/// A merchant that cannot run; the log names it and (in `reason`) the key id that is missing
/// or does not open its secret.
fn unusable(id: &str, rec: &serde_json::Value, reason: String) -> Tenant {
    tracing::error!(merchant = %id, %reason, "stored merchant unusable");
    let carts = rec["carts"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_str()).map(str::to_owned);
    Tenant::Unusable { reason, carts: carts.collect() }
}

fn joined(problems: &[crate::settings::ConfigError]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// The directory this replica serves from, and what it is rebuilt from. Cheap to clone.
#[derive(Clone)]
pub struct Tenants {
    inner: Arc<Inner>,
}

struct Inner {
    current: RwLock<Arc<Directory>>,
    config: Arc<Settings>,
    ring: KeyRing,
    store: TenantStore,
}

impl Tenants {
    /// The file's merchants only, until the first [`Tenants::reload`].
    pub fn new(config: Arc<Settings>, ring: KeyRing, store: TenantStore) -> Self {
        let first = Directory::build(&config, &TenantsAt::default(), &ring);
        Self { inner: Arc::new(Inner { current: RwLock::new(Arc::new(first)), config, ring, store }) }
    }

    /// The current snapshot.
    pub fn now(&self) -> Arc<Directory> {
        self.inner.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn merchant(&self, id: &str) -> Option<Arc<MerchantSettings>> {
        self.now().merchant(id)
    }

    pub fn cart(&self, id: &str) -> Option<CartEntry> {
        self.now().cart(id)
    }

    pub fn ring(&self) -> &KeyRing {
        &self.inner.ring
    }

    pub fn store(&self) -> &TenantStore {
        &self.inner.store
    }

    /// Reads the stored version and, only when it is newer than the one served, the tenants,
    /// and rebuilds; returns whether it did.
    pub async fn reload(&self) -> Result<bool, StoreError> {
        if self.inner.store.version().await? <= self.now().version() {
            return Ok(false);
        }
        let stored = self.inner.store.load().await?;
        Ok(self.install(&stored))
    }

    /// Serves from `stored` if it is newer than the current snapshot (a write applied at once,
    /// or a poll that found a change).
    pub fn install(&self, stored: &TenantsAt) -> bool {
        if stored.version <= self.now().version() {
            return false;
        }
        let next = Arc::new(Directory::build(&self.inner.config, stored, &self.inner.ring));
        let mut current = self.inner.current.write().unwrap_or_else(|p| p.into_inner());
        if next.version() <= current.version() {
            return false;
        }
        *current = next;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{MemoryKv, StoredTenants};

    fn settings() -> Arc<Settings> {
        Arc::new(Settings::from_toml("").unwrap())
    }

    #[tokio::test]
    async fn a_snapshot_is_only_replaced_by_a_newer_version() {
        let store = TenantStore::new(Arc::new(MemoryKv::default()));
        let tenants = Tenants::new(settings(), KeyRing::new([]).unwrap(), store.clone());
        let empty = StoredTenants::default();
        let v1 = store.save(&TenantsAt::default(), &empty).await.unwrap().unwrap();
        let read = store.load().await.unwrap();
        let v2 = store.save(&read, &empty).await.unwrap().unwrap();
        assert!(tenants.reload().await.unwrap());
        assert_eq!(tenants.now().version(), v2);
        assert!(!tenants.install(&TenantsAt { version: v1, tenants: empty }), "never back");
        assert!(!tenants.reload().await.unwrap(), "nothing new");
        assert_eq!(tenants.now().version(), v2);
    }
}
