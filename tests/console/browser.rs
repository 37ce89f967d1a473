//! The one browser: chromedriver on a free port, one headless Chromium session, helpers to
//! sign in, read pages, submit forms and save screenshots. The driver process is killed when
//! [`Browser`] is stopped or dropped, so a failing run leaves nothing behind.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    _driver: Driver,
}

/// The chromedriver process, killed when dropped — also when the session never starts or
/// a panic unwinds past it.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _killed_or_gone = self.0.kill();
        let _reaped = self.0.wait();
    }
}

impl Browser {
    pub async fn start() -> anyhow::Result<Self> {
        let port = cartgate::testkit::free_port().context("a free port for chromedriver")?;
        let driver = Driver(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("{CHROMEDRIVER} (scripts/test installs chromium-driver)"))?,
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": CHROMIUM, "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-US"]}),
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new()).capabilities(caps.clone()).connect(&url).await {
                Ok(c) => break c,
                Err(e) if tokio::time::Instant::now() > deadline => bail!("no Chromium session within 30 s: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        Ok(Self { client, _driver: driver })
    }

    pub async fn stop(self) {
        let _closed = self.client.clone().close().await;
    }

    pub async fn goto(&self, world: &crate::world::ConsoleWorld, path: &str) -> anyhow::Result<()> {
        Ok(self.client.goto(&format!("{}{path}", world.url)).await?)
    }

    /// The visible text of `main`.
    pub async fn text(&self) -> anyhow::Result<String> {
        Ok(self.client.find(Locator::Css("main")).await?.text().await?)
    }

    /// Signs in with `token` through the form (signing out first when signed in).
    pub async fn sign_in(&self, world: &crate::world::ConsoleWorld, token: &str) -> anyhow::Result<()> {
        self.goto(world, "/console/").await?;
        if self.count("form.signout").await? > 0 {
            self.sign_out().await?;
        }
        self.client.find(Locator::Css("input[name=token]")).await?.send_keys(token).await?;
        self.click("form[action='/console/sign-in'] button").await?;
        let title = self.client.title().await?;
        if !title.starts_with("Orders") {
            bail!("after sign-in the page is {title:?}: {}", self.text().await.unwrap_or_default());
        }
        Ok(())
    }

    /// Signs out with the button every page has; the sign-in page follows.
    pub async fn sign_out(&self) -> anyhow::Result<()> {
        self.click("form.signout button").await?;
        let title = self.client.title().await?;
        if !title.starts_with("Sign in") {
            bail!("after sign-out the page is {title:?}: {}", self.text().await.unwrap_or_default());
        }
        Ok(())
    }

    /// Clicks the element `css` (a submit button or a link) and waits for the page it leads to:
    /// until the old document is gone (its root element stale), then for the new one's `main`.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let old = self.client.find(Locator::Css("html")).await?;
        self.client.find(Locator::Css(css)).await.with_context(|| format!("no {css}"))?.click().await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while old.tag_name().await.is_ok() {
            if tokio::time::Instant::now() > deadline {
                bail!("clicking {css} led nowhere within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("main")).await?;
        Ok(())
    }

    /// How many elements match `css`.
    pub async fn count(&self, css: &str) -> anyhow::Result<usize> {
        Ok(self.client.find_all(Locator::Css(css)).await?.len())
    }

    /// Waits (bounded) until `main` contains `needle`, reloading between looks.
    pub async fn wait_for_text(&self, needle: &str, within: Duration) -> anyhow::Result<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let text = self.text().await?;
            if text.contains(needle) {
                return Ok(text);
            }
            if tokio::time::Instant::now() > deadline {
                bail!("{needle:?} not on the page within {within:?}; it shows:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            self.client.refresh().await?;
        }
    }

    /// The session cookie's value.
    pub async fn session_cookie(&self) -> anyhow::Result<String> {
        Ok(self.client.get_named_cookie(cartgate::console::session::COOKIE).await?.value().to_owned())
    }

    /// Saves a screenshot as `target/console-shots/<name>.png`.
    pub async fn shot(&self, name: &str) -> anyhow::Result<()> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-shots");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{name}.png")), self.client.screenshot().await?)?;
        Ok(())
    }
}
