//! Why an operator action did not happen. `http/error.rs` maps each variant to a status; the
//! command line prints the message.

use crate::domain::{IllegalTransition, OrderStatus};
use crate::ledger::LedgerError;
use crate::settings::ConfigError;
use crate::store::StoreError;
use crate::tenants::record::FieldError;
use crate::workflows::aliases::RowError;

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("unknown merchant `{0}`")]
    UnknownMerchant(String),
    #[error("unknown cart `{0}`")]
    UnknownCart(String),
    /// Test Connection named neither a merchant nor a cart.
    #[error("`{0}` is neither a configured merchant nor a cart")]
    UnknownTarget(String),
    #[error("no order {order_id} in cart `{cart}`")]
    NoOrder { cart: String, order_id: u64 },
    /// The order was there when the action began and gone when it wrote.
    #[error("order disappeared")]
    OrderVanished,
    #[error("no alias for SKU `{0}`")]
    NoAlias(String),
    #[error("no token `{0}`")]
    NoToken(String),
    #[error("a token name must be 1 to {max} printable characters")]
    BadTokenName { max: usize },
    /// The order's status does not allow the action.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// An alias upload with a bad row; nothing was applied.
    #[error(transparent)]
    BadAliases(#[from] RowError),
    /// A list or redrive asked for more than one request may.
    #[error("limit must be at most {max}")]
    LimitTooHigh { max: usize },
    #[error("limit must be 1 to {max}")]
    BadLimit { max: usize },
    #[error("no alert `{0}`")]
    NoAlert(String),
    /// Settings written through the API break the configuration's rules; keys are relative to
    /// the merchant or cart written.
    #[error("the settings are invalid")]
    InvalidSettings(Vec<ConfigError>),
    /// The merchant or cart comes from the configuration file, which the API does not write.
    #[error("`{0}` is set up in the configuration file and is read-only here")]
    ManagedByConfig(String),
    #[error("merchant `{0}` still has carts; delete them first")]
    MerchantHasCarts(String),
    #[error("cart id `{cart}` is already used by merchant `{merchant}`")]
    CartTaken { cart: String, merchant: String },
    /// A stored merchant whose secrets do not open cannot be changed in part.
    #[error("merchant `{0}` is unusable: {1}")]
    Unusable(String, String),
    /// A secret could not be sealed (no key configured, most likely).
    #[error("cannot seal a secret: {0}")]
    Seal(#[from] FieldError),
    /// Connect on a cart that authenticates with a fixed token (or a deployment without
    /// `[apps.tradegecko]` / `server.public_url`).
    #[error("cart `{0}` is not an OAuth cart (auth = \"oauth\" with [apps.tradegecko] and server.public_url)")]
    NotOAuth(String),
    /// Writers kept colliding on the tenant document.
    #[error("the tenants were changed concurrently too often; try again")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// An order action the order's state does not allow (the merchant sees the message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the order is being sent to the warehouse right now")]
    SendInProgress,
    #[error("the order is {0} and can no longer be kept from the warehouse")]
    AlreadySent(OrderStatus),
    #[error("the order is {0}: there is nothing to resend")]
    NothingToResend(OrderStatus),
    #[error(
        "the order is skipped by the cart's filters and is never sent; it is looked at again when it changes in the cart"
    )]
    Skipped,
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
}
