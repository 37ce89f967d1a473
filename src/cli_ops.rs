//! Operator actions on the command line: the same operations as the admin API, run against
//! the configured store and upstreams without a running server.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use crate::settings::Settings;
use crate::startup::dependencies;
use crate::store::Store;
use crate::workflows::{aliases, connection};

fn deps(settings: Settings) -> Result<crate::workflows::Deps, ExitCode> {
    let settings = Arc::new(settings);
    let store = Store::connect(&settings.store).map_err(|e| fail(&format!("store: {e}")))?;
    dependencies(&settings, &store).map_err(|e| fail(&format!("{e:#}")))
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// `cartgate test-connection MERCHANT_OR_CART`: prints the check as JSON; exit 0 when ok.
pub async fn test_connection(settings: Settings, target: &str) -> ExitCode {
    let deps = match deps(settings) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let check = if let Some(m) = deps.settings.merchant(target) {
        connection::test_wms(&deps, &m.wms).await
    } else if let Some((m, c)) = deps.settings.cart(target) {
        connection::test_cart(&deps, c, m.wms.mode()).await
    } else {
        return fail(&format!("`{target}` is neither a configured merchant nor a cart"));
    };
    println!("{}", serde_json::to_string_pretty(&check).unwrap_or_default());
    if check.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// `cartgate aliases import MERCHANT FILE.csv`: validates every row first, then stores them and
/// re-queues the orders that were waiting for one.
pub async fn import_aliases(settings: Settings, merchant: &str, file: &Path) -> ExitCode {
    if settings.merchant(merchant).is_none() {
        return fail(&format!("unknown merchant `{merchant}`"));
    }
    if settings.is_memory_store() {
        return fail(
            "store.url is memory://: imported aliases would vanish with this process; point --config at the Redis store",
        );
    }
    let body = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return fail(&format!("cannot read {}: {e}", file.display())),
    };
    let rows = match aliases::parse_csv(&body) {
        Ok(rows) => rows,
        Err(e) => return fail(&format!("{}: {e} (nothing imported)", file.display())),
    };
    let deps = match deps(settings) {
        Ok(d) => d,
        Err(code) => return code,
    };
    match aliases::apply(&deps, merchant, &rows).await {
        Ok(requeued) => {
            println!("imported {} aliases for {merchant}; {requeued} waiting orders re-queued", rows.len());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("store: {e}")),
    }
}
