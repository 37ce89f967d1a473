//! HTTP routes and the pieces every route shares.

pub mod access;
pub mod admin;
pub mod alerts;
pub mod body;
pub mod error;
pub mod health;
pub mod merchants;
pub mod middleware;
pub mod oauth;
pub mod orders;
pub mod queues;
pub mod ship_methods;
pub mod shopify;
pub mod slowdown;
pub mod state;
pub mod tenants;
pub mod tokens;
pub mod webhooks;

use actix_web::web;

pub use error::ApiError;
pub use state::AppState;

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(webhooks::tradegecko)
        .service(webhooks::easypost)
        .service(shopify::shopify)
        .service(shopify::shopify_app)
        .service(admin::config)
        .service(queues::depths)
        .service(queues::dead_letters)
        .service(queues::redrive)
        .service(orders::list)
        .service(orders::show)
        .service(orders::cancel_sending)
        .service(orders::resend)
        .service(tenants::list)
        .service(tenants::show)
        .service(tenants::put_merchant)
        .service(tenants::patch_merchant)
        .service(tenants::delete_merchant)
        .service(tenants::show_cart)
        .service(tenants::put_cart)
        .service(tenants::patch_cart)
        .service(tenants::delete_cart)
        .service(tenants::test_new_cart)
        .service(tenants::rekey)
        .service(merchants::release_holds)
        .service(merchants::list_aliases)
        .service(merchants::put_aliases)
        .service(merchants::delete_alias)
        .service(merchants::test_wms)
        .service(merchants::test_cart)
        .service(merchants::sync_orders)
        .service(merchants::sync_shipments)
        .service(merchants::sync_inventory)
        .service(ship_methods::show)
        .service(ship_methods::put)
        .service(tokens::create)
        .service(tokens::list)
        .service(tokens::revoke)
        .service(tokens::audit)
        .service(alerts::list)
        .service(alerts::ack)
        .service(oauth::connect)
        .service(oauth::callback)
        .service(oauth::shopify_callback)
        .configure(crate::console::routes);
}
