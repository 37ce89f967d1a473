//! The console at `/console/`: the web pages merchants and operators use instead of the admin
//! API, served by the same binary and built on the same operations (`ops`) and access rules
//! (`http/access.rs`) — a page handler resolves its merchant or cart through the signed-in
//! [`Principal`](crate::http::admin::Principal) exactly as an admin handler does.
//!
//! Server-rendered HTML (maud, escaping everything it interpolates) and plain
//! `<form method=post>`: every action works without JavaScript, and there is none. Sessions
//! and CSRF are [`session`]; the look is one embedded stylesheet ([`assets`]).
//!
//! | route | page |
//! |---|---|
//! | `GET /console/` | sign-in (signed in: to the orders) |
//! | `POST /console/sign-in`, `POST /console/sign-out` | [`signin`] |
//! | `GET /console/orders?merchant&status&q&cursor` | [`orders`]: tabs with counts, search, paging |
//! | `GET /console/carts/{c}/orders/{id}`, `POST …/cancel-sending`, `POST …/resend` | [`order`] |
//! | `GET /console/m/{m}/holds`, `POST …/holds/release` | [`merchant`]: Holds |
//! | `GET /console/m/{m}/aliases`, `POST …/aliases`, `…/aliases/remove`, `…/aliases/upload` | [`merchant`]: Aliases |
//! | `GET /console/m/{m}/wms`, `POST /console/m/{m}/wms` | [`wms`]: WMS Setup |
//! | `GET /console/m/{m}/carts`, `POST /console/carts/{c}/test`, `…/connect`, `…/ship-methods` | [`carts`]: Carts |
//! | `GET /console/m/{m}/alerts`, `POST …/alerts/{id}/ack` | [`alerts`]: Alerts, Acknowledge |
//! | `GET /console/m/{m}/tokens`, `POST …/tokens`, `POST …/tokens/{id}/revoke` | [`tokens`]: issue (shown once), revoke |
//! | `GET /console/operator`, `POST /console/operator/redrive` | [`operator`]: merchants, queue, dead letters, Redrive (operator only) |
//! | `GET /console/assets/console.<hash>.css` | [`assets`] |
//!
//! Every answer carries [`security_headers`]: a CSP that allows only this origin's stylesheet
//! (no script at all, no inline style), no framing, no MIME sniffing, no referrer to other
//! origins, and `Cache-Control: no-store` (pages hold a merchant's orders; the stylesheet sets
//! its own long cache).

pub mod alerts;
pub mod assets;
pub mod carts;
pub mod merchant;
pub mod operator;
pub mod order;
pub mod orders;
pub mod page;
pub mod session;
pub mod signin;
pub mod tokens;
pub mod wms;

use actix_web::middleware::DefaultHeaders;
use actix_web::web;

/// The strict Content-Security-Policy of every console answer.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The headers every console answer carries (a handler's own `Cache-Control` wins).
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Cache-Control", "no-store"))
}

/// Registers the console under `/console`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/console")
            .wrap(security_headers())
            .service(signin::bare)
            .service(signin::home)
            .service(signin::sign_in)
            .service(signin::sign_out)
            .service(assets::asset)
            .service(orders::list)
            .service(order::show)
            .service(order::cancel)
            .service(order::resend_now)
            .service(merchant::holds)
            .service(merchant::release)
            .service(merchant::aliases)
            .service(merchant::add_alias)
            .service(merchant::remove_alias)
            .service(merchant::upload)
            .service(wms::show)
            .service(wms::submit)
            .service(alerts::list)
            .service(alerts::ack)
            .service(carts::list)
            .service(carts::test)
            .service(carts::connect)
            .service(carts::map)
            .service(tokens::list)
            .service(tokens::create)
            .service(tokens::revoke)
            .service(operator::show)
            .service(operator::redrive)
            .service(operator::create_merchant),
    );
}
