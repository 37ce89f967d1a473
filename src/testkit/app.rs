//! cartgate in this process, on a loopback port, for the test kit's users.
//!
//! The one place outside `main` that builds an [`Application`]: the world, the API tests and
//! the intake bench all start cartgate through [`spawn`], so a change to how an application is
//! built is made here once.

use std::sync::Arc;
use std::time::Duration;

use super::world::WorldError;
use crate::alerts::{Notice, NoticeLog};
use crate::domain::MerchantId;
use crate::lifecycle::Readiness;
use crate::settings::Settings;
use crate::startup::{Application, ApplicationBuilder};
use crate::store::Store;
use crate::workers::Registry;
use crate::workflows::Deps;

/// A running in-process cartgate.
pub struct RunningApp {
    port: u16,
    readiness: Readiness,
    store: Store,
    deps: Deps,
    notices: Arc<NoticeLog>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Builds cartgate from `settings` with the job handlers `registry` makes over its [`Deps`]
/// (`crate::workflows::registry` for the real ones) and runs it on the current runtime.
pub async fn spawn(settings: Settings, registry: impl FnOnce(&Deps) -> Registry) -> Result<RunningApp, WorldError> {
    let app = Application::builder(settings).workflows(registry);
    run(app).await
}

/// [`spawn`] over a store the caller built (a memory store on a clock the test moves).
pub async fn spawn_on(
    settings: Settings,
    store: Store,
    registry: impl FnOnce(&Deps) -> Registry,
) -> Result<RunningApp, WorldError> {
    run(Application::builder(settings).store(store).workflows(registry)).await
}

async fn run<W: FnOnce(&Deps) -> Registry>(app: ApplicationBuilder<W>) -> Result<RunningApp, WorldError> {
    let notices = Arc::new(NoticeLog::default());
    let app = app.notice_log(notices.clone()).build().await.map_err(WorldError::Cartgate)?;
    let (port, readiness) = (app.port(), app.readiness());
    let (store, deps) = (app.store().clone(), app.deps().clone());
    let server = tokio::spawn(app.run_until_stopped());
    Ok(RunningApp { port, readiness, store, deps, notices, server })
}

impl RunningApp {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Turns readiness off and starts the graceful shutdown (what SIGTERM does).
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The workflows' dependencies (ledger, queue, fault switches).
    pub fn deps(&self) -> &Deps {
        &self.deps
    }

    /// Every alert notice this cartgate handed to its sink, in order.
    pub fn notices(&self) -> Vec<(MerchantId, Notice)> {
        self.notices.all()
    }

    /// Shuts down gracefully and waits up to `within` for the drain.
    pub async fn stop(self, within: Duration) {
        self.readiness.begin_shutdown();
        if tokio::time::timeout(within, self.server).await.is_err() {
            tracing::warn!("cartgate did not stop within {within:?}");
        }
    }
}
