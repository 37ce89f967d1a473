//! WMS Setup: the production and test keys (write-only: the page shows "set, ends in …",
//! never a key), the Test Mode switch, the schedule (steps 2 and 3: order delivery, shipping
//! confirmations, inventory), **Test WMS Connection** and **Save**.
//! Test runs the admin API's Test before Save on what the form holds (merged over the saved
//! settings; nothing stored) or, with nothing changed, on the saved key; Save is the admin
//! API's merge patch (a merchant of the configuration file answers that the file manages it).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use maud::html;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::merchant::{Notice, merchant_page, notice};
use super::page::{PageError, Section, csrf_field};
use super::session::Console;
use crate::http::AppState;
use crate::ops::audit::{Write, changed_keys};
use crate::settings::{MerchantSettings, Secret};

#[get("/m/{m}/wms")]
pub async fn show(
    console: Console,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    page(&console, &m, &state, None)
}

fn page(console: &Console, m: &str, state: &AppState, n: Option<Notice>) -> Result<HttpResponse, PageError> {
    let merchant = console.principal.merchant(&state.ops, m)?;
    let s: &MerchantSettings = merchant.settings();
    let schedule = serde_json::to_value(&s.schedule).unwrap_or_default();
    let body = html! {
        h1 { "WMS Setup" }
        (notice(n.as_ref()))
        form.card method="post" action=(format!("/console/m/{m}/wms")) {
            (csrf_field(&console.csrf))
            label for="production_api_key" { "EasyPost production API key — " (shown(s.wms.production_api_key.as_ref())) }
            input #production_api_key type="password" name="production_api_key" autocomplete="off" placeholder="leave empty to keep";
            label for="test_api_key" { "EasyPost test API key — " (shown(s.wms.test_api_key.as_ref())) }
            input #test_api_key type="password" name="test_api_key" autocomplete="off" placeholder="leave empty to keep";
            label.switch for="test_mode" {
                input #test_mode type="checkbox" name="test_mode" value="on" checked[s.wms.test_mode];
                " Test Mode (use the test key)"
            }
            h2 { "Schedule" }
            p.muted { "\"auto\" runs at once; a duration (\"15m\", \"1h\") runs that often." }
            @for (key, label) in SCHEDULE {
                label for=(key) { (label) }
                input id=(key) type="text" name=(key) value=(text(&schedule[key]));
            }
            div.actions {
                button.quiet type="submit" name="action" value="test" { "Test WMS Connection" }
                button type="submit" name="action" value="save" { "Save" }
            }
        }
    };
    // A failed test or save is the answer asked for, not a bad request: 200 with the message.
    Ok(merchant_page(console, m, Section::Wms, "WMS Setup", StatusCode::OK, body))
}

/// The merchant's steps 2 and 3 (`[merchants.schedule]`), as the form names them.
const SCHEDULE: [(&str, &str); 3] = [
    ("order_delivery", "Order delivery to the warehouse"),
    ("shipping_confirmations", "Shipping confirmations from the warehouse"),
    ("inventory", "Inventory from the warehouse"),
];

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// "set, ends in …" or "not set": what the page may say about a key.
fn shown(key: Option<&Secret>) -> String {
    match key.map(Secret::expose).filter(|k| !k.is_empty()) {
        Some(k) => {
            let chars: Vec<char> = k.chars().collect();
            format!("set, ends in {}", chars[chars.len().saturating_sub(4)..].iter().collect::<String>())
        }
        None => "not set".to_owned(),
    }
}

#[derive(Deserialize)]
pub struct WmsForm {
    #[serde(default)]
    production_api_key: String,
    #[serde(default)]
    test_api_key: String,
    #[serde(default)]
    test_mode: Option<String>,
    #[serde(default)]
    action: String,
    order_delivery: Option<String>,
    shipping_confirmations: Option<String>,
    inventory: Option<String>,
}

impl WmsForm {
    /// The changes the form asks for, as the `wms` table of a merge patch.
    fn changes(&self, saved_test_mode: bool) -> Map<String, Value> {
        let mut wms = Map::new();
        for (k, v) in [("production_api_key", &self.production_api_key), ("test_api_key", &self.test_api_key)] {
            if !v.trim().is_empty() {
                wms.insert(k.to_owned(), json!(v.trim()));
            }
        }
        let test_mode = self.test_mode.is_some();
        if test_mode != saved_test_mode {
            wms.insert("test_mode".to_owned(), json!(test_mode));
        }
        wms
    }

    /// The schedule entries the form changes, as the `schedule` table of a merge patch.
    fn schedule_changes(&self, saved: &Value) -> Map<String, Value> {
        let asked = [&self.order_delivery, &self.shipping_confirmations, &self.inventory];
        SCHEDULE
            .iter()
            .zip(asked)
            .filter_map(|((key, _), v)| {
                let v = v.as_deref()?.trim();
                (!v.is_empty() && v != text(&saved[*key])).then(|| ((*key).to_owned(), json!(v)))
            })
            .collect()
    }
}

#[post("/m/{m}/wms")]
pub async fn submit(
    console: Console,
    m: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form: WmsForm = console.form(&body)?;
    let merchant = console.principal.merchant(&state.ops, &m)?;
    let changes = form.changes(merchant.settings().wms.test_mode);
    let schedule = form.schedule_changes(&serde_json::to_value(&merchant.settings().schedule).unwrap_or_default());
    let n = if form.action == "save" {
        if changes.is_empty() && schedule.is_empty() {
            Notice::Good("Nothing to save.".into())
        } else {
            let mut patch = Map::new();
            for (table, entries) in [("wms", &changes), ("schedule", &schedule)] {
                if !entries.is_empty() {
                    patch.insert(table.to_owned(), Value::Object(entries.clone()));
                }
            }
            let patch = Value::Object(patch);
            match state.ops.patch_merchant(&m, patch.clone()).await {
                Ok(_) => {
                    let write =
                        Write::new("merchant.patch", format!("merchant {m}")).changed(changed_keys(&json!({}), &patch));
                    state.ops.audit(&merchant.settings().id, &console.principal.actor(), write).await;
                    Notice::Good("Saved.".into())
                }
                Err(e) => Notice::Bad(format!("Not saved: {e}")),
            }
        }
    } else {
        let check = if changes.is_empty() {
            Ok(merchant.test_wms().await)
        } else {
            state.ops.test_wms_candidate(&m, Value::Object(changes)).await
        };
        match check {
            Ok(c) if c.ok => Notice::Good(format!("{} ({} mode)", c.message, c.mode)),
            Ok(c) => Notice::Bad(format!("{} ({} mode)", c.message, c.mode)),
            Err(e) => Notice::Bad(e.to_string()),
        }
    };
    page(&console, &m, &state, Some(n))
}
