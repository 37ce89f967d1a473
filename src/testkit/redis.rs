//! A private `redis-server` for tests and benchmarks.
//!
//! Tests never use the machine's Redis on 6379 (a fresh machine has none): each test binary
//! starts its own server on a free loopback port, or uses `CARTGATE_TEST_REDIS_URL` when set.
//! The server is started under a small shell wrapper that kills it when our stdin pipe closes,
//! so it goes away with the test process even when the process is killed.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A running Redis for tests.
pub struct TestRedis {
    url: String,
    port: u16,
    child: Option<Child>,
    appendonly: bool,
    dir: String,
    /// More `redis-server` arguments (the TLS listener of [`super::tls::TlsRedis`]).
    extra: String,
}

impl TestRedis {
    /// Starts `redis-server` on a free port (`appendonly` as given), waiting until it answers.
    pub fn start(appendonly: bool, dir: Option<&std::path::Path>) -> std::io::Result<Self> {
        Self::start_on(free_port()?, appendonly, dir)
    }

    /// [`TestRedis::start`] on a given port (to restart a stopped server where clients expect it).
    pub fn start_on(port: u16, appendonly: bool, dir: Option<&std::path::Path>) -> std::io::Result<Self> {
        Self::spawned(port, appendonly, dir, String::new())
    }

    /// [`TestRedis::start`] with more `redis-server` arguments.
    pub(super) fn start_with(appendonly: bool, dir: Option<&std::path::Path>, extra: &str) -> std::io::Result<Self> {
        Self::spawned(free_port()?, appendonly, dir, extra.to_owned())
    }

    fn spawned(port: u16, appendonly: bool, dir: Option<&std::path::Path>, extra: String) -> std::io::Result<Self> {
        let dir = dir.map(|d| d.display().to_string()).unwrap_or_else(|| std::env::temp_dir().display().to_string());
        let mut me = Self { url: String::new(), port, child: None, appendonly, dir, extra };
        me.spawn()?;
        Ok(me)
    }

    /// Starts the server again on the same port and directory (after [`TestRedis::stop`]);
    /// with `appendonly` it comes back from its AOF.
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.stop();
        self.spawn()
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let (port, dir, extra) = (self.port, self.dir.clone(), self.extra.clone());
        let aof = if self.appendonly { "yes" } else { "no" };
        // The wrapper waits for stdin to close, then stops the server.
        let script = format!(
            "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly {aof} \
             --appendfsync everysec --dir '{dir}' --appendfilename 'cartgate-{port}.aof' \
             --maxmemory-policy noeviction --loglevel warning {extra} & pid=$!; \
             cat >/dev/null; kill $pid 2>/dev/null; wait $pid"
        );
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        self.url = format!("redis://127.0.0.1:{port}/0");
        self.child = Some(child);
        self.wait_ready(Duration::from_secs(10))
    }

    /// The process-wide shared test server (or `CARTGATE_TEST_REDIS_URL`).
    pub fn shared_url() -> String {
        if let Ok(url) = std::env::var("CARTGATE_TEST_REDIS_URL") {
            return url;
        }
        static SHARED: OnceLock<Mutex<TestRedis>> = OnceLock::new();
        let server = SHARED.get_or_init(|| {
            Mutex::new(Self::start(false, None).unwrap_or_else(|e| {
                panic!("cannot start redis-server for tests (is it installed? scripts/test installs it): {e}")
            }))
        });
        server.lock().map(|s| s.url.clone()).unwrap_or_else(|p| p.into_inner().url.clone())
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn wait_ready(&self, within: Duration) -> std::io::Result<()> {
        let started = Instant::now();
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                if s.write_all(b"PING\r\n").is_ok() {
                    let mut buf = [0u8; 16];
                    if let Ok(n) = std::io::Read::read(&mut s, &mut buf)
                        && buf[..n].starts_with(b"+PONG")
                    {
                        return Ok(());
                    }
                }
            }
            if started.elapsed() > within {
                return Err(std::io::Error::other("redis-server did not answer PING in time"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (its data stays in `dir` when `appendonly` was on).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A free loopback port (bound and released; a small race is accepted in tests).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}
