//! SKU patterns: the merchant's item filter (`skip_skus = ["GIFTCARD-*", "DIGITAL-*"]`).
//!
//! Globs as a shell reads them (`*` any run of characters, `?` one character, `[…]` a class),
//! compiled once by `globset` when the settings are read, so a pattern that does not parse is a
//! configuration problem and never a surprise at send time. Matching is case-sensitive, as SKUs
//! are matched everywhere else ([`super::item`]).

use std::fmt;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Sku;

/// A pattern that is not a glob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{pattern}` is not a SKU pattern like \"GIFTCARD-*\": {why}")]
pub struct PatternError {
    pub pattern: String,
    pub why: String,
}

/// A list of SKU globs; the empty list matches nothing.
#[derive(Clone)]
pub struct SkuPatterns {
    patterns: Vec<String>,
    set: GlobSet,
}

impl SkuPatterns {
    /// Compiles every pattern; the first that does not parse is the error.
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<Self, PatternError> {
        let mut builder = GlobSetBuilder::new();
        for p in patterns {
            let p = p.as_ref();
            let fail = |why: String| PatternError { pattern: p.to_owned(), why };
            if p.trim().is_empty() {
                return Err(fail("a pattern must not be blank".into()));
            }
            builder.add(Glob::new(p).map_err(|e| fail(e.kind().to_string()))?);
        }
        let set = builder.build().map_err(|e| PatternError { pattern: String::new(), why: e.to_string() })?;
        Ok(Self { patterns: patterns.iter().map(|p| p.as_ref().to_owned()).collect(), set })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The first pattern (as written) that `sku` matches.
    pub fn matching(&self, sku: &Sku) -> Option<&str> {
        self.set.matches(sku.as_str()).first().map(|i| self.patterns[*i].as_str())
    }

    pub fn as_strs(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(String::as_str)
    }
}

impl Default for SkuPatterns {
    fn default() -> Self {
        Self { patterns: Vec::new(), set: GlobSet::empty() }
    }
}

impl fmt::Debug for SkuPatterns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.patterns).finish()
    }
}

impl PartialEq for SkuPatterns {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

impl Serialize for SkuPatterns {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.patterns.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SkuPatterns {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<String>::deserialize(d)?;
        Self::parse(&list).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    #[test]
    fn star_and_question_mark_match_as_in_a_shell_and_case_counts() {
        let p = SkuPatterns::parse(&["GIFTCARD-*", "DIGITAL-??"]).unwrap();
        assert_eq!(p.matching(&sku("GIFTCARD-10")), Some("GIFTCARD-*"));
        assert_eq!(p.matching(&sku("GIFTCARD-")), Some("GIFTCARD-*"));
        assert_eq!(p.matching(&sku("DIGITAL-01")), Some("DIGITAL-??"));
        assert_eq!(p.matching(&sku("DIGITAL-001")), None);
        assert_eq!(p.matching(&sku("giftcard-10")), None, "SKUs are matched as spelled");
        assert_eq!(p.matching(&sku("SKU-0001")), None);
        assert_eq!(SkuPatterns::default().matching(&sku("GIFTCARD-10")), None);
    }

    #[test]
    fn a_bad_pattern_is_named_with_why() {
        let err = SkuPatterns::parse(&["OK-*", "BAD-[A"]).unwrap_err();
        assert_eq!(err.pattern, "BAD-[A");
        assert!(err.to_string().starts_with("`BAD-[A` is not a SKU pattern"), "{err}");
        assert!(SkuPatterns::parse(&[" "]).is_err());
    }

    #[test]
    fn patterns_round_trip_as_a_list_of_strings() {
        let p: SkuPatterns = serde_json::from_value(serde_json::json!(["A-*", "B?"])).unwrap();
        assert_eq!(serde_json::to_value(&p).unwrap(), serde_json::json!(["A-*", "B?"]));
        assert!(serde_json::from_value::<SkuPatterns>(serde_json::json!(["{x"])).is_err());
    }
}
