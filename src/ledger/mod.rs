//! The ledger: orders, aliases, cursors and caches — everything cartgate knows besides the
//! queue. Written once over [`kv::Kv`], which the memory and the Redis store implement; each
//! kind of record has its own small store here, and nothing outside `ledger/` names a key.
//!
//! Every key (relative: the Redis store prefixes `<prefix>:`; spelled in [`keys`]). An order is
//! named `<cart>:<id>` ([`keys::member`]); a document is a hash `v` (version), `d` (JSON).
//!
//! | key | type | hash tag | holds | written by |
//! |---|---|---|---|---|
//! | `{ledger}:order:<cart>:<id>` | document | `{ledger}` | the [`Order`](crate::domain::Order) | [`OrderLedger`] (import, send, …) |
//! | `{ledger}:ix:orders` | sorted set | `{ledger}` | orders by creation ms | [`OrderLedger`], with the document |
//! | `{ledger}:ix:status:<status>` | sorted set | `{ledger}` | orders in that status by creation ms | [`OrderLedger`], with the document |
//! | `{ledger}:map:wms:<merchant>` | hash | `{ledger}` | WMS order id → order | [`OrderLedger`], with the document |
//! | `{ledger}:map:trk:<merchant>` | hash | `{ledger}` | tracking code → order | [`OrderLedger`], with the document |
//! | `aliases:<merchant>` | hash | — | SKU → barcode | [`Aliases`] (admin API, CLI import) |
//! | `awaiting:<merchant>` | hash | — | order → SKUs it lacks, `\n`-separated | [`Aliases`] (`send_order`, alias upsert) |
//! | `cursors` | hash | — | `poll_orders:<cart>` → RFC 3339 (ms) | [`Cursors`] (`poll_orders`) |
//! | `cursors` | hash | — | `cart_start:<cart>` → RFC 3339 (ms) where the first download started | [`Cursors`] (`poll_orders`, `import_order`) |
//! | `cursors` | hash | — | `wms_products:<merchant>` → RFC 3339 of the last product read | [`ProductCache`] (translation) |
//! | `wms_products:<merchant>` | hash | — | WMS barcode → product id | [`ProductCache`] (translation) |
//! | `holds_released` | hash | — | merchant → ms of the last release by hand | [`HoldReleases`] (`workflows::holds`) |
//! | `ship_watch:<merchant>` | hash | — | order → ms last checked (0: never) | [`ShipWatch`] (`poll_shipments`) |
//! | `inventory:{<cart>}` | document | `{<cart>}` | the latest [`Snapshot`] | [`Inventory`] (`sync_inventory`) |
//! | `tokens:<merchant>` | hash | — | token id → name, creation, SHA-256 of the token | [`MerchantTokens`] (admin API) |
//! | `token_hashes` | hash | — | SHA-256 of a live token → merchant and token id | [`MerchantTokens`] (admin API) |
//! | `token_used:<merchant>` | hash | — | token id → ms of its last successful use | [`MerchantTokens`] (each request) |
//! | `audit:<merchant>` | list | — | the last 1,000 admin writes, newest first | [`AuditLog`] (`ops::audit`) |
//! | `ship_seen:<cart>` | hash | — | `<YYYY-MM-DD>\|<label>` → orders imported that day with that ship method; days past 30 pruned | [`ShipMethodLedger`] (`import_order`) |
//! | `ship_awaiting:<cart>` | hash | — | order → the unmapped ship method it waits for | [`ShipMethodLedger`] (`send_order`, ship methods PUT) |
//! | `oauth:{<cart>}` | document | `{<cart>}` | the cart's OAuth connection, tokens sealed | [`OAuthStore`] (callback, refresh) |
//! | `oauth_lease:{<cart>}` | string, expiring | `{<cart>}` | the replica refreshing the cart's token | [`OAuthStore`] (refresh) |
//! | `oauth_state:<sha256>` | string, 10 min | — | a pending Connect's merchant and cart | [`OAuthStore`] (connect, callback) |
//! | `tenants` | document | — | merchants and carts set up through the API, secrets sealed; its version is polled by every replica | [`TenantStore`] (admin API) |
//!
//! Keys written together share a hash tag (an order and its indexes: `{ledger}`); every other
//! operation touches one key, so the ledger already runs on Redis Cluster, with all orders in
//! one slot. Spreading the ledger over the shards (a tag per merchant) changes [`keys`] and
//! needs a migration of the stored keys; no caller changes.

pub mod aliases;
pub mod audit;
pub mod cursors;
pub mod holds;
pub mod inventory;
pub mod keys;
pub mod kv;
pub mod oauth;
pub mod orders;
pub mod products;
pub mod redis_kv;
pub mod ship_methods;
pub mod ship_watch;
pub mod tenants;
pub mod tokens;

use std::sync::Arc;

pub use aliases::{Alias, Aliases};
pub use audit::{AuditEntry, AuditLog};
pub use cursors::Cursors;
pub use holds::HoldReleases;
pub use inventory::{Inventory, Snapshot};
pub use kv::{IndexOp, Kv, MemoryKv};
pub use oauth::{ConnectionStatus, OAuthStore, PendingConnect, StoredConnection};
pub use orders::{LedgerError, OrderFilter, OrderLedger};
pub use products::ProductCache;
pub use ship_methods::{SeenMethod, ShipMethodLedger};
pub use ship_watch::ShipWatch;
pub use tenants::{StoredTenants, TenantStore, TenantsAt};
pub use tokens::{ListedToken, MerchantTokens, TokenOwner, TokenRecord};

/// Everything persistent besides the queue, one store per kind of record.
#[derive(Clone)]
pub struct Ledger {
    pub orders: OrderLedger,
    pub aliases: Aliases,
    /// Where each cart's order poll has read up to.
    pub cursors: Cursors,
    /// The barcodes each merchant's warehouse knows.
    pub products: ProductCache,
    /// The orders `poll_shipments` still looks at.
    pub ship_watch: ShipWatch,
    /// The latest inventory snapshot per cart.
    pub inventory: Inventory,
    /// When each merchant's holds were last released by hand.
    pub holds: HoldReleases,
    /// Merchant API tokens (by digest).
    pub tokens: MerchantTokens,
    /// Each merchant's audit log.
    pub audit: AuditLog,
    /// The merchants and carts set up through the admin API.
    pub tenants: TenantStore,
    /// Ship methods seen per cart, and the orders waiting for a mapping.
    pub ship_methods: ShipMethodLedger,
    /// The OAuth connections of `auth = "oauth"` carts.
    pub oauth: OAuthStore,
    /// The store under all of these, for state kept beside the ledger (the alert outbox).
    kv: Arc<dyn Kv>,
}

impl Ledger {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self {
            orders: OrderLedger::new(kv.clone()),
            aliases: Aliases::new(kv.clone()),
            cursors: Cursors::new(kv.clone()),
            products: ProductCache::new(kv.clone()),
            ship_watch: ShipWatch::new(kv.clone()),
            inventory: Inventory::new(kv.clone()),
            holds: HoldReleases::new(kv.clone()),
            tokens: MerchantTokens::new(kv.clone()),
            audit: AuditLog::new(kv.clone()),
            ship_methods: ShipMethodLedger::new(kv.clone()),
            oauth: OAuthStore::new(kv.clone()),
            tenants: TenantStore::new(kv.clone()),
            kv,
        }
    }

    /// The store the ledger is written to (the alert outbox keeps its keys there too).
    pub fn kv(&self) -> Arc<dyn Kv> {
        self.kv.clone()
    }

    /// The embedded ledger (`memory://`).
    pub fn memory() -> Self {
        Self::new(Arc::new(MemoryKv::default()))
    }
}
