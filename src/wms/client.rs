//! EasyPost calls, in domain terms. Fulfillment endpoints live under `/fulfillment/vendor/v2/`,
//! the key check under `/v2/`. Response envelopes were seen both bare and wrapped, so both are
//! read.

use std::collections::HashMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::convert;
use super::wire::{Inventory, Order, Product};
use crate::domain::{
    Barcode, Order as CartgateOrder, OrderLine, WarehouseService, WarehouseStock, WmsOrder, WmsProduct,
};
use crate::upstream::{Account, UpstreamError, UpstreamResponse};

const FULFILLMENT: &str = "/fulfillment/vendor/v2";
const PER_PAGE: usize = 100;
/// Bounds every paged read, so a misbehaving upstream cannot keep a job busy forever.
const MAX_PAGES: u32 = 500;

/// One merchant's EasyPost account (the active key).
#[derive(Clone)]
pub struct EasyPost {
    account: Account,
}

/// `{"<root>":[…]}` or a bare array.
fn list<T: DeserializeOwned>(resp: &UpstreamResponse, root: &str) -> Result<Vec<T>, UpstreamError> {
    let value: serde_json::Value = resp.json()?;
    let items = match value {
        serde_json::Value::Array(_) => value,
        mut obj => obj.get_mut(root).map(serde_json::Value::take).unwrap_or(serde_json::Value::Array(vec![])),
    };
    serde_json::from_value(items).map_err(|e| UpstreamError::Invalid { reason: format!("unexpected {root} list: {e}") })
}

/// `{"order":{…}}` or the order itself.
fn order_body(resp: &UpstreamResponse) -> Result<Order, UpstreamError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Body {
        Wrapped { order: Order },
        Bare(Order),
    }
    Ok(match resp.json::<Body>()? {
        Body::Wrapped { order } | Body::Bare(order) => order,
    })
}

impl EasyPost {
    pub fn new(account: Account) -> Self {
        Self { account }
    }

    /// The cheap authenticated call behind "Test WMS Connection".
    pub async fn check_key(&self) -> Result<(), UpstreamError> {
        self.account.get("/v2/trackers").query(&[("page_size", 1)]).send().await.map(|_| ())
    }

    /// Every product that has a barcode (paged).
    pub async fn products(&self) -> Result<Vec<WmsProduct>, UpstreamError> {
        let products = self.all_products().await?;
        Ok(products.into_iter().filter_map(|p| WmsProduct::try_from(p).ok()).collect())
    }

    async fn all_products(&self) -> Result<Vec<Product>, UpstreamError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let q = [("page", page.to_string()), ("per_page", PER_PAGE.to_string())];
            let resp = self.account.get(&format!("{FULFILLMENT}/products")).query(&q).send().await?;
            let batch: Vec<Product> = list(&resp, "products")?;
            let done = batch.len() < PER_PAGE;
            out.extend(batch);
            if done {
                break;
            }
        }
        Ok(out)
    }

    /// Units on hand of every product the warehouse reports inventory rows for, per
    /// warehouse. A product without rows is left out rather than read as 0: no answer is not
    /// "none in stock".
    pub async fn stock_levels(&self) -> Result<WarehouseStock, UpstreamError> {
        let products = self.all_products().await?;
        let barcodes: HashMap<&str, &str> =
            products.iter().filter_map(|p| Some((p.id.as_str(), p.barcode.as_deref()?))).collect();
        let mut levels = WarehouseStock::default();
        let ids: Vec<String> = barcodes.keys().map(|id| (*id).to_owned()).collect();
        for row in self.inventories(&ids).await? {
            let by_id = row.product.id.as_deref().and_then(|id| barcodes.get(id).copied());
            let Some(barcode) = Barcode::parse_opt(by_id.or(row.product.barcode.as_deref())) else { continue };
            let warehouse = row.warehouse.and_then(|w| w.id);
            levels.add(barcode, warehouse, row.quantity.round() as i64);
        }
        Ok(levels)
    }

    /// Inventory rows (one per product per warehouse) for these products. Each batch of ids
    /// is paged too: with several warehouses it has more rows than ids.
    async fn inventories(&self, product_ids: &[String]) -> Result<Vec<Inventory>, UpstreamError> {
        let mut out = Vec::new();
        let per_page = PER_PAGE.to_string();
        for chunk in product_ids.chunks(PER_PAGE) {
            for page in 1..=MAX_PAGES {
                let page = page.to_string();
                let mut q: Vec<(&str, &str)> = chunk.iter().map(|id| ("product_ids[]", id.as_str())).collect();
                q.extend([("includes[]", "product"), ("includes[]", "warehouse")]);
                q.extend([("page", page.as_str()), ("per_page", per_page.as_str())]);
                let resp = self.account.get(&format!("{FULFILLMENT}/inventories")).query(&q).send().await?;
                let batch: Vec<Inventory> = list(&resp, "inventories")?;
                let done = batch.len() < PER_PAGE;
                out.extend(batch);
                if done {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Creates the warehouse order for a cart order (its lines that have a barcode), going out
    /// with `service`; the warehouse's id for it.
    pub async fn create_order(
        &self,
        order: &CartgateOrder,
        lines: &[OrderLine],
        service: &WarehouseService,
    ) -> Result<String, UpstreamError> {
        let new = convert::new_order(order, lines, service);
        let resp = self.account.post_json(&format!("{FULFILLMENT}/orders"), &new).send().await?;
        Ok(order_body(&resp)?.id)
    }

    /// A warehouse order with its parcels.
    pub async fn order(&self, id: &str) -> Result<WmsOrder, UpstreamError> {
        let resp = self.account.get(&format!("{FULFILLMENT}/orders/{id}")).endpoint("/orders/:id").send().await?;
        Ok(order_body(&resp)?.into())
    }

    /// The id of the order created for this cart order number, if one exists (verifying after
    /// an ambiguous send): filtered by `description` server-side where supported and always
    /// checked here.
    pub async fn find_order(&self, description: &str) -> Result<Option<String>, UpstreamError> {
        for page in 1..=MAX_PAGES {
            let q = [
                ("description", description.to_owned()),
                ("page", page.to_string()),
                ("per_page", PER_PAGE.to_string()),
            ];
            let resp = self.account.get(&format!("{FULFILLMENT}/orders")).query(&q).send().await?;
            let batch: Vec<Order> = list(&resp, "orders")?;
            let done = batch.len() < PER_PAGE;
            let found = batch.into_iter().find(|o| o.description.as_deref() == Some(description)).map(|o| o.id);
            if found.is_some() || done {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// Asks the warehouse to cancel an order.
    pub async fn cancel_order(&self, id: &str) -> Result<(), UpstreamError> {
        self.account.delete(&format!("{FULFILLMENT}/orders/{id}")).endpoint("/orders/:id").send().await.map(|_| ())
    }
}
