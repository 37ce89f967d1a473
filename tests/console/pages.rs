//! Merchant pages: a bad CSV line named, Test WMS Connection's plain message, the operator's
//! merchant picker, and the screenshots of the main pages.

use anyhow::{Context, ensure};
use cartgate::sim::easypost::Mode;

use crate::browser::Browser;
use crate::world::{ADMIN, ConsoleWorld};

pub async fn bad_csv_line_is_named(b: &Browser, w: &ConsoleWorld) -> anyhow::Result<()> {
    b.goto(w, "/console/m/acme/aliases").await?;
    let csv = tempfile::Builder::new().suffix(".csv").tempfile()?;
    std::fs::write(csv.path(), "sku,barcode\nGOOD-1,111\nBAD-2,has space\n")?;
    let path = csv.path().to_str().context("a UTF-8 temp path")?;
    b.client.find(fantoccini::Locator::Css("input[type=file]")).await?.send_keys(path).await?;
    b.click("form[action$='/aliases/upload'] button").await?;
    let text = b.text().await?;
    ensure!(text.contains("Nothing was saved") && text.contains("line 3"), "the bad line is not named:\n{text}");
    ensure!(!text.contains("GOOD-1"), "a row of a refused upload was saved:\n{text}");
    b.shot("aliases-bad-line").await
}

pub async fn inactive_key_message(b: &Browser, w: &ConsoleWorld) -> anyhow::Result<()> {
    let key = w.world.ep.key(Mode::Production).context("the merchant's production key")?;
    b.goto(w, "/console/m/acme/wms").await?;
    let text = b.text().await?;
    let last4: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    ensure!(text.contains(&format!("set, ends in {last4}")), "the key is not shown as set:\n{text}");
    ensure!(!b.client.source().await?.contains(&key), "the page holds the key itself");
    w.world.ep.set_key_active(&key, false);
    let tested = async {
        b.click("button[value=test]").await?;
        b.text().await
    }
    .await;
    w.world.ep.set_key_active(&key, true);
    let text = tested?;
    ensure!(text.contains("inactive"), "no plain message about the inactive key:\n{text}");
    b.shot("wms-setup").await
}

pub async fn operator_and_screenshots(b: &Browser, w: &ConsoleWorld) -> anyhow::Result<()> {
    b.sign_in(w, ADMIN).await?;
    let text = b.text().await?;
    ensure!(text.contains("SO-900001"), "the operator sees acme's orders:\n{text}");
    b.client.find(fantoccini::Locator::Css("select[name=merchant]")).await?.select_by_value("beta").await?;
    b.click("form[action='/console/orders'] button").await?;
    let text = b.text().await?;
    ensure!(!text.contains("SO-900001"), "beta's orders list acme's:\n{text}");
    b.goto(w, "/console/orders?merchant=acme").await?;
    b.shot("orders").await?;
    b.goto(w, "/console/m/acme/holds").await?;
    b.shot("holds").await?;
    b.click("nav a[href='/console/operator']").await?;
    let text = b.text().await?;
    ensure!(text.contains("Dead letters") && text.contains("beta"), "the operator page:\n{text}");
    b.shot("operator").await?;
    b.goto(w, "/console/m/acme/alerts").await?;
    b.shot("alerts").await?;
    b.goto(w, "/console/m/acme/carts").await?;
    let text = b.text().await?;
    ensure!(text.contains("Cart acme-tg") && text.contains("token"), "the carts page:\n{text}");
    b.shot("carts").await?;
    b.client.set_window_size(390, 844).await?;
    b.goto(w, "/console/orders?merchant=acme").await?;
    b.shot("orders-phone").await?;
    b.client.set_window_size(1280, 900).await?;
    // Back to the merchant for the scenarios after this one.
    b.sign_in(w, &w.merchant_token).await
}
