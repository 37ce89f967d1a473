//! Operator actions: everything a person can do to orders, merchants, carts and the queue.
//!
//! The admin API (`http/orders.rs`, `http/merchants.rs`, `http/queues.rs`) and the command line
//! (`cli_ops.rs`) both come here, so an action behaves the same wherever it is started; a
//! handler only parses the request, calls one operation and renders the answer.
//!
//! An action first resolves what it acts on — [`Ops::merchant`] or [`Ops::cart`] (unknown →
//! [`OpError::UnknownMerchant`] / [`OpError::UnknownCart`]) — then acts through the handle it
//! got back. Order rules (cancel-sending, resend) are in [`orders`], written over the domain
//! state machine; failures are [`OpError`]s, which `http/error.rs` maps to statuses.
//!
//! Setting merchants and carts up at runtime is [`setup`] (merchants, rekey) and `setup_carts`
//! (carts); Test before Save on candidate settings is `candidates`.

pub mod alerts;
pub mod aliases;
pub mod audit;
mod candidates;
mod error;
pub mod orders;
pub mod queue;
pub mod setup;
mod setup_carts;
pub mod ship_methods;
pub mod tenants;
pub mod tokens;

use crate::settings::Settings;
use crate::workflows::Deps;
use crate::workflows::connection::ConnectionCheck;

pub use error::{OpError, Refusal};
pub use tenants::{CartOps, MerchantOps};

/// The operator actions over one set of workflow dependencies; cheap to clone.
#[derive(Clone)]
pub struct Ops {
    deps: Deps,
}

impl Ops {
    pub fn new(deps: Deps) -> Self {
        Self { deps }
    }

    /// The dependencies the actions run over (the queue among them).
    pub fn deps(&self) -> &Deps {
        &self.deps
    }

    pub fn settings(&self) -> &Settings {
        &self.deps.settings
    }

    /// A configured merchant, to act on.
    pub fn merchant(&self, id: &str) -> Result<MerchantOps<'_>, OpError> {
        let merchant = self.deps.tenants.merchant(id).ok_or_else(|| OpError::UnknownMerchant(id.to_owned()))?;
        Ok(MerchantOps::new(&self.deps, merchant))
    }

    /// A configured cart (and its merchant), to act on.
    pub fn cart(&self, id: &str) -> Result<CartOps<'_>, OpError> {
        let (merchant, cart) = self.deps.tenants.cart(id).ok_or_else(|| OpError::UnknownCart(id.to_owned()))?;
        Ok(CartOps::new(&self.deps, merchant, cart))
    }

    /// Test Connection by id: a merchant's warehouse key, else a cart's token.
    pub async fn test_connection(&self, target: &str) -> Result<ConnectionCheck, OpError> {
        if let Ok(merchant) = self.merchant(target) {
            Ok(merchant.test_wms().await)
        } else if let Ok(cart) = self.cart(target) {
            Ok(cart.test().await)
        } else {
            Err(OpError::UnknownTarget(target.to_owned()))
        }
    }
}
