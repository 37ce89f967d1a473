//! Building and running the application: the HTTP server plus the worker pool.
//!
//! `Application::builder(settings).build().await` is the production app; tests add
//! `.store(store)` (a store they built) or `.workflows(|deps| registry)` (handlers of their own).
//! [`ApplicationBuilder::build`] binds the listener first, so tests can bind port 0 and ask for
//! the port before anything runs. On shutdown the workers drain first (readiness is already off),
//! then the HTTP server stops. The tenant directory's poll (`tenants::sync`) runs alongside and
//! stops when shutdown begins.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};

use crate::alerts::{Alerts, NoticeLog, Outbox};
use crate::http::{self, AppState, error};
use crate::ledger::Ledger;
use crate::ledger::redis_kv::RedisKv;
use crate::lifecycle::Readiness;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::store::Store;
use crate::tenants::Tenants;
use crate::upstream::{Limiter, UpstreamClient};
use crate::workers::{PoolConfig, Registry, WorkerPool};
use crate::workflows::{self, Deps, Faults};

/// A built, bound, not yet running cartgate.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    readiness: Readiness,
    store: Store,
    deps: Deps,
    workers: Option<WorkerPool>,
}

/// How an [`Application`] is put together; [`Application::builder`] starts one with the
/// defaults (the store `settings.store` names, every workflow).
pub struct ApplicationBuilder<W = fn(&Deps) -> Registry> {
    settings: Settings,
    store: Option<Store>,
    workflows: W,
    notices: Option<Arc<NoticeLog>>,
}

impl<W: FnOnce(&Deps) -> Registry> ApplicationBuilder<W> {
    /// Runs over this store instead of connecting to `settings.store` (tests inject one).
    pub fn store(self, store: Store) -> Self {
        Self { store: Some(store), ..self }
    }

    /// Job handlers built over the app's own [`Deps`] instead of every workflow (tests wrap a
    /// workflow to stop it at a chosen point, or run handlers of their own).
    pub fn workflows<V: FnOnce(&Deps) -> Registry>(self, workflows: V) -> ApplicationBuilder<V> {
        ApplicationBuilder { settings: self.settings, store: self.store, workflows, notices: self.notices }
    }

    /// Also keeps every alert notice in `log` (tests count them).
    pub fn notice_log(self, log: Arc<NoticeLog>) -> Self {
        Self { notices: Some(log), ..self }
    }

    /// Binds the listener, assembles the server and starts the workers.
    pub async fn build(self) -> anyhow::Result<Application> {
        let store = match self.store {
            Some(store) => store,
            None => Store::connect(&self.settings.store)?,
        };
        let settings = Arc::new(self.settings);
        warn_about_setup(&settings);
        store.warn_about_setup().await;
        check_ledger_layout(&settings, &store).await?;
        let deps = dependencies_with(&settings, &store, self.notices)?;
        if let Err(e) = deps.tenants.reload().await {
            tracing::warn!(error = %e, "cannot read the stored tenants yet; serving the file's until it can");
        }
        let registry = (self.workflows)(&deps).on_burial(workflows::DeadJobs(deps.clone()));
        let readiness = Readiness::default();
        tokio::spawn(crate::tenants::sync::poll_until_stopped(deps.tenants.clone(), readiness.clone()));
        let workers = settings.workers.enabled.then(|| {
            let config = PoolConfig::from_settings(&settings);
            WorkerPool::start(store.jobs().clone(), store.wake(), registry, config, readiness.clone())
        });
        let state = AppState::new(deps.clone(), readiness.clone(), Metrics::install());
        let (addr, server) = serve(state, &store)?;
        tracing::info!(%addr, "listening");
        Ok(Application { addr, server, readiness, store, deps, workers })
    }
}

/// Binds `settings.server.bind` and assembles the HTTP server (not yet polled).
fn serve(state: AppState, store: &Store) -> anyhow::Result<(SocketAddr, Server)> {
    let settings = state.settings.clone();
    let listener = TcpListener::bind(settings.server.bind)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.server.bind))?;
    let addr = listener.local_addr()?;
    let max_body = settings.server.max_body_bytes;
    let store = store.clone();
    let server = HttpServer::new(move || {
        // Runs once per HTTP worker, on its thread: the handlers' queue calls (the webhooks'
        // enqueue above all) go over a connection driven by this worker's own runtime.
        let state = web::Data::new(state.for_this_thread(&store));
        App::new()
            .wrap(from_fn(http::middleware::observe))
            .wrap(Compress::default())
            .app_data(state)
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(web::JsonConfig::default().limit(max_body).error_handler(error::json_error))
            .app_data(web::QueryConfig::default().error_handler(error::query_error))
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            .configure(http::routes)
            .default_service(web::to(error::no_route))
    })
    .disable_signals()
    .shutdown_timeout(settings.workers.drain_secs)
    .listen(listener)?
    .run();
    Ok((addr, server))
}

impl Application {
    /// Starts building: `Application::builder(settings).build().await` is the production app.
    pub fn builder(settings: Settings) -> ApplicationBuilder {
        ApplicationBuilder { settings, store: None, workflows: workflows::registry, notices: None }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that starts the graceful shutdown (what SIGTERM does).
    pub fn readiness(&self) -> Readiness {
        self.readiness.clone()
    }

    /// The store this application uses.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The workflows' dependencies (tests reach the ledger and the fault switches here).
    pub fn deps(&self) -> &Deps {
        &self.deps
    }

    /// Runs until [`Readiness::begin_shutdown`], then drains the workers and stops the server.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let readiness = self.readiness.clone();
        let workers = self.workers;
        let stopper = tokio::spawn(async move {
            readiness.stopped().await;
            tracing::info!("shutting down: readiness off, draining");
            if let Some(workers) = workers {
                workers.stopped().await;
            }
            handle.stop(true).await;
        });
        self.server.await?;
        stopper.abort();
        tracing::info!("stopped");
        Ok(())
    }
}

/// The ledger and the rate limiter live where the queue lives: in Redis, or in this process.
pub fn dependencies(settings: &Arc<Settings>, store: &Store) -> anyhow::Result<Deps> {
    dependencies_with(settings, store, None)
}

fn dependencies_with(settings: &Arc<Settings>, store: &Store, notices: Option<Arc<NoticeLog>>) -> anyhow::Result<Deps> {
    let (ledger, limiter) = match store.redis() {
        Some(conn) => (
            Ledger::new(Arc::new(RedisKv::new(conn.clone(), &settings.store.prefix))),
            Limiter::redis(conn, settings.store.prefix.clone()),
        ),
        None => (Ledger::memory(), Limiter::local()),
    };
    let ring = crate::tenants::ring_for(settings)?;
    let tenants = Tenants::new(settings.clone(), ring, ledger.tenants.clone());
    // Notices go to the outbox: e-mail and Standard Webhooks, delivered by `deliver_alert` jobs.
    let sink = Arc::new(Outbox::new(ledger.kv(), store.jobs().clone(), settings.clone(), tenants.clone()));
    let alerts = Alerts::new(ledger.alerts.clone(), sink);
    let alerts = match notices {
        Some(log) => alerts.with_log(log),
        None => alerts,
    };
    // Every exit of an order from `error` passes the ledger: that is where its alerts clear.
    let ledger = ledger.with_error_exits(Arc::new(alerts.clone()));
    let upstream = UpstreamClient::new(limiter)?.with_shopify_api_version(settings.apps.shopify_api_version());
    let oauth = crate::oauth::Connections::new(
        settings.clone(),
        tenants.clone(),
        ledger.oauth.clone(),
        upstream.clone(),
        alerts.clone(),
    );
    let upstream = upstream.with_tokens(oauth.clone());
    Ok(Deps {
        settings: settings.clone(),
        tenants,
        jobs: store.jobs().clone(),
        ledger,
        upstream,
        oauth,
        alerts,
        faults: Arc::new(Faults::default()),
    })
}

/// Refuses a Redis store whose ledger is in the previous layout (or half migrated): the error
/// is an [`Unmigrated`](crate::ledger::layout::Unmigrated), which `cartgate serve` turns into exit 2. A store that does not answer
/// now is not checked (the replica starts not ready, as with any Redis outage at start-up).
async fn check_ledger_layout(settings: &Settings, store: &Store) -> anyhow::Result<()> {
    let Some(conn) = store.redis() else { return Ok(()) };
    let check = crate::ledger::layout::ensure_current(&conn, &settings.store.prefix);
    match tokio::time::timeout(std::time::Duration::from_secs(3), check).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(unmigrated))) => Err(unmigrated.into()),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot check the ledger layout at start-up");
            Ok(())
        }
        Err(_) => {
            tracing::warn!("redis did not answer at start-up; the ledger layout is not checked");
            Ok(())
        }
    }
}

fn warn_about_setup(settings: &Settings) {
    if settings.is_memory_store() {
        tracing::warn!(
            "store.url is memory://: the embedded store is single-instance only; run exactly one \
             replica and expect pending work to be lost on restart. Use redis:// in production."
        );
    }
    if settings.server.admin_token.is_none() {
        tracing::info!("server.admin_token is not set: the /admin routes are disabled (404)");
    }
}
