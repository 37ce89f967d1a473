//! What the console must refuse or neutralise: a script as a customer name, another merchant's
//! order, a form without its CSRF token, a session after sign-out; and the headers and cookie
//! attributes every answer carries.

use anyhow::{bail, ensure};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::browser::Browser;
use crate::world::ConsoleWorld;

const SCRIPT: &str = "<script>alert(1)</script>";

pub async fn script_customer_is_text(b: &Browser, w: &ConsoleWorld) -> anyhow::Result<()> {
    let id = w.store_new_order("acme", 3, SCRIPT).await;
    for page in [format!("/console/carts/acme-tg/orders/{id}"), "/console/orders?status=new".to_owned()] {
        b.goto(w, &page).await?;
        if let Ok(text) = b.client.get_alert_text().await {
            b.client.accept_alert().await?;
            bail!("{page} ran the customer's script: alert {text:?}");
        }
        let text = b.text().await?;
        ensure!(text.contains(SCRIPT), "{page} does not show the name as text:\n{text}");
    }
    Ok(())
}

pub async fn other_merchants_order_is_404(b: &Browser, w: &ConsoleWorld) -> anyhow::Result<()> {
    let id = w.store_new_order("beta", 2, "Beta Customer").await;
    b.goto(w, &format!("/console/carts/beta-tg/orders/{id}")).await?;
    let text = b.text().await?;
    ensure!(text.contains("404") && !text.contains("Beta Customer"), "not a 404 page:\n{text}");
    let cookie = format!("{}={}", cartgate::console::session::COOKIE, b.session_cookie().await?);
    for path in
        [format!("/console/carts/beta-tg/orders/{id}"), "/console/m/beta/holds".into(), "/console/m/beta/wms".into()]
    {
        let resp = w.http.get(format!("{}{path}", w.url)).header(COOKIE, &cookie).send().await?;
        ensure!(resp.status() == 404, "{path} answered {}", resp.status());
    }
    Ok(())
}

pub async fn post_without_csrf_is_refused(b: &Browser, w: &ConsoleWorld) -> anyhow::Result<()> {
    let cookie = format!("{}={}", cartgate::console::session::COOKIE, b.session_cookie().await?);
    let url = format!("{}/console/m/acme/holds/release", w.url);
    for body in ["", "csrf=", "csrf=not-the-token"] {
        let resp = w
            .http
            .post(&url)
            .header(COOKIE, &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        ensure!(resp.status() == 403, "{body:?} answered {}", resp.status());
        ensure!(resp.text().await?.contains("403"), "not a 403 page");
    }
    Ok(())
}

pub async fn headers_and_cookie(_b: &Browser, w: &ConsoleWorld) -> anyhow::Result<()> {
    let resp = w.http.get(format!("{}/console/", w.url)).send().await?;
    let h = resp.headers();
    ensure!(h["content-security-policy"] == cartgate::console::CSP, "CSP: {:?}", h.get("content-security-policy"));
    for (name, want) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
    ] {
        ensure!(h.get(name).is_some_and(|v| v == want), "{name}: {:?}", h.get(name));
    }
    let signed =
        w.http.post(format!("{}/console/sign-in", w.url)).form(&[("token", w.merchant_token.as_str())]).send().await?;
    ensure!(signed.status() == 303, "sign-in answered {}", signed.status());
    let set = signed.headers().get(SET_COOKIE).map(|v| v.to_str().unwrap_or_default().to_owned()).unwrap_or_default();
    for attribute in ["__Host-cartgate=", "HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
        ensure!(set.contains(attribute), "the cookie lacks {attribute}: {set}");
    }
    ensure!(!set.contains("Domain"), "a __Host- cookie has no Domain: {set}");
    // Signing in again from a signed-in browser: a new session id, and the old one is over.
    let first = set.split(';').next().unwrap_or_default().to_owned();
    let again = w
        .http
        .post(format!("{}/console/sign-in", w.url))
        .header(COOKIE, &first)
        .form(&[("token", w.merchant_token.as_str())])
        .send()
        .await?;
    let second = again.headers().get(SET_COOKIE).map(|v| v.to_str().unwrap_or_default().to_owned()).unwrap_or_default();
    ensure!(!second.is_empty() && !second.starts_with(&first), "sign-in kept the session id: {second}");
    let old = w.http.get(format!("{}/console/orders", w.url)).header(COOKIE, &first).send().await?;
    ensure!(old.status() == 303, "the session before sign-in still works: {}", old.status());
    let wrong = w.http.post(format!("{}/console/sign-in", w.url)).form(&[("token", "cgt_wrong")]).send().await?;
    ensure!(wrong.status() == 401 && wrong.headers().get(SET_COOKIE).is_none(), "a wrong token: {}", wrong.status());
    Ok(())
}

pub async fn sign_out_ends_the_session(b: &Browser, w: &ConsoleWorld) -> anyhow::Result<()> {
    let cookie = format!("{}={}", cartgate::console::session::COOKIE, b.session_cookie().await?);
    let orders = format!("{}/console/orders", w.url);
    let before = w.http.get(&orders).header(COOKIE, &cookie).send().await?;
    ensure!(before.status() == 200, "signed in, the orders answer {}", before.status());
    b.goto(w, "/console/orders").await?;
    b.sign_out().await?;
    let after = w.http.get(&orders).header(COOKIE, &cookie).send().await?;
    ensure!(after.status() == 303, "the old cookie still works: {}", after.status());
    ensure!(after.headers().get(LOCATION).is_some_and(|l| l == "/console/"), "not sent to sign-in");
    Ok(())
}
