//! Alerts about one upstream account (`easypost:<merchant>:<mode>`, `tradegecko:<cart>`):
//! `credentials_rejected` (a 401/403) and `upstream_paused` (rate limited for 30 minutes or
//! more), both resolved by the account's next successful call.
//!
//! The upstream core tells every answer ([`CallWatch`]), so neither raising nor clearing may
//! cost a store round trip per call: each process remembers, per account and kind, that an
//! alert is open or that none was, for [`RECHECK`]. Within that, a repeated failure is not
//! written again and a success of a clear account costs nothing; an alert opened or resolved
//! by another replica is seen here within [`RECHECK`].

use std::time::{Duration, Instant};

use super::lifecycle::{Alerts, RECHECK};
use super::model::AlertKind;
use crate::domain::MerchantId;
use crate::store::StoreError;
use crate::upstream::CallWatch;

/// A pause at least this long opens `upstream_paused`.
pub const PAUSE_ALERT: Duration = Duration::from_secs(30 * 60);

/// The kinds an account's success resolves.
const ACCOUNT_KINDS: [AlertKind; 2] = [AlertKind::CredentialsRejected, AlertKind::UpstreamPaused];

pub(super) type AccountKey = (MerchantId, AlertKind, String);

/// What this process knows about one account's alert of one kind, and since when.
#[derive(Clone, Copy)]
pub(super) enum Known {
    Open(Instant),
    Clear(Instant),
}

impl Alerts {
    /// The account answered 401/403.
    pub async fn credentials_rejected(&self, merchant: &MerchantId, account: &str) -> Result<(), StoreError> {
        let summary = format!("{account} rejected cartgate's credentials (401/403): check the key or reconnect");
        self.account_problem(merchant, AlertKind::CredentialsRejected, account, &summary).await
    }

    /// The account is paused by rate limiting for `for_how_long` from now.
    pub async fn paused(&self, merchant: &MerchantId, account: &str, for_how_long: Duration) -> Result<(), StoreError> {
        let minutes = for_how_long.as_secs() / 60;
        let summary = format!("{account} is paused by rate limiting for {minutes} more minutes: work waits");
        self.account_problem(merchant, AlertKind::UpstreamPaused, account, &summary).await
    }

    /// The account answered a call: resolves its open account alerts.
    pub async fn account_ok(&self, merchant: &MerchantId, account: &str) -> Result<(), StoreError> {
        for kind in ACCOUNT_KINDS {
            let look = match self.known(merchant, kind, account) {
                Some(Known::Open(_)) | None => true,
                Some(Known::Clear(at)) => at.elapsed() >= RECHECK,
            };
            if look {
                self.clear(merchant, kind, account, None).await?;
                self.remember(merchant, kind, account, Known::Clear(Instant::now()));
            }
        }
        Ok(())
    }

    /// Kept for callers that name the credentials case.
    pub async fn credentials_accepted(&self, merchant: &MerchantId, account: &str) -> Result<(), StoreError> {
        self.account_ok(merchant, account).await
    }

    async fn account_problem(
        &self,
        merchant: &MerchantId,
        kind: AlertKind,
        account: &str,
        summary: &str,
    ) -> Result<(), StoreError> {
        if matches!(self.known(merchant, kind, account), Some(Known::Open(at)) if at.elapsed() < RECHECK) {
            return Ok(());
        }
        self.raise(merchant, kind, account, summary, None).await?;
        self.remember(merchant, kind, account, Known::Open(Instant::now()));
        Ok(())
    }

    fn known(&self, merchant: &MerchantId, kind: AlertKind, account: &str) -> Option<Known> {
        let accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        accounts.get(&(merchant.clone(), kind, account.to_owned())).copied()
    }

    fn remember(&self, merchant: &MerchantId, kind: AlertKind, account: &str, known: Known) {
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        accounts.insert((merchant.clone(), kind, account.to_owned()), known);
    }
}

#[async_trait::async_trait]
impl CallWatch for Alerts {
    async fn rejected(&self, owner: &MerchantId, account: &str) {
        if let Err(e) = self.credentials_rejected(owner, account).await {
            tracing::warn!(error = %e, account, "cannot raise the credentials alert");
        }
    }

    async fn paused(&self, owner: &MerchantId, account: &str, for_how_long: Duration) {
        if for_how_long < PAUSE_ALERT {
            return;
        }
        if let Err(e) = Alerts::paused(self, owner, account, for_how_long).await {
            tracing::warn!(error = %e, account, "cannot raise the pause alert");
        }
    }

    async fn accepted(&self, owner: &MerchantId, account: &str) {
        if let Err(e) = self.account_ok(owner, account).await {
            tracing::warn!(error = %e, account, "cannot clear the account's alerts");
        }
    }
}
