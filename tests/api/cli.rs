//! The `cartgate` binary: configuration errors exit 2 naming the key; serve stops cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn cartgate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cartgate"));
    cmd.env_remove("CARTGATE_CONFIG").env("CARTGATE_LOG_FORMAT", "json").env("RUST_LOG", "info");
    cmd
}

/// `cartgate check-config` on `file`, with the secrets MERCHANT refers to set.
fn check_config(file: &tempfile::NamedTempFile) -> std::process::Output {
    cartgate()
        .args(["check-config", "--config"])
        .arg(file.path())
        .env("CARTGATE_TEST_EP_TEST_KEY", "x")
        .env("CARTGATE_TEST_TG_TOKEN", "y")
        .output()
        .unwrap()
}

fn write_config(toml: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), toml).unwrap();
    file
}

const MERCHANT: &str = r#"
[[merchants]]
id = "acme"
[merchants.wms]
kind = "easypost"
base_url = "https://api.easypost.com"
production_api_key = "EZAK-literal-production-key"
test_api_key = "env:CARTGATE_TEST_EP_TEST_KEY"
webhook_secret = "literal-webhook-secret"
[[merchants.carts]]
id = "acme-tg"
kind = "tradegecko"
base_url = "https://api.tradegecko.com"
access_token = "env:CARTGATE_TEST_TG_TOKEN"
client_secret = "literal-client-secret"
stock_location_id = 1
"#;

#[test]
fn check_config_with_a_bad_time_zone_exits_2_naming_hold_timezone() {
    let file = write_config("[hold]\ntimezone = \"Mars/Olympus_Mons\"\n");
    let out = cartgate().arg("check-config").arg("--config").arg(file.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("hold.timezone"), "{stderr}");
}

#[test]
fn a_missing_secret_variable_exits_2_naming_the_key_and_the_variable() {
    let file = write_config(MERCHANT);
    let out = cartgate()
        .args(["check-config", "--config"])
        .arg(file.path())
        .env_remove("CARTGATE_TEST_EP_TEST_KEY")
        .env("CARTGATE_TEST_TG_TOKEN", "tg-token-value")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("merchants[0].wms.test_api_key: environment variable CARTGATE_TEST_EP_TEST_KEY is not set"),
        "{stderr}"
    );
}

#[test]
fn check_config_never_prints_a_secret_value() {
    let file = write_config(MERCHANT);
    let out = cartgate()
        .args(["check-config", "--config"])
        .arg(file.path())
        .env("CARTGATE_TEST_EP_TEST_KEY", "EZTK-from-environment")
        .env("CARTGATE_TEST_TG_TOKEN", "tg-token-value")
        .env("CARTGATE__SERVER__ADMIN_TOKEN", "admin-from-env")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    for secret in [
        "EZAK-literal-production-key",
        "EZTK-from-environment",
        "literal-webhook-secret",
        "tg-token-value",
        "literal-client-secret",
        "admin-from-env",
    ] {
        assert!(!all.contains(secret), "check-config printed a secret: {secret}");
    }
    assert!(all.contains("env:CARTGATE_TEST_TG_TOKEN"), "sources should be shown: {all}");
}

#[test]
fn unknown_keys_and_duplicate_ids_exit_2_naming_them() {
    let dup = format!("{MERCHANT}\n{}", MERCHANT.replace("acme-tg", "acme-tg2"));
    let file = write_config(&format!("[server]\nbindd = \"x\"\n{dup}"));
    let out = check_config(&file);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bindd"), "{stderr}");

    let file = write_config(&dup);
    let out = check_config(&file);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("merchants[1].id: duplicate merchant id `acme`"), "{stderr}");
}

#[test]
fn bad_durations_exit_2_naming_the_key() {
    let toml =
        MERCHANT.replace("[[merchants.carts]]", "[merchants.schedule]\ninventory = \"often\"\n[[merchants.carts]]");
    let file = write_config(&toml);
    let out = check_config(&file);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("merchants[0].schedule.inventory"), "{stderr}");
}

#[test]
fn serve_with_no_arguments_starts_on_the_embedded_store_and_exits_0_on_sigterm() {
    let mut child = cartgate()
        .arg("serve")
        .env("CARTGATE__SERVER__BIND", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("serve exited before listening").unwrap();
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        if v["message"] == "listening" {
            break v["addr"].as_str().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let get = |path: &str| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async { reqwest::get(format!("http://{addr}{path}")).await.map(|r| r.status().as_u16()) })
    };
    assert_eq!(get("/healthz").unwrap(), 200);
    assert_eq!(get("/readyz").unwrap(), 200);
    assert_eq!(get("/metrics").unwrap(), 200);

    let started = Instant::now();
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            panic!("serve did not exit within 5 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(exit.code(), Some(0));
}

fn redis_config() -> (tempfile::NamedTempFile, String) {
    let prefix = cartgate::testkit::unique_prefix();
    let toml = format!(
        "[store]\nurl = \"{}\"\nprefix = \"{prefix}\"\n{}",
        cartgate::testkit::TestRedis::shared_url(),
        MERCHANT.replace("https://api.easypost.com", "http://127.0.0.1:9")
    );
    (write_config(&toml), prefix)
}

#[tokio::test]
async fn aliases_import_applies_all_rows_or_none() {
    let (config, prefix) = redis_config();
    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bad.path(), "sku,barcode\nA-1,0001\nB-2,\n").unwrap();
    let good = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(good.path(), "sku,barcode\nA-1,0001\nB-2,0002\n").unwrap();
    let run = |file: &std::path::Path| {
        cartgate()
            .args(["aliases", "import", "acme"])
            .arg(file)
            .arg("--config")
            .arg(config.path())
            .env("CARTGATE_TEST_EP_TEST_KEY", "x")
            .env("CARTGATE_TEST_TG_TOKEN", "y")
            .output()
            .unwrap()
    };
    let out = run(bad.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3"), "{}", String::from_utf8_lossy(&out.stderr));

    let conn = cartgate::store::redis::connection(&cartgate::testkit::TestRedis::shared_url()).unwrap();
    let kv = cartgate::ledger::redis_kv::RedisKv::new(conn, &prefix);
    let ledger = cartgate::ledger::Ledger::new(std::sync::Arc::new(kv));
    assert!(ledger.aliases.all("acme").await.unwrap().is_empty(), "a bad file imports nothing");

    let out = run(good.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(ledger.aliases.all("acme").await.unwrap().len(), 2);
}

#[test]
fn test_connection_says_when_the_warehouse_is_unreachable() {
    let (config, _) = redis_config();
    let out = cartgate()
        .args(["test-connection", "acme", "--config"])
        .arg(config.path())
        .env("CARTGATE_TEST_EP_TEST_KEY", "x")
        .env("CARTGATE_TEST_TG_TOKEN", "y")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let check: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(check["ok"], false);
    assert!(check["message"].as_str().unwrap().contains("cannot reach EasyPost"), "{check}");
    let out = cartgate().args(["test-connection", "nobody"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn tenants_keygen_prints_a_key_the_configuration_accepts_and_a_bad_key_exits_2() {
    let out = cartgate().args(["tenants", "keygen"]).output().unwrap();
    assert!(out.status.success());
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let again = cartgate().args(["tenants", "keygen"]).output().unwrap();
    assert_ne!(String::from_utf8_lossy(&again.stdout).trim(), key, "every key is fresh");

    let good = write_config("[tenants]\nkeys = [\"env:CARTGATE_TEST_TENANT_KEY\"]\n");
    let out = cartgate()
        .args(["check-config", "--config"])
        .arg(good.path())
        .env("CARTGATE_TEST_TENANT_KEY", &key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&key), "the key is never printed");

    let bad = write_config("[tenants]\nkeys = [\"env:CARTGATE_TEST_TENANT_KEY\", \"c2hvcnQ=\"]\n");
    let out = cartgate()
        .args(["check-config", "--config"])
        .arg(bad.path())
        .env("CARTGATE_TEST_TENANT_KEY", &key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tenants.keys[1]: must be the base64 of 32 random bytes"), "{stderr}");
    assert!(!stderr.contains(&key), "{stderr}");
}

#[test]
fn an_undocumented_stock_adjustment_reason_exits_2_naming_the_key() {
    let toml = format!("{MERCHANT}[merchants.carts.inventory]\nadjustment_reason = \"cartgate inventory sync\"\n");
    let out = check_config(&write_config(&toml));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("merchants[0].carts[0].inventory.adjustment_reason"), "{stderr}");
    let ok = format!("{MERCHANT}[merchants.carts.inventory]\nadjustment_reason = \"damaged\"\n");
    assert_eq!(check_config(&write_config(&ok)).status.code(), Some(0));
}

#[test]
fn a_bad_sku_pattern_or_date_in_the_filters_exits_2_naming_the_key_and_the_value() {
    let glob = format!("{MERCHANT}[merchants.carts.filters]\nskip_skus = [\"GIFTCARD-*\", \"BAD-[A\"]\n");
    let out = check_config(&write_config(&glob));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("merchants[0].carts[0].filters.skip_skus"), "{stderr}");
    assert!(stderr.contains("`BAD-[A` is not a SKU pattern like \"GIFTCARD-*\""), "{stderr}");

    let date = format!("{MERCHANT}[merchants.carts.filters]\ncreated_after = \"2026-13-01\"\n");
    let out = check_config(&write_config(&date));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("merchants[0].carts[0].filters.created_after"), "{stderr}");
    assert!(stderr.contains("`2026-13-01` is not a date like \"2026-01-01\""), "{stderr}");

    let tags = format!("{MERCHANT}[merchants.carts.filters]\ntags_any = [\"Web\", \" \"]\ntags_none = [\"web\"]\n");
    let stderr = String::from_utf8_lossy(&check_config(&write_config(&tags)).stderr).into_owned();
    assert!(stderr.contains("merchants[0].carts[0].filters.tags_any: must not hold a blank tag"), "{stderr}");
    assert!(stderr.contains("merchants[0].carts[0].filters.tags_any: \"Web\" is in tags_none too"), "{stderr}");

    let ok = format!(
        "{MERCHANT}[merchants.carts.filters]\nstock_location_ids = [1]\ntags_none = [\"wholesale\"]\n\
         created_after = \"2026-01-01\"\nskip_skus = [\"GIFTCARD-*\", \"DIGITAL-?\"]\n\
         [merchants.carts.inventory]\nreserve = 2\nlocations = [\"wh_east\"]\n"
    );
    let out = check_config(&write_config(&ok));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Waits for `child` to exit within `within` (killed and `None` otherwise).
fn exit_within(child: &mut std::process::Child, within: Duration) -> Option<i32> {
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        if started.elapsed() > within {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn serve_refuses_a_store_of_the_previous_release_with_exit_2_until_migrate_has_run() {
    let server = cartgate::testkit::TestRedis::start(false, None).unwrap();
    let mut conn = redis::Client::open(server.url()).unwrap().get_connection_manager().await.unwrap();
    cartgate::testkit::dump::load(&mut conn, include_str!("../data/store-v1.jsonl")).await.unwrap();
    let file = write_config(&format!("[store]\nurl = \"{}\"\nprefix = \"cartgate\"\n", server.url()));

    let mut serve = cartgate()
        .arg("serve")
        .arg("--config")
        .arg(file.path())
        .env("CARTGATE__SERVER__BIND", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let code = exit_within(&mut serve, Duration::from_secs(20));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut serve.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cartgate migrate"), "{stderr}");

    let out = cartgate().args(["migrate", "--config"]).arg(file.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("22 orders"), "{stdout}");
    let layout: String = redis::cmd("GET").arg("cartgate:ledger_layout").query_async(&mut conn).await.unwrap();
    assert_eq!(layout, "2");
}

#[test]
fn merchant_alerts_in_the_file_resolve_their_secret_reference_and_a_bad_secret_or_url_exits_2() {
    let alerts = |url: &str, secret: &str| {
        format!(
            "{MERCHANT}[merchants.alerts]\nemail = [\"ops@acme.example\"]\ndigest = \"1h\"\nwebhook = {{ url = \"{url}\", secret = \"{secret}\" }}\n\
             [alerts.smtp]\nurl = \"smtp://127.0.0.1:2525\"\nfrom = \"cartgate <alerts@cartgate.example.com>\"\n"
        )
    };
    let good = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let file = write_config(&alerts("https://acme.example/hooks", "env:CARTGATE_TEST_ALERT_SECRET"));
    let out = cartgate()
        .args(["check-config", "--config"])
        .arg(file.path())
        .env("CARTGATE_TEST_EP_TEST_KEY", "x")
        .env("CARTGATE_TEST_TG_TOKEN", "y")
        .env("CARTGATE_TEST_ALERT_SECRET", good)
        .output()
        .unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(!all.contains(&good[6..]), "check-config printed the alert webhook secret");
    for (url, secret, key) in [
        ("https://acme.example/hooks", "whsec_c2hvcnQ=", "merchants[0].alerts.webhook.secret"),
        ("http://acme.example/hooks", good, "merchants[0].alerts.webhook.url"),
    ] {
        let out = check_config(&write_config(&alerts(url, secret)));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(key), "{stderr}");
    }
}
