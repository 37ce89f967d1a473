//! The scripted story, part one: orders from the cart to the warehouse (workflows 1 and 2).
//! Every action goes through a real interface — the TradeGecko and Shopify simulators send the
//! webhooks, the merchant's actions are admin API calls — and every check reads the admin API.
//! A share of the regular orders is placed in the Shopify store beside the TradeGecko cart.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use serde_json::json;

use super::admin::AdminClient;
use super::carts::{Cart, OrderKey};
use super::progress::Progress;
use super::report::{Role, StepOutcome, shorten};
use super::shopify;
use super::watch::Watch;
use super::world::{CART, ITEMS, MERCHANT, UNALIASED_BARCODE_ITEM, UNALIASED_SKU, World};
use crate::domain::OrderStatus;
use crate::sim::seed;
use crate::sim::tradegecko::{NewLine, NewOrder};

/// What the steps share.
pub struct Ctx<'a> {
    pub world: &'a World,
    pub admin: AdminClient,
    pub watch: Watch,
    pub progress: Progress,
    pub timeout: Duration,
    /// Every order the story created, with its part.
    pub roles: BTreeMap<OrderKey, Role>,
    pub steps: Vec<StepOutcome>,
}

impl Ctx<'_> {
    pub fn begin(&self, title: &str) {
        self.progress.step(self.steps.len() + 1, title);
    }

    /// Records a step's result (a failed step does not stop the story).
    pub fn finish(&mut self, title: &str, result: anyhow::Result<()>) {
        let error = result.err().map(|e| format!("{e:#}"));
        if let Some(e) = &error {
            self.progress.fail(e);
        }
        self.steps.push(StepOutcome { title: title.to_owned(), error });
    }

    pub fn ids(&self, role: Role) -> Vec<OrderKey> {
        self.roles.iter().filter(|(_, r)| **r == role).map(|(key, _)| *key).collect()
    }

    pub async fn wait(&mut self, ids: &[OrderKey], want: OrderStatus) -> anyhow::Result<()> {
        self.watch.wait(ids, want, self.timeout).await
    }

    /// A merchant action through the admin API that must answer `expected`.
    pub async fn admin_post(&self, path: &str, expected: u16) -> anyhow::Result<serde_json::Value> {
        self.progress.action(&format!("POST {path}"));
        let answer = self.admin.post(path).await?;
        ensure!(answer.status.as_u16() == expected, "POST {path} answered {}", answer.describe());
        Ok(answer.body)
    }

    fn create(&mut self, lines: Vec<NewLine>, role: Role) -> anyhow::Result<OrderKey> {
        self.create_order(NewOrder { lines, ..Default::default() }, role)
    }

    /// A TradeGecko order, finalized (the simulator sends the webhooks).
    pub(super) fn create_order(&mut self, order: NewOrder, role: Role) -> anyhow::Result<OrderKey> {
        let key = (Cart::TradeGecko, self.world.tg.create_order(order)?);
        self.roles.insert(key, role);
        Ok(key)
    }

    /// A paid Shopify order of the same lines (the simulator sends `orders/create`).
    fn create_in_shop(&mut self, lines: &[NewLine], role: Role) -> anyhow::Result<OrderKey> {
        let lines: Vec<(&str, i64)> =
            lines.iter().map(|l| (l.sku.as_deref().unwrap_or_default(), l.quantity)).collect();
        let key = (Cart::Shopify, shopify::store(self.world)?.order(&lines)?);
        self.roles.insert(key, role);
        Ok(key)
    }
}

pub(super) fn line(sku: &str, quantity: i64) -> NewLine {
    NewLine { sku: Some(sku.into()), quantity, ..Default::default() }
}

/// Regular orders use every item but the scarce one; some have two lines or two units.
fn regular_lines(n: usize) -> Vec<NewLine> {
    let plentiful = ITEMS - 1;
    let mut lines = vec![line(&seed::sku(1 + n % plentiful), 1 + (n % 2) as i64)];
    if n.is_multiple_of(4) {
        lines.push(line(&seed::sku(1 + (n + 2) % plentiful), 1));
    }
    lines
}

/// Every [`SHOP_SHARE`]th regular order (the 2nd, 5th, …) is placed in the Shopify store, the
/// rest in TradeGecko: even `--orders 2` gives each cart an order to cancel.
pub const SHOP_SHARE: usize = 3;

pub async fn finalize_orders(cx: &mut Ctx<'_>, count: usize) -> anyhow::Result<()> {
    let ids = (0..count)
        .map(|n| match n % SHOP_SHARE {
            1 => cx.create_in_shop(&regular_lines(n), Role::Regular),
            _ => cx.create(regular_lines(n), Role::Regular),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let in_shop = ids.iter().filter(|(cart, _)| *cart == Cart::Shopify).count();
    cx.progress.action(&format!(
        "TradeGecko: {} orders finalized (order.create + order.finalized webhooks); \
         Shopify: {in_shop} orders paid (signed orders/create webhooks)",
        count - in_shop
    ));
    cx.wait(&ids, OrderStatus::AtWms).await?;
    let dups = cx.world.ep.duplicate_descriptions();
    ensure!(dups.is_empty(), "duplicate orders at the warehouse: {dups:?}");
    cx.progress
        .ok(&format!("{count} orders at the warehouse, {} orders there, no duplicates", cx.world.ep.orders().len()));
    Ok(())
}

pub async fn unaliased_sku(cx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let id = cx.create(vec![line(UNALIASED_SKU, 1), line(&seed::sku(1), 1)], Role::Unaliased)?;
    cx.progress.action(&format!("TradeGecko: an order with {UNALIASED_SKU}, a variant without UPC or alias"));
    cx.wait(&[id], OrderStatus::Error).await?;
    let reason = cx.watch.get(id).and_then(|o| o.status_reason.clone()).unwrap_or_default();
    ensure!(reason.contains(UNALIASED_SKU), "the error does not name {UNALIASED_SKU}: {reason:?}");
    cx.progress.ok(&format!("stopped in error: {reason}"));

    let barcode = seed::barcode(UNALIASED_BARCODE_ITEM);
    let path = format!("/admin/merchants/{MERCHANT}/aliases");
    cx.progress.action(&format!("PUT {path}  [{{\"sku\":\"{UNALIASED_SKU}\",\"barcode\":\"{barcode}\"}}]"));
    let rows = json!([{"sku": UNALIASED_SKU, "barcode": barcode}]);
    let answer = cx.admin.call(reqwest::Method::PUT, &path, Some(&rows)).await?;
    ensure!(answer.status.is_success(), "PUT {path} answered {}", answer.describe());
    cx.wait(&[id], OrderStatus::AtWms).await?;
    cx.progress.ok(&format!("alias added ({} order(s) requeued); delivered", answer.body["requeued_orders"]));
    Ok(())
}

pub async fn beyond_stock(cx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let scarce = seed::sku(ITEMS);
    let ids = [Role::BeyondStock, Role::BeyondStock, Role::CancelledSending]
        .into_iter()
        .map(|role| cx.create(vec![line(&scarce, 2)], role))
        .collect::<anyhow::Result<Vec<_>>>()?;
    cx.progress.action(&format!("TradeGecko: {} orders of 2 × {scarce}; the warehouse has 1", ids.len()));
    cx.wait(&ids, OrderStatus::OnHold).await?;
    for id in &ids {
        let order = cx.watch.get(*id).context("held order vanished")?;
        let next = order.next_attempt_at.with_context(|| format!("{} shows no release time", order.order_number))?;
        let pacific = next.with_timezone(&chrono_tz::America::Los_Angeles);
        cx.progress.ok(&format!(
            "{} on hold until {} = {} ({})",
            order.order_number,
            next.format("%Y-%m-%d %H:%M UTC"),
            pacific.format("%H:%M %Z America/Los_Angeles"),
            shorten(order.status_reason.as_deref().unwrap_or(""), 60)
        ));
        if pacific.format("%H").to_string() != "01" {
            bail!("{} is held until {pacific}, not the next 01:00 Pacific", order.order_number);
        }
    }
    Ok(())
}

pub async fn cancel_sending(cx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let ids = cx.ids(Role::CancelledSending);
    for (_, id) in &ids {
        cx.admin_post(&format!("/admin/carts/{CART}/orders/{id}/cancel-sending"), 200).await?;
    }
    cx.wait(&ids, OrderStatus::CancelSending).await?;
    cx.progress.ok(&format!("{} will not be sent, whatever stock arrives", cx.watch.describe(&ids)));
    Ok(())
}

pub async fn void_after_sending(cx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let regular: Vec<OrderKey> = cx.ids(Role::Regular).into_iter().filter(|(c, _)| *c == Cart::TradeGecko).collect();
    let id = *regular.get(1).or(regular.first()).context("no regular TradeGecko order to void")?;
    cx.roles.insert(id, Role::Voided);
    cx.world.tg.void_order(id.1)?;
    let number = cx.watch.get(id).map(|o| o.order_number.clone()).unwrap_or_default();
    cx.progress.action(&format!("TradeGecko: {number} voided (TradeGecko sends no webhook for voids)"));
    cx.admin_post(&format!("/admin/carts/{CART}/sync/orders"), 202).await?;
    cx.wait(&[id], OrderStatus::Canceled).await?;
    let wms_id = cx.watch.get(id).and_then(|o| o.wms_order_id.clone()).context("no warehouse order id")?;
    let at_wms = cx.world.ep.order(&wms_id).map(|o| o["status"].clone()).unwrap_or_default();
    ensure!(at_wms == "cancelled", "warehouse order {wms_id} is {at_wms}, not cancelled");
    cx.progress.ok(&format!("the poll saw the void; warehouse order {wms_id} cancelled"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::world::stock_for;
    use super::*;

    /// `--orders N` must not run the warehouse dry: every plentiful item is stocked for what
    /// the regular orders, the unaliased order (one unit of `SKU-0001`) and the two ship method
    /// orders (one unit of `SKU-0002` each) ask of it.
    #[test]
    fn the_world_is_stocked_for_every_regular_order() {
        for orders in [2, 6, 25, 99, 100, 1000, 5000] {
            let mut demand: BTreeMap<String, i64> = BTreeMap::from([(seed::sku(1), 1), (seed::sku(2), 2)]);
            for line in (0..orders).flat_map(regular_lines) {
                *demand.entry(line.sku.unwrap_or_default()).or_default() += line.quantity;
            }
            let most = demand.values().copied().max().unwrap_or(0);
            assert!(most <= stock_for(orders), "{orders} orders ask {most} of one item: {demand:?}");
        }
    }
}
