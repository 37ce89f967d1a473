//! Test before Save: "Test WMS Connection" and "Test Cart Connection" on candidate settings
//! that are not stored. A candidate is merged (RFC 7396) over the stored settings when the
//! merchant or cart is stored already, so a form can send only what it changed; the merchant
//! or cart need not exist. Candidates are checked with the file's rules first (400).

use serde_json::{Value, json};

use super::setup::{check_body, opened};
use super::{OpError, Ops};
use crate::settings::Mode;
use crate::tenants::record;
use crate::workflows::connection::{self, ConnectionCheck};

impl Ops {
    /// Tests the warehouse settings `wms` for merchant `m` (nothing is stored).
    pub async fn test_wms_candidate(&self, m: &str, wms: Value) -> Result<ConnectionCheck, OpError> {
        check_body(&json!({"wms": wms}), &[], &record::merchant_secret_fields())?;
        let mut base = match self.stored_record(m).await? {
            Some(rec) => rec["wms"].clone(),
            None => json!({}),
        };
        record::merge_patch(&mut base, &wms);
        let merchant = record::parse(m, &json!({"wms": base})).map_err(OpError::InvalidSettings)?;
        Ok(connection::test_wms(self.deps(), &merchant.wms).await)
    }

    /// Tests the cart settings `cart` for cart `c` of merchant `m` (the owner of `c` when not
    /// given; nothing is stored).
    pub async fn test_cart_candidate(&self, m: Option<&str>, c: &str, cart: Value) -> Result<ConnectionCheck, OpError> {
        check_body(&cart, &["id"], &record::cart_secret_fields())?;
        let dir = self.deps().tenants.now();
        let owner = m.map(str::to_owned).or_else(|| dir.owner_of(c).map(str::to_owned));
        let mut base = json!({});
        if let Some(owner) = owner.as_deref()
            && let Some(rec) = self.stored_record(owner).await?
            && let Some(saved) = rec["carts"].as_array().and_then(|cs| cs.iter().find(|x| x["id"] == c))
        {
            base = saved.clone();
        }
        record::merge_patch(&mut base, &cart);
        let cart = record::parse_cart(c, &base).map_err(OpError::InvalidSettings)?;
        let mode = owner.and_then(|o| dir.merchant(&o)).map_or(Mode::Production, |m| m.wms.mode());
        Ok(connection::test_cart(self.deps(), &cart, mode).await)
    }

    /// Merchant `m`'s stored record with its secrets opened, if it is stored.
    async fn stored_record(&self, m: &str) -> Result<Option<Value>, OpError> {
        let stored = self.deps().tenants.store().load().await?;
        match stored.tenants.merchants.get(m) {
            Some(rec) => Ok(Some(opened(self.deps().tenants.ring(), m, rec)?)),
            None => Ok(None),
        }
    }
}
