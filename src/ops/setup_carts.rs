//! Setting carts up at runtime: create, replace, patch, delete, show — one record per merchant
//! holds its carts (`ops::setup` explains a write). Cart ids are unique across all merchants,
//! the file's included.

use serde_json::{Value, json};

use super::setup::{Written, check_body, opened, store_record};
use super::{OpError, Ops};
use crate::ledger::StoredTenants;
use crate::settings::ConfigError;
use crate::tenants::{record, view};
use crate::workflows::recurring;

impl Ops {
    /// One cart of merchant `m`.
    pub fn cart_view(&self, m: &str, c: &str) -> Result<Value, OpError> {
        let dir = self.deps().tenants.now();
        let entry = dir.entry(m).ok_or_else(|| OpError::UnknownMerchant(m.to_owned()))?;
        view::cart(m, entry, c).ok_or_else(|| OpError::UnknownCart(c.to_owned()))
    }

    /// Creates or replaces cart `c` of stored merchant `m` from a `[[merchants.carts]]` body
    /// (minus `id`); its recurring jobs are queued and its webhooks registered at once.
    pub async fn put_cart(&self, m: &str, c: &str, body: Value) -> Result<(Written, Value), OpError> {
        self.cart_writable(m, c)?;
        check_body(&body, &["id"], &record::cart_secret_fields())?;
        let ring = self.deps().tenants.ring();
        let written = self
            .transact(|stored| {
                ensure_cart_free(stored, m, c)?;
                let rec = stored.merchants.get(m).ok_or_else(|| OpError::UnknownMerchant(m.to_owned()))?;
                let mut rec = opened(ring, m, rec)?;
                let mut cart = body.clone();
                cart["id"] = json!(c);
                let created = upsert_cart(&mut rec, c, |slot| *slot = cart.clone());
                check_oauth(self.settings(), &rec, c)?;
                store_cart(ring, stored, m, c, rec)?;
                Ok(if created { Written::Created } else { Written::Replaced })
            })
            .await?;
        self.after_write(m, Some(c)).await?;
        Ok((written, self.cart_view(m, c)?))
    }

    /// Applies an RFC 7396 merge patch to cart `c` (a secret left out keeps its value).
    pub async fn patch_cart(&self, m: &str, c: &str, patch: Value) -> Result<Value, OpError> {
        self.cart_writable(m, c)?;
        check_body(&patch, &["id"], &record::cart_secret_fields())?;
        self.edit_cart(m, c, |slot| record::merge_patch(slot, &patch)).await?;
        self.after_write(m, Some(c)).await?;
        self.cart_view(m, c)
    }

    /// Applies `edit` to the JSON of existing stored cart `c` of merchant `m` (secrets opened),
    /// checks the cart with the file's rules and stores it sealed again.
    pub(super) async fn edit_cart(&self, m: &str, c: &str, edit: impl Fn(&mut Value)) -> Result<(), OpError> {
        let ring = self.deps().tenants.ring();
        self.transact(|stored| {
            let rec = stored.merchants.get(m).ok_or_else(|| OpError::UnknownMerchant(m.to_owned()))?;
            let mut rec = opened(ring, m, rec)?;
            if !has_cart(&rec, c) {
                return Err(OpError::UnknownCart(c.to_owned()));
            }
            upsert_cart(&mut rec, c, &edit);
            check_oauth(self.settings(), &rec, c)?;
            store_cart(ring, stored, m, c, rec)
        })
        .await
    }

    /// Deletes cart `c`: its webhooks answer 404 at once (everywhere within a poll), and its
    /// recurring jobs are moved up to run once every replica knows (they then find no cart and
    /// finish for good). Its orders stay in the ledger.
    pub async fn delete_cart(&self, m: &str, c: &str) -> Result<(), OpError> {
        self.cart_writable(m, c)?;
        let jobs = self.deps().tenants.cart(c).map(|(_, cart)| recurring::of_cart(&cart)).unwrap_or_default();
        self.transact(|stored| {
            let rec = stored.merchants.get_mut(m).ok_or_else(|| OpError::UnknownMerchant(m.to_owned()))?;
            let carts = rec["carts"].as_array_mut().ok_or_else(|| OpError::UnknownCart(c.to_owned()))?;
            let before = carts.len();
            carts.retain(|x| x["id"] != c);
            if carts.len() == before {
                return Err(OpError::UnknownCart(c.to_owned()));
            }
            Ok(())
        })
        .await?;
        self.wind_down(jobs).await
    }

    /// A cart the API may write: its merchant is not the file's, and no merchant of the file
    /// has a cart with this id.
    pub(super) fn cart_writable(&self, m: &str, c: &str) -> Result<(), OpError> {
        self.merchant_writable(m)?;
        match self.settings().cart(c) {
            Some((owner, _)) => Err(OpError::CartTaken { cart: c.to_owned(), merchant: owner.id.to_string() }),
            None => Ok(()),
        }
    }
}

/// No other stored merchant has a cart `c`.
fn ensure_cart_free(stored: &StoredTenants, m: &str, c: &str) -> Result<(), OpError> {
    match stored.merchants.iter().find(|(id, rec)| id.as_str() != m && has_cart(rec, c)) {
        Some((owner, _)) => Err(OpError::CartTaken { cart: c.to_owned(), merchant: owner.clone() }),
        None => Ok(()),
    }
}

fn has_cart(rec: &Value, c: &str) -> bool {
    rec["carts"].as_array().is_some_and(|carts| carts.iter().any(|x| x["id"] == c))
}

/// Changes cart `c` of `rec` in place with `edit` (appending it first if new); returns whether
/// it was new.
fn upsert_cart(rec: &mut Value, c: &str, edit: impl FnOnce(&mut Value)) -> bool {
    if !rec["carts"].is_array() {
        rec["carts"] = json!([]);
    }
    let Some(carts) = rec["carts"].as_array_mut() else { return false };
    let created = !carts.iter().any(|x| x["id"] == c);
    if created {
        carts.push(json!({"id": c}));
    }
    if let Some(slot) = carts.iter_mut().find(|x| x["id"] == c) {
        edit(slot);
        slot["id"] = json!(c);
    }
    created
}

/// An `auth = "oauth"` cart needs what the deployment provides (`[apps.tradegecko]`,
/// `server.public_url`); the cart's own problems are reported by [`store_cart`].
fn check_oauth(settings: &crate::settings::Settings, rec: &Value, c: &str) -> Result<(), OpError> {
    let Some(cart) = rec["carts"].as_array().and_then(|carts| carts.iter().find(|x| x["id"] == c)) else {
        return Ok(());
    };
    let Ok(parsed) = record::parse_cart(c, cart) else { return Ok(()) };
    let problems = crate::settings::oauth_problems(settings, &parsed);
    if problems.is_empty() { Ok(()) } else { Err(OpError::InvalidSettings(problems)) }
}

/// [`store_record`] with the problems of cart `c` keyed relative to the cart.
fn store_cart(
    ring: &crate::tenants::KeyRing,
    stored: &mut StoredTenants,
    m: &str,
    c: &str,
    rec: Value,
) -> Result<(), OpError> {
    let index = rec["carts"].as_array().and_then(|carts| carts.iter().position(|x| x["id"] == c)).unwrap_or(0);
    let prefix = format!("carts[{index}].");
    store_record(ring, stored, m, rec).map(|_| ()).map_err(|e| match e {
        OpError::InvalidSettings(problems) => OpError::InvalidSettings(
            problems
                .into_iter()
                .map(|p| {
                    match p
                        .key()
                        .and_then(|k| k.strip_prefix(&prefix).or((k == &prefix[..prefix.len() - 1]).then_some("")))
                    {
                        Some(key) => ConfigError::invalid(key, p.message()),
                        None => p,
                    }
                })
                .collect(),
        ),
        other => other,
    })
}
