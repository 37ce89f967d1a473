//! Operator actions on the command line: the same operations as the admin API (`ops`), run
//! against the configured store and upstreams without a running server.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use crate::ops::aliases::AliasFormat;
use crate::ops::{OpError, Ops};
use crate::settings::Settings;
use crate::startup::dependencies;
use crate::store::Store;

/// The operator actions over the configured store, merchants set up through the API included.
async fn ops(settings: Settings) -> Result<Ops, ExitCode> {
    let settings = Arc::new(settings);
    let store = Store::connect(&settings.store).map_err(|e| fail(&format!("store: {e}")))?;
    let deps = dependencies(&settings, &store).map_err(|e| fail(&format!("{e:#}")))?;
    if let Err(e) = deps.tenants.reload().await {
        eprintln!("warning: cannot read the merchants set up through the API ({e}); only the file's are known");
    }
    Ok(Ops::new(deps))
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// `cartgate test-connection MERCHANT_OR_CART`: prints the check as JSON; exit 0 when ok.
pub async fn test_connection(settings: Settings, target: &str) -> ExitCode {
    let ops = match ops(settings).await {
        Ok(ops) => ops,
        Err(code) => return code,
    };
    let check = match ops.test_connection(target).await {
        Ok(check) => check,
        Err(e) => return fail(&e.to_string()),
    };
    println!("{}", serde_json::to_string_pretty(&check).unwrap_or_default());
    if check.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// `cartgate aliases import MERCHANT FILE.csv`: validates every row first, then stores them and
/// re-queues the orders that were waiting for one.
pub async fn import_aliases(settings: Settings, merchant: &str, file: &Path) -> ExitCode {
    let memory = settings.is_memory_store();
    let ops = match ops(settings).await {
        Ok(ops) => ops,
        Err(code) => return code,
    };
    let merchant = match ops.merchant(merchant) {
        Ok(m) => m,
        Err(e) => return fail(&e.to_string()),
    };
    if memory {
        return fail(
            "store.url is memory://: imported aliases would vanish with this process; point --config at the Redis store",
        );
    }
    let body = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return fail(&format!("cannot read {}: {e}", file.display())),
    };
    match merchant.import_aliases(AliasFormat::Csv, &body).await {
        Ok(done) => {
            let id = merchant.settings().id.as_str();
            println!("imported {} aliases for {id}; {} waiting orders re-queued", done.upserted, done.requeued);
            ExitCode::SUCCESS
        }
        Err(e @ OpError::BadAliases(_)) => fail(&format!("{}: {e} (nothing imported)", file.display())),
        Err(e) => fail(&format!("store: {e}")),
    }
}

/// `cartgate migrate`: moves a ledger written by the previous release to the per-merchant
/// layout (`ledger::migrate`). Every replica must be stopped first. Safe to run again.
pub async fn migrate(settings: Settings) -> ExitCode {
    let settings = Arc::new(settings);
    let store = match Store::connect(&settings.store) {
        Ok(store) => store,
        Err(e) => return fail(&format!("store: {e}")),
    };
    let Some(conn) = store.redis() else {
        println!("store.url is memory://: nothing is stored between runs, nothing to migrate");
        return ExitCode::SUCCESS;
    };
    let deps = match dependencies(&settings, &store) {
        Ok(deps) => deps,
        Err(e) => return fail(&format!("{e:#}")),
    };
    if let Err(e) = deps.tenants.reload().await {
        return fail(&format!("cannot read the merchants set up through the API: {e}"));
    }
    let owners = deps.tenants.now().cart_owners().map(|(c, m)| (c.to_owned(), m.to_owned())).collect();
    match crate::ledger::migrate::run(&conn, &settings.store.prefix, owners).await {
        Ok(report) => {
            println!(
                "ledger migrated to layout {}: {} orders, {} keys, {} cursors moved",
                crate::ledger::layout::CURRENT,
                report.orders,
                report.keys,
                report.cursor_fields
            );
            for left in &report.left {
                println!("left in place (its cart belongs to no known merchant): {left}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("migration stopped (run `cartgate migrate` again once fixed): {e}")),
    }
}
