//! Start-up validation: everything `serde` cannot check by itself, all problems reported at once.

use std::collections::HashSet;

use super::cart::{is_shop_domain, shopify_gid};
use super::{CartAuth, CartKind, CartSettings, ConfigError, ItemField, MerchantSettings, Secret, Settings};

impl Settings {
    /// Resolves secrets and checks cross-field rules. Reports every problem, not just the first.
    pub(super) fn validate(&mut self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        self.check_scalars(&mut errors);
        // Secrets first: some merchant rules look at a secret's value (`alerts.webhook.secret`).
        self.resolve_secrets(&mut errors);
        self.check_ids(&mut errors);
        self.check_tenant_keys(&mut errors);
        self.check_oauth_carts(&mut errors);
        self.check_alerts(&mut errors);
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    fn check_scalars(&self, errors: &mut Vec<ConfigError>) {
        let mut bad = |key: &str, msg: &str| errors.push(ConfigError::invalid(key, msg));
        let url = self.store.url.as_str();
        if !(url == "memory://" || url.starts_with("redis://") || url.starts_with("rediss://")) {
            bad("store.url", "must be memory://, redis://… or rediss://…");
        } else if url != "memory://" && url::Url::parse(url).is_err() {
            bad("store.url", "is not a valid URL");
        }
        if self.store.prefix.is_empty() || self.store.prefix.contains(['{', '}', ' ']) {
            bad("store.prefix", "must be non-empty, without braces or spaces");
        }
        for seed in &self.store.cluster_seeds {
            if !(seed.starts_with("redis://") || seed.starts_with("rediss://")) || url::Url::parse(seed).is_err() {
                bad("store.cluster_seeds", "must be redis://… or rediss://… URLs");
            } else if seed.starts_with("rediss://") != url.starts_with("rediss://") {
                // One client for every node: a cluster speaks TLS everywhere or nowhere.
                bad("store.cluster_seeds", "must use the same scheme as store.url (all rediss:// or all redis://)");
            }
        }
        if self.store.tls_ca_file.is_some() && !url.starts_with("rediss://") {
            bad("store.tls_ca_file", "applies to a rediss:// store.url only");
        }
        if self.store.cluster && url == "memory://" {
            bad("store.cluster", "needs a redis:// store.url (a seed node of the cluster)");
        }
        if !(1..=1024).contains(&self.store.partitions) {
            bad("store.partitions", "must be between 1 and 1024");
        }
        if self.server.max_body_bytes < 1024 {
            bad("server.max_body_bytes", "must be at least 1024");
        }
        if self.ledger.keep_finished_days == 0 {
            bad("ledger.keep_finished_days", "must be at least 1");
        }
        if self.workers.concurrency == 0 {
            bad("workers.concurrency", "must be at least 1");
        }
        if self.workers.lease_secs < 5 {
            bad("workers.lease_secs", "must be at least 5");
        }
        if self.retry.schedule_secs.is_empty() {
            bad("retry.schedule_secs", "must list at least one delay");
        }
        if !(0.0..=1.0).contains(&self.retry.jitter) {
            bad("retry.jitter", "must be between 0.0 and 1.0");
        }
        if let Some(app) = &self.apps.shopify {
            errors.extend(app.problems());
        }
        for (i, m) in self.merchants.iter().enumerate() {
            check_merchant(i, m, errors);
        }
    }

    /// `[alerts.smtp]`, and e-mail addresses only where a mail server is configured.
    fn check_alerts(&self, errors: &mut Vec<ConfigError>) {
        if let Some(smtp) = &self.alerts.smtp {
            errors.extend(smtp.problems().into_iter().map(|p| p.under("alerts.smtp")));
        }
        for (i, m) in self.merchants.iter().enumerate() {
            let at = format!("merchants[{i}]");
            if !m.alerts.email.is_empty() && self.alerts.smtp.is_none() {
                errors
                    .push(ConfigError::invalid(format!("{at}.alerts.email"), "needs a mail server: set [alerts.smtp]"));
            }
        }
    }

    /// Every key of the ring must be usable: a bad one found only when a secret is sealed or
    /// opened would make tenants unusable at run time.
    fn check_tenant_keys(&self, errors: &mut Vec<ConfigError>) {
        if let Err((i, e)) = self.tenants.key_ring() {
            let key = format!("tenants.keys[{i}]");
            // A key that could not be resolved (missing variable or file) is reported already.
            if !errors.iter().any(|known| known.key() == Some(key.as_str())) {
                errors.push(ConfigError::invalid(key, e.to_string()));
            }
        }
    }

    /// An `auth = "oauth"` cart needs the application it connects through, a public URL for the
    /// redirect, and a key to seal its tokens with (the memory store generates one).
    fn check_oauth_carts(&self, errors: &mut Vec<ConfigError>) {
        for (i, m) in self.merchants.iter().enumerate() {
            for (j, c) in m.carts.iter().enumerate() {
                for p in oauth_problems(self, c) {
                    errors.push(p.under(&format!("merchants[{i}].carts[{j}]")));
                }
                if c.auth == CartAuth::Oauth && self.tenants.keys.is_empty() && !self.is_memory_store() {
                    let msg = format!("needs at least one key to seal the OAuth tokens of cart `{}`", c.id);
                    errors.push(ConfigError::invalid("tenants.keys", msg));
                }
            }
        }
    }

    /// Merchant ids and cart ids are route segments and key parts: each must be unique.
    fn check_ids(&self, errors: &mut Vec<ConfigError>) {
        let mut merchants = HashSet::new();
        let mut carts = HashSet::new();
        for (i, m) in self.merchants.iter().enumerate() {
            if !merchants.insert(m.id.as_str()) {
                errors.push(ConfigError::invalid(
                    format!("merchants[{i}].id"),
                    format!("duplicate merchant id `{}`", m.id),
                ));
            }
            for (j, c) in m.carts.iter().enumerate() {
                if !carts.insert(c.id.as_str()) {
                    errors.push(ConfigError::invalid(
                        format!("merchants[{i}].carts[{j}].id"),
                        format!("duplicate cart id `{}`", c.id),
                    ));
                }
            }
        }
    }

    fn resolve_secrets(&mut self, errors: &mut Vec<ConfigError>) {
        let mut resolve = |key: String, secret: Option<&mut Secret>| {
            if let Some(s) = secret
                && let Err(e) = s.resolve(&key)
            {
                errors.push(e);
            }
        };
        resolve("server.admin_token".into(), self.server.admin_token.as_mut());
        if let Some(app) = self.apps.tradegecko.as_mut() {
            resolve("apps.tradegecko.client_id".into(), Some(&mut app.client_id));
            resolve("apps.tradegecko.client_secret".into(), Some(&mut app.client_secret));
            resolve("apps.tradegecko.client_secret_previous".into(), app.client_secret_previous.as_mut());
        }
        if let Some(app) = self.apps.shopify.as_mut() {
            resolve("apps.shopify.client_id".into(), Some(&mut app.client_id));
            resolve("apps.shopify.client_secret".into(), Some(&mut app.client_secret));
            resolve("apps.shopify.client_secret_previous".into(), app.client_secret_previous.as_mut());
        }
        for (i, key) in self.tenants.keys.iter_mut().enumerate() {
            resolve(format!("tenants.keys[{i}]"), Some(key));
        }
        if let Some(smtp) = self.alerts.smtp.as_mut() {
            resolve("alerts.smtp.username".into(), smtp.username.as_mut());
            resolve("alerts.smtp.password".into(), smtp.password.as_mut());
        }
        for (i, m) in self.merchants.iter_mut().enumerate() {
            let hook = m.alerts.webhook.as_mut().map(|h| &mut h.secret);
            resolve(format!("merchants[{i}].alerts.webhook.secret"), hook);
            let w = &mut m.wms;
            resolve(format!("merchants[{i}].wms.production_api_key"), w.production_api_key.as_mut());
            resolve(format!("merchants[{i}].wms.test_api_key"), w.test_api_key.as_mut());
            resolve(format!("merchants[{i}].wms.webhook_secret"), w.webhook_secret.as_mut());
            resolve(format!("merchants[{i}].wms.webhook_secret_previous"), w.webhook_secret_previous.as_mut());
            for (j, c) in m.carts.iter_mut().enumerate() {
                let key = |f: &str| format!("merchants[{i}].carts[{j}].{f}");
                resolve(key("access_token"), c.access_token.as_mut());
                resolve(key("client_secret"), c.client_secret.as_mut());
                resolve(key("client_secret_previous"), c.client_secret_previous.as_mut());
            }
        }
    }
}

fn check_merchant(i: usize, m: &MerchantSettings, errors: &mut Vec<ConfigError>) {
    for problem in merchant_problems(m) {
        errors.push(problem.under(&format!("merchants[{i}]")));
    }
}

/// The rules a merchant's settings must follow, with keys relative to the merchant
/// (`wms.base_url`, `carts[0].rate_limit`): the file's validation and the admin API's both
/// use them, so a problem reads the same wherever the merchant was written.
pub fn merchant_problems(m: &MerchantSettings) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let mut bad = |key: &str, msg: &str| errors.push(ConfigError::invalid(key, msg));
    let w = &m.wms;
    if w.active_key().is_none() {
        let field = if w.test_mode { "wms.test_api_key" } else { "wms.production_api_key" };
        bad(field, "is required for the active mode (wms.test_mode)");
    }
    if w.rate_limit.requests == 0 || w.rate_limit.per_secs == 0 {
        bad("wms.rate_limit", "requests and per_secs must be positive");
    }
    if !matches!(w.base_url.scheme(), "http" | "https") {
        bad("wms.base_url", "must be an http(s) URL");
    }
    for (j, c) in m.carts.iter().enumerate() {
        errors.extend(cart_problems(c).into_iter().map(|p| p.under(&format!("carts[{j}]"))));
    }
    errors.extend(m.alerts.problems());
    errors
}

/// The rules a cart's settings must follow, with keys relative to the cart (`base_url`).
pub fn cart_problems(c: &CartSettings) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    if c.rate_limit.is_some_and(|r| r.requests == 0 || r.per_secs == 0) {
        errors.push(ConfigError::invalid("rate_limit", "requests and per_secs must be positive"));
    }
    if c.base_url.as_ref().is_some_and(|u| !matches!(u.scheme(), "http" | "https")) {
        errors.push(ConfigError::invalid("base_url", "must be an http(s) URL"));
    }
    errors.extend(kind_problems(c));
    errors.extend(c.ship_methods.problems());
    let blank = |list: &[String]| list.iter().any(|t| t.trim().is_empty());
    let f = &c.filters;
    for (key, list) in [("filters.tags_any", &f.tags_any), ("filters.tags_none", &f.tags_none)] {
        if blank(list) {
            errors.push(ConfigError::invalid(key, "must not hold a blank tag"));
        }
    }
    let same = |a: &String, b: &String| a.trim().eq_ignore_ascii_case(b.trim());
    if let Some(t) = f.tags_any.iter().find(|a| f.tags_none.iter().any(|n| same(a, n))) {
        errors.push(ConfigError::invalid("filters.tags_any", format!("\"{}\" is in tags_none too", t.trim())));
    }
    if blank(&c.inventory.locations) {
        errors.push(ConfigError::invalid("inventory.locations", "must not hold a blank warehouse id"));
    }
    match c.auth {
        CartAuth::Token => {
            if c.access_token.is_none() {
                errors.push(ConfigError::invalid("access_token", "is required when auth = \"token\""));
            }
            // A Shopify custom app's webhooks may be signed by `[apps.shopify]` (a file check).
            if c.client_secret.is_none() && c.kind == CartKind::Tradegecko {
                errors.push(ConfigError::invalid("client_secret", "is required when auth = \"token\""));
            }
        }
        CartAuth::Oauth => {
            for (field, set) in
                [("access_token", c.access_token.is_some()), ("client_secret", c.client_secret.is_some())]
            {
                if set {
                    let msg = "must not be set when auth = \"oauth\" (tokens come from Connect; webhooks are \
                               signed with the application's client_secret)";
                    errors.push(ConfigError::invalid(field, msg));
                }
            }
        }
    }
    errors
}

/// The keys one cart kind needs or refuses.
fn kind_problems(c: &CartSettings) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let mut refuse = |key: &str, set: bool, kind: &str| {
        if set {
            errors.push(ConfigError::invalid(key, format!("is not a setting of {kind} carts")));
        }
    };
    match c.kind {
        CartKind::Tradegecko => {
            refuse("shop", c.shop.is_some(), "tradegecko");
            refuse("location_id", c.location_id.is_some(), "tradegecko");
            refuse("filters.financial_status", c.filters.financial_status.is_some(), "tradegecko");
            refuse("item_field", c.item_field == ItemField::Barcode, "tradegecko (use \"upc\")");
        }
        CartKind::Shopify => {
            refuse("stock_location_id", c.stock_location_id.is_some(), "shopify (use location_id)");
            refuse("filters.stock_location_ids", !c.filters.stock_location_ids.is_empty(), "shopify");
            refuse("item_field", c.item_field == ItemField::Upc, "shopify (use \"barcode\")");
            match c.shop.as_deref() {
                None => errors.push(ConfigError::invalid("shop", "is required for a shopify cart")),
                Some(shop) if !is_shop_domain(shop) => errors.push(ConfigError::invalid(
                    "shop",
                    format!("\"{shop}\" is not a shop's myshopify.com domain (e.g. acme.myshopify.com)"),
                )),
                Some(_) => {}
            }
            if let Some(gid) = &c.location_id
                && shopify_gid(gid, "Location").is_none()
            {
                let msg = format!("\"{gid}\" is not a location id (gid://shopify/Location/<number>)");
                errors.push(ConfigError::invalid("location_id", msg));
            }
        }
    }
    errors
}

/// What a cart needs from the deployment: an `auth = "oauth"` cart its application
/// (`[apps.tradegecko]` / `[apps.shopify]`) and `server.public_url` (the redirect URL is built
/// from it); a Shopify token cart without a `client_secret` `[apps.shopify]`, whose secret signs
/// its webhooks. Keys are the deployment's own.
pub fn oauth_problems(settings: &Settings, c: &CartSettings) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let shopify_app = settings.apps.shopify.is_some();
    if c.kind == CartKind::Shopify && c.auth == CartAuth::Token && c.client_secret.is_none() && !shopify_app {
        let msg = "a Shopify token cart needs its client_secret or [apps.shopify] (they sign its webhooks)";
        errors.push(ConfigError::invalid("client_secret", msg));
    }
    if c.auth != CartAuth::Oauth {
        return errors;
    }
    let (app, has_app) = match c.kind {
        CartKind::Tradegecko => ("[apps.tradegecko]", settings.apps.tradegecko.is_some()),
        CartKind::Shopify => ("[apps.shopify]", shopify_app),
    };
    if !has_app {
        errors.push(ConfigError::invalid("auth", format!("\"oauth\" needs {app} (client_id, client_secret)")));
    }
    if settings.server.public_url.is_none() {
        errors.push(ConfigError::invalid("auth", "\"oauth\" needs server.public_url (the OAuth redirect URL)"));
    }
    errors
}

impl Settings {
    pub fn merchant(&self, id: &str) -> Option<&MerchantSettings> {
        self.merchants.iter().find(|m| m.id.as_str() == id)
    }

    /// A cart and the merchant it belongs to.
    pub fn cart(&self, id: &str) -> Option<(&MerchantSettings, &super::CartSettings)> {
        self.merchants.iter().find_map(|m| m.carts.iter().find(|c| c.id.as_str() == id).map(|c| (m, c)))
    }

    /// Whether the configuration lives only in this process (`memory://`).
    pub fn is_memory_store(&self) -> bool {
        self.store.url == "memory://"
    }
}
