//! Order scenarios: On Hold with its release time, an alias upload releasing an Error order,
//! Cancel Sending To WMS.

use std::time::Duration;

use anyhow::{Context, ensure};
use cartgate::domain::OrderStatus;
use cartgate::sim::seed;
use cartgate::sim::tradegecko::{NewLine, NewOrder};

use crate::browser::Browser;
use crate::world::ConsoleWorld;

fn order_of(lines: Vec<(&str, i64)>) -> NewOrder {
    let lines =
        lines.into_iter().map(|(sku, quantity)| NewLine { sku: Some(sku.into()), quantity, ..Default::default() });
    NewOrder { lines: lines.collect(), ..Default::default() }
}

pub async fn on_hold_with_release_time(b: &Browser, w: &ConsoleWorld) -> anyhow::Result<()> {
    let id = w.world.tg.create_order(order_of(vec![(&seed::sku(2), 5)]))?;
    let held = w.wait_status(id, OrderStatus::OnHold, Duration::from_secs(30)).await?;
    b.sign_in(w, &w.merchant_token).await?;
    b.click(".tabs a[href*='status=on_hold']").await?;
    let text = b.text().await?;
    let release = held.next_attempt_at.context("a held order has a release time")?;
    let local = release.with_timezone(&chrono_tz::America::Los_Angeles).format("%Y-%m-%d 01:00 %Z").to_string();
    ensure!(text.contains(&held.order_number), "the held order is not listed:\n{text}");
    ensure!(text.contains("On Hold"), "no On Hold status word:\n{text}");
    ensure!(text.contains(&local), "no release time {local} in the merchant's time zone:\n{text}");
    b.shot("orders-on-hold").await
}

pub async fn alias_upload_sends_the_error_order(b: &Browser, w: &ConsoleWorld) -> anyhow::Result<()> {
    w.world.tg.add_variant("NO-ALIAS-1", None, "Needs an alias", 10);
    let id = w.world.tg.create_order(order_of(vec![("NO-ALIAS-1", 1), (&seed::sku(1), 1)]))?;
    let stopped = w.wait_status(id, OrderStatus::Error, Duration::from_secs(30)).await?;
    b.goto(w, "/console/orders?status=error").await?;
    let text = b.text().await?;
    ensure!(
        text.contains(&stopped.order_number) && text.contains("NO-ALIAS-1"),
        "the Error order and its reason:\n{text}"
    );
    b.goto(w, "/console/m/acme/aliases").await?;
    let csv = tempfile::Builder::new().suffix(".csv").tempfile()?;
    std::fs::write(csv.path(), format!("sku,barcode\nNO-ALIAS-1,{}\n", seed::barcode(4)))?;
    let path = csv.path().to_str().context("a UTF-8 temp path")?;
    b.client.find(fantoccini::Locator::Css("input[type=file]")).await?.send_keys(path).await?;
    b.click("form[action$='/aliases/upload'] button").await?;
    let text = b.text().await?;
    ensure!(text.contains("Saved 1 aliases"), "the upload is not confirmed:\n{text}");
    ensure!(text.contains("NO-ALIAS-1"), "the alias is not in the table:\n{text}");
    b.shot("aliases").await?;
    b.goto(w, &format!("/console/carts/acme-tg/orders/{id}")).await?;
    b.wait_for_text("At WMS", Duration::from_secs(30)).await?;
    w.wait_status(id, OrderStatus::AtWms, Duration::from_secs(5)).await?;
    b.shot("order-at-wms").await
}

pub async fn cancel_sending_a_new_order(b: &Browser, w: &ConsoleWorld) -> anyhow::Result<()> {
    let id = w.store_new_order("acme", 1, "Ada Lovelace").await;
    b.goto(w, &format!("/console/carts/acme-tg/orders/{id}")).await?;
    ensure!(b.text().await?.contains("New"), "the order is not shown as New");
    ensure!(b.count("form[action$='/resend']").await? == 1, "a New order may be resent (its send made due)");
    b.click("form[action$='/cancel-sending'] button").await?;
    let text = b.text().await?;
    ensure!(text.contains("Cancelled Sending To WMS"), "the page does not show the new status:\n{text}");
    ensure!(b.count("form[action$='/cancel-sending']").await? == 0, "Cancel is still offered");
    ensure!(b.count("form[action$='/resend']").await? == 1, "Resend is still offered");
    w.wait_status(id, OrderStatus::CancelSending, Duration::from_secs(1)).await?;
    b.shot("order-cancelled-sending").await
}
