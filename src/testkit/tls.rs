//! A private `redis-server` that speaks TLS, for the `rediss://` tests, and the certificates
//! every TLS test server uses (the TLS option of [`super::TestCluster`] too).
//!
//! Certificates are made by the `openssl` command-line tool (no crypto written here): a
//! throw-away certificate authority, and a server certificate it signs for `127.0.0.1` and
//! `localhost`. The IP address matters: a cluster client reaches the nodes at the `ip:port`
//! that `CLUSTER SLOTS` gives, and rustls checks that IP against the certificate's names. A
//! cluster's nodes share the one server certificate, also as their client certificate on the
//! cluster bus and replication links (Redis checks that it chains to the CA, not its names). The
//! standalone server also listens in plain text on a second port, only so readiness can be
//! checked with a `PING`; clients are pointed at the TLS port.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{TestRedis, free_port};

/// The names the server certificate holds by default (`subjectAltName`).
pub const LOOPBACK_NAMES: &str = "IP:127.0.0.1,DNS:localhost";

/// A CA, a server certificate it signed, and a second CA that signed nothing, in a directory.
pub struct Certificates {
    dir: PathBuf,
}

impl Certificates {
    /// Makes them in `dir` (which must exist), the server certificate naming `names` (as
    /// [`LOOPBACK_NAMES`]); `Err` when `openssl` is missing or refuses.
    pub fn make(dir: &Path, names: &str) -> std::io::Result<Self> {
        make_certificates(dir, names)?;
        Ok(Self { dir: dir.to_owned() })
    }

    /// The CA that signed the server's certificate (`store.tls_ca_file`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A CA that signed nothing a server presents: trusting only it must fail.
    pub fn other_ca_file(&self) -> PathBuf {
        self.dir.join("other-ca.pem")
    }

    /// `redis-server` arguments for TLS with these certificates; clients need no certificate.
    pub fn server_args(&self) -> String {
        let p = |f: &str| self.dir.join(f).display().to_string();
        format!(
            "--tls-cert-file '{}' --tls-key-file '{}' --tls-ca-cert-file '{}' --tls-auth-clients no",
            p("server.pem"),
            p("server.key"),
            p("ca.pem")
        )
    }
}

/// A TLS Redis, its CA file, and a second CA that did not sign its certificate.
pub struct TlsRedis {
    /// The plain-text side (readiness, and proof that TLS is what the clients used).
    pub plain: TestRedis,
    tls_port: u16,
    /// The certificates, removed on drop.
    certs: Certificates,
}

impl TlsRedis {
    /// Makes the certificates and starts the server; `Err` when `openssl` or `redis-server`
    /// is missing or refuses (scripts/test installs both).
    pub fn start() -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("cartgate-tls-{}", super::unique_prefix()));
        std::fs::create_dir_all(&dir)?;
        let certs = Certificates::make(&dir, LOOPBACK_NAMES)?;
        let tls_port = free_port()?;
        let plain = TestRedis::start_with(false, None, &format!("--tls-port {tls_port} {}", certs.server_args()))?;
        Ok(Self { plain, tls_port, certs })
    }

    /// `rediss://127.0.0.1:<tls port>/0`.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}/0", self.tls_port)
    }

    /// The CA that signed the server's certificate (`store.tls_ca_file`).
    pub fn ca_file(&self) -> PathBuf {
        self.certs.ca_file()
    }

    /// A CA that signed nothing this server presents: trusting only it must fail.
    pub fn other_ca_file(&self) -> PathBuf {
        self.certs.other_ca_file()
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        self.plain.stop();
        let _ = std::fs::remove_dir_all(&self.certs.dir);
    }
}

/// `ca.pem`/`ca.key`, `server.pem`/`server.key` signed by it, and an unrelated `other-ca.pem`.
fn make_certificates(dir: &Path, names: &str) -> std::io::Result<()> {
    let ca = |name: &str| -> std::io::Result<()> {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=cartgate test {name}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
            ],
        )
    };
    ca("ca")?;
    ca("other-ca")?;
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    )?;
    std::fs::write(dir.join("san.ext"), format!("subjectAltName={names}\n"))?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.pem",
        ],
    )
}

fn openssl(dir: &Path, args: &[&str]) -> std::io::Result<()> {
    let status =
        Command::new("openssl").args(args).current_dir(dir).stdout(Stdio::null()).stderr(Stdio::null()).status()?;
    if status.success() { Ok(()) } else { Err(std::io::Error::other(format!("openssl {} failed", args[0]))) }
}
