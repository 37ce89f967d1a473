//! Merchant tokens (CartRover's merchant users): issued once, listed without their value,
//! revoked; and the lookup that turns a presented token into its merchant.
//!
//! A token is `cgt_` and 43 characters of base64url (256 random bits from the thread's CSPRNG).
//! Only its SHA-256 is stored: a token has far more entropy than a password, so an unsalted,
//! fast hash is enough — nobody can search 2^256 values — and it lets a request find its token
//! with one lookup by digest instead of comparing against every stored one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use super::{MerchantOps, OpError, Ops};
use crate::domain::MerchantId;
use crate::ledger::{ListedToken, TokenOwner, TokenRecord};

/// What every token starts with (so a leaked one is recognisable in a scan).
const PREFIX: &str = "cgt_";
/// The longest token name accepted.
const MAX_NAME: usize = 100;

/// A token just issued: its id, and the value, which is never shown again.
pub struct IssuedToken {
    pub id: String,
    pub token: SecretString,
}

/// The hex SHA-256 of a token: the only form in which it is stored.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl MerchantOps<'_> {
    /// Issues a token for this merchant, named `name` (1–100 printable characters).
    pub async fn create_token(&self, name: &str) -> Result<IssuedToken, OpError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(OpError::BadTokenName { max: MAX_NAME });
        }
        let id = hex::encode(rand::random::<[u8; 8]>());
        let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
        let record = TokenRecord { name: name.to_owned(), created_at: now_ms(), digest: digest(&token) };
        self.deps().ledger.tokens.add(&self.settings().id, &id, &record).await?;
        Ok(IssuedToken { id, token: SecretString::from(token) })
    }

    /// This merchant's tokens, oldest first (never their values).
    pub async fn tokens(&self) -> Result<Vec<ListedToken>, OpError> {
        Ok(self.deps().ledger.tokens.list(&self.settings().id).await?)
    }

    /// Revokes one of this merchant's tokens; unknown → [`OpError::NoToken`].
    pub async fn revoke_token(&self, id: &str) -> Result<(), OpError> {
        if self.deps().ledger.tokens.revoke(&self.settings().id, id).await? {
            Ok(())
        } else {
            Err(OpError::NoToken(id.to_owned()))
        }
    }
}

impl Ops {
    /// Revokes every token of merchant `id` — for deleting a merchant, so one created again
    /// under the same id does not inherit them. Returns how many there were.
    pub async fn revoke_all_tokens(&self, id: &MerchantId) -> Result<usize, OpError> {
        Ok(self.deps().ledger.tokens.revoke_all(id).await?)
    }

    /// Whose live token `presented` is — `None` when it is unknown, revoked, or its merchant no
    /// longer exists. Records the use.
    pub async fn authenticate_token(&self, presented: &str) -> Result<Option<TokenOwner>, OpError> {
        if !presented.starts_with(PREFIX) {
            return Ok(None);
        }
        let Some(owner) = self.deps().ledger.tokens.owner(&digest(presented)).await? else { return Ok(None) };
        if !self.merchant_exists(owner.merchant.as_str()) {
            return Ok(None);
        }
        if let Err(e) = self.deps().ledger.tokens.note_used(&owner.merchant, &owner.id, now_ms()).await {
            tracing::warn!(merchant = %owner.merchant, token = owner.id, error = %e, "token use not recorded");
        }
        Ok(Some(owner))
    }

    /// Whether merchant `id` exists: the one place token authentication asks (so switching to
    /// the live merchant directory is one line).
    pub fn merchant_exists(&self, id: &str) -> bool {
        self.merchant(id).is_ok()
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_hex_sha256_of_the_token() {
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
