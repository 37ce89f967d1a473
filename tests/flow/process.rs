//! cartgate as a real child process (the binary the tests were built with).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn serve(config: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cartgate"))
        .args(["serve", "--config"])
        .arg(config)
        .env("CARTGATE_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub async fn readyz(client: &reqwest::Client, public: &str) -> Option<u16> {
    client.get(format!("{public}/readyz")).send().await.ok().map(|r| r.status().as_u16())
}

pub async fn wait_ready(client: &reqwest::Client, public: &str) {
    for _ in 0..300 {
        if readyz(client, public).await == Some(200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cartgate did not become ready");
}

pub fn wait_exit(child: &mut Child, within: Duration) -> Option<i32> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if started.elapsed() > within {
            let _ = child.kill();
            panic!("cartgate did not exit within {within:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGTERM.
pub fn terminate(child: &Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
}
