//! The ledger: orders, aliases, cursors and caches — everything cartgate knows besides the
//! queue. Written once over [`kv::Kv`], which the memory and the Redis store implement; each
//! kind of record has its own small store here, and nothing outside `ledger/` names a key.
//!
//! Every key (relative: the Redis store prefixes `<prefix>:`; spelled in [`keys`]). An order is
//! named `<cart>:<id>` ([`keys::member`]); a document is a hash `v` (version), `d` (JSON).
//! `{m:<merchant>}` is the merchant's hash tag: everything of one merchant is in one Redis
//! Cluster slot, and merchants spread over the shards.
//!
//! | key | type | hash tag | holds | written by |
//! |---|---|---|---|---|
//! | `{m:<merchant>}:order:<cart>:<id>` | document | `{m:<merchant>}` | the [`Order`](crate::domain::Order) | [`OrderLedger`] (import, send, …) |
//! | `{m:<merchant>}:ix:orders` | sorted set | `{m:<merchant>}` | the merchant's orders by creation ms | [`OrderLedger`], with the document |
//! | `{m:<merchant>}:ix:status:<status>` | sorted set | `{m:<merchant>}` | its orders in that status by creation ms | [`OrderLedger`], with the document |
//! | `{m:<merchant>}:ix:finished` | sorted set | `{m:<merchant>}` | its confirmed, canceled and skipped orders by when they finished | [`OrderLedger`], with the document; emptied by retention |
//! | `{m:<merchant>}:map:wms` | hash | `{m:<merchant>}` | WMS order id → order | [`OrderLedger`], with the document |
//! | `{m:<merchant>}:map:trk` | hash | `{m:<merchant>}` | tracking code → order | [`OrderLedger`], with the document |
//! | `{m:<merchant>}:aliases` | hash | `{m:<merchant>}` | SKU → barcode | [`Aliases`] (admin API, CLI import) |
//! | `{m:<merchant>}:awaiting` | hash | `{m:<merchant>}` | order → SKUs it lacks, `\n`-separated | [`Aliases`] (`send_order`, alias upsert) |
//! | `{m:<merchant>}:cursors` | hash | `{m:<merchant>}` | `poll_orders:<cart>` → RFC 3339 (ms) | [`Cursors`] (`poll_orders`) |
//! | `{m:<merchant>}:cursors` | hash | `{m:<merchant>}` | `cart_start:<cart>` → RFC 3339 (ms) where the first download started | [`Cursors`] (`poll_orders`, `import_order`) |
//! | `{m:<merchant>}:cursors` | hash | `{m:<merchant>}` | `wms_products` → RFC 3339 of the last product read | [`ProductCache`] (translation) |
//! | `{m:<merchant>}:wms_products` | hash | `{m:<merchant>}` | WMS barcode → product id | [`ProductCache`] (translation) |
//! | `{m:<merchant>}:cursors` | hash | `{m:<merchant>}` | `holds_released` → ms of the last release of holds by hand | [`HoldReleases`] (`workflows::holds`) |
//! | `{m:<merchant>}:ship_watch` | hash | `{m:<merchant>}` | order → ms last checked (0: never) | [`ShipWatch`] (`poll_shipments`) |
//! | `{m:<merchant>}:inventory:<cart>` | document | `{m:<merchant>}` | the cart's latest [`Snapshot`] | [`Inventory`] (`sync_inventory`) |
//! | `{m:<merchant>}:tokens` | hash | `{m:<merchant>}` | token id → name, creation, SHA-256 of the token | [`MerchantTokens`] (admin API) |
//! | `token_hashes` | hash | — | SHA-256 of a live token → merchant and token id (looked up before the merchant is known) | [`MerchantTokens`] (admin API) |
//! | `{m:<merchant>}:token_used` | hash | `{m:<merchant>}` | token id → ms of its last successful use | [`MerchantTokens`] (each request) |
//! | `{m:<merchant>}:audit` | list | `{m:<merchant>}` | the last 1,000 admin writes, newest first | [`AuditLog`] (`ops::audit`) |
//! | `{m:<merchant>}:ship_seen:<cart>` | hash | `{m:<merchant>}` | `<YYYY-MM-DD>\|<label>` → orders imported that day with that ship method; days past 30 pruned | [`ShipMethodLedger`] (`import_order`) |
//! | `{m:<merchant>}:ship_awaiting:<cart>` | hash | `{m:<merchant>}` | order → the unmapped ship method it waits for | [`ShipMethodLedger`] (`send_order`, ship methods PUT) |
//! | `oauth:{<cart>}` | document | `{<cart>}` | the cart's OAuth connection, tokens sealed | [`OAuthStore`] (callback, refresh) |
//! | `oauth_lease:{<cart>}` | string, expiring | `{<cart>}` | the replica refreshing the cart's token | [`OAuthStore`] (refresh) |
//! | `oauth_state:<sha256>` | string, 10 min | — | a pending Connect's merchant and cart (the callback names no merchant) | [`OAuthStore`] (connect, callback) |
//! | `{m:<merchant>}:cursors` | hash | `{m:<merchant>}` | `webhooks_registered:<cart>` → RFC 3339 (ms) when the cart's webhooks were first registered | [`Cursors`] (`ensure_webhooks`) |
//! | `{m:<merchant>}:alerts` | document | `{m:<merchant>}` | the merchant's open and recently resolved alerts ([`AlertBook`](crate::alerts::book::AlertBook)) | [`AlertStore`] (`alerts::Alerts`: raise, clear, ack) |
//! | `tenants` | document | — | merchants and carts set up through the API, secrets sealed; its version is polled by every replica | [`TenantStore`] (admin API) |
//! | `{sessions}:session:<sha256>`, `{sessions}:ix:expiry` | document, sorted set | `{sessions}` | a console session (by the digest of its id) and the sessions by idle expiry | [`sessions::Sessions`] (the console) |
//! | `ledger_layout` | string | — | `2` (this layout), or `migrating` while `cartgate migrate` runs | [`layout`] (`serve`, `migrate`) |
//!
//! Keys written together share a hash tag (an order and its indexes: `{m:<merchant>}`); every
//! other operation touches one key. Bounded: finished orders go after
//! `ledger.keep_finished_days` ([`retention`]), timelines keep 200 entries, audit logs 1,000,
//! ship methods seen 30 days; the rest grows with merchants, carts, SKUs and orders in flight.
//! The previous layout (every order under `{ledger}`) is moved by [`migrate`].

pub mod alerts;
pub mod aliases;
pub mod audit;
pub mod cursors;
pub mod holds;
pub mod inventory;
pub mod keys;
pub mod kv;
pub mod layout;
pub mod listing;
pub mod migrate;
pub mod oauth;
pub mod orders;
pub mod products;
pub mod redact;
pub mod redis_kv;
pub mod retention;
pub mod sessions;
pub mod ship_methods;
pub mod ship_watch;
pub mod tenants;
pub mod tokens;

use std::sync::Arc;

pub use alerts::AlertStore;
pub use aliases::{Alias, Aliases};
pub use audit::{AuditEntry, AuditLog};
pub use cursors::Cursors;
pub use holds::HoldReleases;
pub use inventory::{Inventory, Snapshot};
pub use kv::{IndexOp, Kv, MemoryKv};
pub use listing::ListCursor;
pub use oauth::{ConnectionStatus, OAuthStore, PendingConnect, StoredConnection};
pub use orders::{ErrorExits, LedgerError, OrderFilter, OrderLedger};
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
    /// Each merchant's alerts.
    pub alerts: AlertStore,
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
            alerts: AlertStore::new(kv.clone()),
            tenants: TenantStore::new(kv.clone()),
            kv,
        }
    }

    /// The same ledger, telling `exits` about every order that leaves `error` (alerts).
    pub fn with_error_exits(self, exits: Arc<dyn ErrorExits>) -> Self {
        Self { orders: self.orders.with_error_exits(exits), ..self }
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
