//! HTTP routes and the pieces every route shares.

pub mod admin;
pub mod body;
pub mod error;
pub mod health;
pub mod middleware;
pub mod queues;

use actix_web::web;

pub use error::ApiError;

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(admin::config)
        .service(queues::depths)
        .service(queues::dead_letters)
        .service(queues::redrive);
}
