//! A real HTTP webhook receiver on a free loopback port, for tests and the demo: it records
//! every request (headers and raw body) and answers 204 — or, switched [`ReceiverMode::Down`],
//! 503 like a receiver behind a load balancer with no healthy backend. Both kinds of answer are
//! recorded, so a test sees every attempt and what each one carried.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bytes::Bytes;

/// One request as received.
#[derive(Debug, Clone)]
pub struct ReceivedHook {
    /// Header names lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Whether the receiver accepted it (204) or was down (503).
    pub accepted: bool,
}

impl ReceivedHook {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiverMode {
    Up,
    Down,
}

#[derive(Default)]
struct State {
    down: AtomicBool,
    hooks: Mutex<Vec<ReceivedHook>>,
}

/// A running receiver; stops when dropped.
pub struct WebhookReceiver {
    url: String,
    state: Arc<State>,
    handle: ServerHandle,
}

async fn receive(state: web::Data<State>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let accepted = !state.down.load(Ordering::SeqCst);
    state.hooks.lock().unwrap_or_else(|p| p.into_inner()).push(ReceivedHook { headers, body, accepted });
    if accepted { HttpResponse::NoContent().finish() } else { HttpResponse::ServiceUnavailable().finish() }
}

impl WebhookReceiver {
    /// Listens on a free loopback port; requests to any path are received.
    pub fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}/hooks/cartgate", listener.local_addr()?);
        let state = Arc::new(State::default());
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(receive)))
            .workers(1)
            .disable_signals()
            .shutdown_timeout(1)
            .listen(listener)?
            .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self { url, state, handle })
    }

    /// Where to post (`http://127.0.0.1:<port>/hooks/cartgate`).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn set_mode(&self, mode: ReceiverMode) {
        self.state.down.store(mode == ReceiverMode::Down, Ordering::SeqCst);
    }

    /// Every request so far, oldest first (accepted or not).
    pub fn hooks(&self) -> Vec<ReceivedHook> {
        self.state.hooks.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The requests it accepted.
    pub fn accepted(&self) -> Vec<ReceivedHook> {
        self.hooks().into_iter().filter(|h| h.accepted).collect()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        drop(tokio::spawn(async move { handle.stop(false).await }));
    }
}
