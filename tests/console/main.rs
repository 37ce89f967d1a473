//! The console in a real browser: ONE chromedriver and ONE headless Chromium (Debian's
//! `chromium` and `chromium-driver`, installed by `scripts/test`) drive the real cartgate, with
//! both simulators and the test Redis, through every page flow the issue names.
//!
//! One browser and one world serve the whole binary, so the scenarios run one after another
//! inside one test; each scenario reports on its own, and the browser and its driver are shut
//! down before the verdict, whatever happened. If Chromium cannot start, the test fails — it
//! never skips. Screenshots land in `target/console-shots/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod orders;
mod pages;
mod safety;
mod world;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use futures::FutureExt;

use crate::browser::Browser;
use crate::world::ConsoleWorld;

type Scenario = for<'a> fn(&'a Browser, &'a ConsoleWorld) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>>;

/// Every scenario, in the order they run (the sign-in first; sign-out last).
const SCENARIOS: &[(&str, Scenario)] = &[
    ("a merchant signs in and sees an order On Hold with its release time", |b, w| {
        Box::pin(orders::on_hold_with_release_time(b, w))
    }),
    ("an alias CSV upload turns an Error order into At WMS", |b, w| {
        Box::pin(orders::alias_upload_sends_the_error_order(b, w))
    }),
    ("a bad CSV line is named and nothing is saved", |b, w| Box::pin(pages::bad_csv_line_is_named(b, w))),
    ("Cancel Sending To WMS on a New order", |b, w| Box::pin(orders::cancel_sending_a_new_order(b, w))),
    ("Test WMS Connection with an inactive key shows the plain message", |b, w| {
        Box::pin(pages::inactive_key_message(b, w))
    }),
    ("an order whose customer is a script renders as text", |b, w| Box::pin(safety::script_customer_is_text(b, w))),
    ("another merchant's order URL is a 404 page", |b, w| Box::pin(safety::other_merchants_order_is_404(b, w))),
    ("a form posted without the CSRF token is refused", |b, w| Box::pin(safety::post_without_csrf_is_refused(b, w))),
    ("every answer carries the security headers and the cookie its attributes", |b, w| {
        Box::pin(safety::headers_and_cookie(b, w))
    }),
    ("the operator picks a merchant; screenshots of the main pages", |b, w| {
        Box::pin(pages::operator_and_screenshots(b, w))
    }),
    ("sign-out ends the session everywhere", |b, w| Box::pin(safety::sign_out_ends_the_session(b, w))),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_works_in_a_real_browser() {
    let world = ConsoleWorld::start().await;
    let browser = Browser::start().await.unwrap_or_else(|e| panic!("headless Chromium did not start: {e:#}"));
    let mut failed = Vec::new();
    for (name, scenario) in SCENARIOS {
        let outcome = AssertUnwindSafe(scenario(&browser, &world)).catch_unwind().await;
        match outcome {
            Ok(Ok(())) => eprintln!("console: ok: {name}"),
            Ok(Err(e)) => failed.push(format!("{name}: {e:#}")),
            Err(_) => failed.push(format!("{name}: panicked (see above)")),
        }
    }
    browser.stop().await;
    world.stop().await;
    assert!(failed.is_empty(), "{} of {} scenarios failed:\n{}", failed.len(), SCENARIOS.len(), failed.join("\n"));
}
