//! Watching orders through `GET /admin/orders`: every status change is printed as it is
//! seen, and a wait ends when every order of interest is in the wanted status or no more of
//! them get there for a while — naming the orders that did not, never hanging. Both carts'
//! orders are watched, each known by `(cart, id)`.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::bail;

use super::admin::{AdminClient, OrderView};
use super::carts::{Cart, OrderKey};
use super::progress::Progress;
use crate::domain::OrderStatus;

const POLL: Duration = Duration::from_millis(100);

/// The latest view of every order, and what has been printed about it.
pub struct Watch {
    admin: AdminClient,
    progress: Progress,
    latest: BTreeMap<OrderKey, OrderView>,
}

impl Watch {
    pub fn new(admin: AdminClient, progress: Progress) -> Self {
        Self { admin, progress, latest: BTreeMap::new() }
    }

    /// The order as last seen.
    pub fn get(&self, key: OrderKey) -> Option<&OrderView> {
        self.latest.get(&key)
    }

    pub fn status(&self, key: OrderKey) -> Option<OrderStatus> {
        self.get(key).map(|o| o.status)
    }

    /// Reads every order of both carts again, printing the ones that changed status.
    pub async fn refresh(&mut self) -> anyhow::Result<()> {
        for cart in Cart::ALL {
            let mut orders = self.admin.orders(cart.id()).await?;
            orders.sort_by_key(|o| o.cart_order_id);
            for order in orders {
                let key = (cart, order.cart_order_id);
                let before = self.latest.get(&key).map(|o| o.status);
                if before != Some(order.status) {
                    self.progress.order(&change_line(before, &order));
                }
                self.latest.insert(key, order);
            }
        }
        Ok(())
    }

    /// Waits until every order in `ids` is `want`. The wait is on progress, not on the whole
    /// step: it fails only when `patience` passes with no further order getting there, so a
    /// story of a thousand orders takes as long as the rate limits need and a stuck order still
    /// fails in time — naming the orders that did not get there.
    pub async fn wait(&mut self, ids: &[OrderKey], want: OrderStatus, patience: Duration) -> anyhow::Result<()> {
        let mut deadline = tokio::time::Instant::now() + patience;
        let mut fewest = usize::MAX;
        loop {
            self.refresh().await?;
            let pending: Vec<OrderKey> = ids.iter().copied().filter(|id| self.status(*id) != Some(want)).collect();
            if pending.is_empty() {
                return Ok(());
            }
            let now = tokio::time::Instant::now();
            if pending.len() < fewest {
                (fewest, deadline) = (pending.len(), now + patience);
            }
            if now >= deadline {
                bail!("after {} s without progress, not {want}: {}", patience.as_secs(), self.describe(&pending));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// "SO00003 (at_wms), Shopify order 7 (not imported)" for messages.
    pub fn describe(&self, ids: &[OrderKey]) -> String {
        let one = |key: &OrderKey| match self.get(*key) {
            Some(o) => format!("{} ({})", o.order_number, o.status),
            None => format!("{} order {} (not imported)", key.0, key.1),
        };
        let mut text: Vec<String> = ids.iter().take(8).map(one).collect();
        if ids.len() > 8 {
            text.push(format!("… {} more", ids.len() - 8));
        }
        text.join(", ")
    }
}

fn change_line(before: Option<OrderStatus>, o: &OrderView) -> String {
    let from = before.map_or_else(|| "·".to_owned(), |s| s.to_string());
    let mut line = format!("{:<8} {:>14} -> {}", o.order_number, from, o.status);
    let why = matches!(o.status, OrderStatus::Error | OrderStatus::OnHold | OrderStatus::Canceled);
    if let Some(reason) = o.status_reason.as_deref().filter(|_| why) {
        line.push_str(&format!("  ({})", super::report::shorten(reason, 80)));
    }
    line
}
