//! A real SMTP server on a free loopback port, for tests and the demo: the protocol (greeting,
//! EHLO, MAIL, RCPT, DATA with dot-unstuffing, replies) is the `mailin` crate's server session
//! — the engine of `mailin-embedded` — driven over Tokio TCP here; every accepted message is
//! kept as received. No STARTTLS is offered, so `smtp://` clients that upgrade opportunistically
//! speak plain SMTP to it, as they would to a local relay.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use mailin::{Action, AuthMechanism, Handler, Response, SessionBuilder};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One message as the server received it.
#[derive(Debug, Clone, Default)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent after DATA (headers and MIME body).
    pub data: String,
}

impl ReceivedMail {
    /// The message with quoted-printable soft line breaks joined (to search its text; `=XX`
    /// escapes stay as they are).
    pub fn joined(&self) -> String {
        self.data.replace("=\r\n", "")
    }

    /// A header's value (unfolded), by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    v.push_str(line.trim_start_matches(['\t']));
                    continue;
                }
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim_start().to_owned());
            }
        }
        value
    }
}

type Mailbox = Arc<Mutex<Vec<ReceivedMail>>>;

fn lock(mails: &Mailbox) -> MutexGuard<'_, Vec<ReceivedMail>> {
    mails.lock().unwrap_or_else(|p| p.into_inner())
}

/// The one user a server started with [`SmtpServer::start_with_login`] accepts.
#[derive(Clone)]
struct Login {
    user: String,
    password: String,
}

/// The session handler: collects one message per DATA.
struct Collector {
    mails: Mailbox,
    current: Option<ReceivedMail>,
    login: Option<Login>,
    down: Arc<AtomicBool>,
}

impl Collector {
    fn check(&self, user: &str, password: &str) -> Response {
        match &self.login {
            Some(l) if l.user == user && l.password == password => mailin::response::AUTH_OK,
            _ => mailin::response::INVALID_CREDENTIALS,
        }
    }
}

impl Handler for Collector {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, _from: &str) -> Response {
        if self.down.load(Ordering::SeqCst) { mailin::response::INTERNAL_ERROR } else { mailin::response::OK }
    }

    fn auth_plain(&mut self, _authorization_id: &str, authentication_id: &str, password: &str) -> Response {
        self.check(authentication_id, password)
    }

    fn auth_login(&mut self, username: &str, password: &str) -> Response {
        self.check(username, password)
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some(ReceivedMail { from: from.to_owned(), to: to.to_vec(), data: String::new() });
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(mail) = self.current.as_mut() {
            mail.data.push_str(&String::from_utf8_lossy(buf));
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(mail) = self.current.take() {
            lock(&self.mails).push(mail);
        }
        mailin::response::OK
    }
}

/// A running SMTP server; stops when dropped.
pub struct SmtpServer {
    addr: SocketAddr,
    mails: Mailbox,
    down: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl SmtpServer {
    /// Listens on a free loopback port; no login.
    pub async fn start() -> std::io::Result<Self> {
        Self::listen(None).await
    }

    /// Listens on a free loopback port and requires this login (AUTH PLAIN or LOGIN; allowed
    /// without TLS, as on a local relay).
    pub async fn start_with_login(user: &str, password: &str) -> std::io::Result<Self> {
        Self::listen(Some(Login { user: user.to_owned(), password: password.to_owned() })).await
    }

    async fn listen(login: Option<Login>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (mails, down) = (Mailbox::default(), Arc::new(AtomicBool::new(false)));
        let (shared, is_down) = (mails.clone(), down.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let collector =
                    Collector { mails: shared.clone(), current: None, login: login.clone(), down: is_down.clone() };
                tokio::spawn(session(stream, peer.ip(), collector));
            }
        });
        Ok(Self { addr, mails, down, task })
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Down: every MAIL is answered `451` (a transient failure; the sender retries later).
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Every message received so far, oldest first.
    pub fn mails(&self) -> Vec<ReceivedMail> {
        lock(&self.mails).clone()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One SMTP conversation.
async fn session(stream: TcpStream, peer: IpAddr, collector: Collector) {
    let mut builder = SessionBuilder::new("cartgate-testkit");
    if collector.login.is_some() {
        builder.enable_auth(AuthMechanism::Plain).enable_auth(AuthMechanism::Login).insecure_enable_plaintext_auth();
    }
    let mut session = builder.build(peer, collector);
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let reply = |res: Response| res.buffer().unwrap_or_default();
    if write.write_all(&reply(session.greeting())).await.is_err() {
        return;
    }
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        match read.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let res = session.process(&line);
        let action = res.action.clone();
        if !matches!(action, Action::NoReply) && write.write_all(&reply(res)).await.is_err() {
            return;
        }
        if matches!(action, Action::Close | Action::UpgradeTls) {
            return;
        }
    }
}
