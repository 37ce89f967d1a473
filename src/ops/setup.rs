//! Setting merchants up at runtime (CartRover's setup guide as an API): create, replace, patch,
//! delete, list, and re-sealing every stored secret under the first key.
//!
//! A write is a compare-and-set on the stored tenant document ([`Ops::transact`]): it reads
//! the document, opens the one record it changes, applies the change, parses the result with
//! the file's own rules (`tenants::record::parse`), seals every secret again and writes — or
//! starts over when another replica wrote first. The new document is then served by this
//! replica at once; every other replica has it within one poll (`tenants::sync`).
//! Merchants and carts of the configuration file are read-only here (`ManagedByConfig`).

use serde_json::{Value, json};

use super::{OpError, Ops};
use crate::jobs::CartTask;
use crate::ledger::{StoredTenants, TenantsAt};
use crate::settings::ConfigError;
use crate::store::{JobKind, NewJob, OnExisting, When};
use crate::tenants::{KeyRing, record, sync, view};
use crate::workers::{Recurring, schedule_recurring};
use crate::workflows::recurring;

/// How many times a write is retried when another replica wrote first.
const WRITE_ATTEMPTS: usize = 8;

/// Whether a PUT created its merchant or cart or replaced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Replaced,
}

impl Ops {
    /// Every merchant, file and store, with its carts.
    pub fn merchants_view(&self) -> Value {
        let dir = self.deps().tenants.now();
        json!({"merchants": dir.entries().map(|(id, e)| view::merchant(id, e)).collect::<Vec<_>>()})
    }

    /// One merchant with its carts.
    pub fn merchant_view(&self, m: &str) -> Result<Value, OpError> {
        let dir = self.deps().tenants.now();
        let entry = dir.entry(m).ok_or_else(|| OpError::UnknownMerchant(m.to_owned()))?;
        Ok(view::merchant(m, entry))
    }

    /// Creates or replaces a stored merchant from a `[[merchants]]` body (minus `id` and
    /// `carts`); its carts are kept.
    pub async fn put_merchant(&self, m: &str, body: Value) -> Result<(Written, Value), OpError> {
        self.merchant_writable(m)?;
        check_body(&body, &["id", "carts"], &record::merchant_secret_fields())?;
        let ring = self.deps().tenants.ring();
        let written = self
            .transact(|stored| {
                let carts = match stored.merchants.get(m) {
                    Some(rec) => opened(ring, m, rec)?["carts"].take(),
                    None => json!([]),
                };
                let mut rec = body.clone();
                rec["carts"] = carts;
                let created = store_record(ring, stored, m, rec)?;
                Ok(if created { Written::Created } else { Written::Replaced })
            })
            .await?;
        self.after_write(m, None).await?;
        Ok((written, self.merchant_view(m)?))
    }

    /// Applies an RFC 7396 merge patch to a stored merchant (a secret left out keeps its value).
    pub async fn patch_merchant(&self, m: &str, patch: Value) -> Result<Value, OpError> {
        self.merchant_writable(m)?;
        check_body(&patch, &["id", "carts"], &record::merchant_secret_fields())?;
        let ring = self.deps().tenants.ring();
        self.transact(|stored| {
            let rec = stored.merchants.get(m).ok_or_else(|| OpError::UnknownMerchant(m.to_owned()))?;
            let mut rec = opened(ring, m, rec)?;
            record::merge_patch(&mut rec, &patch);
            store_record(ring, stored, m, rec).map(|_| ())
        })
        .await?;
        self.after_write(m, None).await?;
        self.merchant_view(m)
    }

    /// Deletes a stored merchant without carts; its recurring jobs wind down as a deleted
    /// cart's do. Its orders stay in the ledger.
    pub async fn delete_merchant(&self, m: &str) -> Result<(), OpError> {
        self.merchant_writable(m)?;
        let jobs = self.deps().tenants.merchant(m).map(|m| recurring::of_merchant(&m)).unwrap_or_default();
        self.transact(|stored| {
            let rec = stored.merchants.get(m).ok_or_else(|| OpError::UnknownMerchant(m.to_owned()))?;
            if rec["carts"].as_array().is_some_and(|c| !c.is_empty()) {
                return Err(OpError::MerchantHasCarts(m.to_owned()));
            }
            stored.merchants.remove(m);
            Ok(())
        })
        .await?;
        self.wind_down(jobs).await
    }

    /// Moves the recurring jobs of a deleted merchant or cart up to run once every replica
    /// knows of the deletion (a few polls from now): they find nothing, finish, and are not
    /// rescheduled — instead of lingering until their next period.
    pub(super) async fn wind_down(&self, jobs: Vec<Recurring>) -> Result<(), OpError> {
        let settle = When::After(sync::POLL * 4);
        for r in jobs {
            let job = NewJob { id: r.id, kind: r.kind, payload: r.payload };
            self.deps().jobs.enqueue(&job, settle, OnExisting::MoveEarlier).await?;
        }
        Ok(())
    }

    /// Re-seals every stored secret under the first key; returns how many were re-sealed. A
    /// merchant whose secrets no key opens is left as it is (and stays unusable).
    pub async fn rekey(&self) -> Result<usize, OpError> {
        let ring = self.deps().tenants.ring();
        self.transact(|stored| {
            let mut count = 0;
            for (id, rec) in stored.merchants.iter_mut() {
                match record::reseal(ring, id, rec) {
                    Ok(n) => count += n,
                    Err(e) => tracing::error!(merchant = %id, field = %e.field, error = %e.error, "cannot re-seal"),
                }
            }
            Ok(count)
        })
        .await
    }

    /// A merchant the API may write: not one of the file's.
    pub(super) fn merchant_writable(&self, m: &str) -> Result<(), OpError> {
        match self.settings().merchant(m) {
            Some(_) => Err(OpError::ManagedByConfig(m.to_owned())),
            None => Ok(()),
        }
    }

    /// Reads the stored tenants, applies `change`, writes them if nobody wrote meanwhile (else
    /// starts over), and serves the result here at once.
    pub(super) async fn transact<T>(
        &self,
        mut change: impl FnMut(&mut StoredTenants) -> Result<T, OpError>,
    ) -> Result<T, OpError> {
        let tenants = &self.deps().tenants;
        for _ in 0..WRITE_ATTEMPTS {
            let read = tenants.store().load().await?;
            let mut next = read.tenants.clone();
            let out = change(&mut next)?;
            if let Ok(version) = tenants.store().save(&read, &next).await? {
                tenants.install(&TenantsAt { version, tenants: next });
                return Ok(out);
            }
        }
        Err(OpError::Contended)
    }

    /// Queues what a written merchant (or one of its carts) should now run: its recurring jobs
    /// (a new one at once), and for a written cart its webhook registration now.
    pub(super) async fn after_write(&self, m: &str, cart: Option<&str>) -> Result<(), OpError> {
        let Some(merchant) = self.deps().tenants.merchant(m) else { return Ok(()) };
        let jobs = self.deps().jobs.as_ref();
        match cart.and_then(|c| merchant.carts.iter().find(|x| x.id.as_str() == c)) {
            Some(cart) => {
                schedule_recurring(jobs, &recurring::of_cart(cart)).await?;
                let ensure = CartTask { cart: cart.id.clone() }.job(JobKind::EnsureWebhooks);
                jobs.enqueue(&ensure, When::Now, OnExisting::MoveEarlier).await?;
            }
            None => schedule_recurring(jobs, &recurring::of_merchant(&merchant)).await?,
        }
        Ok(())
    }
}

/// Parses `rec` as merchant `m` (400 with the file's wording), seals it and puts it in
/// `stored`; returns whether the merchant is new.
pub(super) fn store_record(
    ring: &KeyRing,
    stored: &mut StoredTenants,
    m: &str,
    mut rec: Value,
) -> Result<bool, OpError> {
    record::parse(m, &rec).map_err(OpError::InvalidSettings)?;
    record::seal(ring, m, &mut rec)?;
    Ok(stored.merchants.insert(m.to_owned(), rec).is_none())
}

/// A stored record with its secrets opened; one that does not open cannot be changed in part.
pub(super) fn opened(ring: &KeyRing, m: &str, rec: &Value) -> Result<Value, OpError> {
    record::open(ring, m, rec).map_err(|e| OpError::Unusable(m.to_owned(), e.to_string()))
}

/// A body must be an object, without the keys the path gives (`forbidden`), with literal
/// secrets only.
pub(super) fn check_body(body: &Value, forbidden: &[&str], secrets: &[(&str, &str)]) -> Result<(), OpError> {
    if !body.is_object() {
        return Err(OpError::InvalidSettings(vec![ConfigError::invalid("", "the body must be a JSON object")]));
    }
    let mut problems: Vec<ConfigError> = forbidden
        .iter()
        .filter(|k| body.get(**k).is_some())
        .map(|k| ConfigError::invalid(*k, "is not set in the body: the path names it, or its own route writes it"))
        .collect();
    problems.extend(record::literal_problems(body, secrets));
    if problems.is_empty() { Ok(()) } else { Err(OpError::InvalidSettings(problems)) }
}
