//! Handles on one configured merchant or cart, and the actions that need nothing more:
//! releasing holds, Test Connection, and "sync now" for the recurring polls.

use std::sync::Arc;

use super::OpError;
use crate::domain::MerchantId;
use crate::jobs::{CartTask, MerchantTask};
use crate::settings::{CartSettings, MerchantSettings};
use crate::store::{JobId, JobKind, NewJob, OnExisting, When};
use crate::workflows::connection::{self, ConnectionCheck};
use crate::workflows::{Deps, holds};

/// A configured merchant, resolved by [`super::Ops::merchant`].
pub struct MerchantOps<'a> {
    deps: &'a Deps,
    merchant: Arc<MerchantSettings>,
}

/// A configured cart and its merchant, resolved by [`super::Ops::cart`].
pub struct CartOps<'a> {
    deps: &'a Deps,
    merchant: Arc<MerchantSettings>,
    cart: Arc<CartSettings>,
}

impl<'a> MerchantOps<'a> {
    pub(super) fn new(deps: &'a Deps, merchant: Arc<MerchantSettings>) -> Self {
        Self { deps, merchant }
    }

    pub(super) fn deps(&self) -> &'a Deps {
        self.deps
    }

    pub fn settings(&self) -> &MerchantSettings {
        &self.merchant
    }

    /// Sends every held order of the merchant now; returns how many sends that made due.
    pub async fn release_holds(&self) -> Result<u64, OpError> {
        Ok(holds::release(self.deps, &self.merchant).await?)
    }

    /// "Test WMS Connection" with the active key.
    pub async fn test_wms(&self) -> ConnectionCheck {
        connection::test_wms(self.deps, &self.merchant.wms).await
    }

    /// Polls the warehouse for shipments now; returns the job.
    pub async fn sync_shipments(&self) -> Result<JobId, OpError> {
        self.run_now(JobKind::PollShipments).await
    }

    /// Reads the warehouse's inventory now; returns the job.
    pub async fn sync_inventory(&self) -> Result<JobId, OpError> {
        self.run_now(JobKind::SyncInventory).await
    }

    async fn run_now(&self, kind: JobKind) -> Result<JobId, OpError> {
        run_now(self.deps, MerchantTask { merchant: self.merchant.id.clone() }.job(kind)).await
    }
}

impl<'a> CartOps<'a> {
    pub(super) fn new(deps: &'a Deps, merchant: Arc<MerchantSettings>, cart: Arc<CartSettings>) -> Self {
        Self { deps, merchant, cart }
    }

    pub(super) fn deps(&self) -> &'a Deps {
        self.deps
    }

    pub fn settings(&self) -> &CartSettings {
        &self.cart
    }

    /// The merchant the cart belongs to.
    pub fn merchant_id(&self) -> &MerchantId {
        &self.merchant.id
    }

    /// "Test Cart Connection" with the cart's token.
    pub async fn test(&self) -> ConnectionCheck {
        connection::test_cart(self.deps, &self.cart, self.merchant.wms.mode()).await
    }

    /// Starts an OAuth Connect: the authorize URL the merchant's browser goes to. 409 for a
    /// cart with a fixed token.
    pub async fn connect(&self) -> Result<url::Url, OpError> {
        if self.cart.auth != crate::settings::CartAuth::Oauth {
            return Err(OpError::NotOAuth(self.cart.id.to_string()));
        }
        crate::oauth::authorize_url(&self.deps.oauth, self.merchant.id.as_str(), self.cart.id.as_str())
            .await?
            .ok_or_else(|| OpError::NotOAuth(self.cart.id.to_string()))
    }

    /// After a Connect: the webhook registration and the order poll run now rather than at
    /// their parked job's next look (the other parked jobs follow within `PARKED_RECHECK`).
    pub async fn after_connect(&self) -> Result<(), OpError> {
        for kind in [JobKind::EnsureWebhooks, JobKind::PollOrders] {
            run_now(self.deps, CartTask { cart: self.cart.id.clone() }.job(kind)).await?;
        }
        Ok(())
    }

    /// The cart's connection as the admin API shows it: `{"status":"token"}` for a fixed token.
    pub async fn connection(&self) -> Result<serde_json::Value, OpError> {
        if self.cart.auth != crate::settings::CartAuth::Oauth {
            return Ok(serde_json::json!({"status": "token"}));
        }
        let stored = self.deps.oauth.store().load(self.cart.id.as_str()).await?;
        Ok(crate::oauth::connection_view(stored.as_ref().map(|(_, c)| c)))
    }

    /// Polls the cart for orders now; returns the job.
    pub async fn sync_orders(&self) -> Result<JobId, OpError> {
        run_now(self.deps, CartTask { cart: self.cart.id.clone() }.job(JobKind::PollOrders)).await
    }
}

/// Runs a (recurring) job now: a pending occurrence moves up; one in flight runs again after.
async fn run_now(deps: &Deps, job: NewJob) -> Result<JobId, OpError> {
    deps.jobs.enqueue(&job, When::Now, OnExisting::MoveEarlier).await?;
    Ok(job.id)
}
