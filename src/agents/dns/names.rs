//! Record names and hosted zone ids as Route 53 takes them.

use crate::core::params::shorten;
use crate::ocf::{OcfError, OcfResult};

/// Lowercase, without the trailing dot, every label valid.
pub fn normalise_name(raw: &str) -> OcfResult<String> {
    let n = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = |why: &str| {
        OcfError::configured(format!(
            "name='{}' {why}: set name to a fully qualified domain name such as \
             db.example.internal",
            shorten(raw)
        ))
    };
    if n.is_empty() || n.len() > 253 {
        return Err(bad("is not a valid length"));
    }
    if !n.contains('.') {
        return Err(bad("is not fully qualified"));
    }
    for label in n.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(bad(&format!(
                "has an invalid label '{}'",
                label.escape_debug()
            )));
        }
    }
    Ok(n)
}

pub fn normalise_zone_id(raw: &str) -> OcfResult<String> {
    let z = raw.trim().trim_start_matches("/hostedzone/");
    if !z.is_empty()
        && z.len() <= 32
        && z.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        Ok(z.to_string())
    } else {
        Err(OcfError::configured(format!(
            "hosted_zone_id='{}' is not a hosted zone id: set it like Z0123456789ABCDEFGHIJ \
             (aws route53 list-hosted-zones)",
            shorten(raw)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise() {
        assert_eq!(
            normalise_name("DB.Example.Internal.").unwrap(),
            "db.example.internal"
        );
        assert!(normalise_name("db").is_err());
        assert!(normalise_name("a..b").is_err());
        assert!(normalise_name("-a.b").is_err());
        assert!(normalise_name(&format!("{}.example", "a".repeat(64))).is_err());
        assert!(normalise_name("ünï.example").is_err());
    }

    #[test]
    fn zone_ids() {
        assert_eq!(normalise_zone_id("/hostedzone/Z123ABC").unwrap(), "Z123ABC");
        assert!(normalise_zone_id("z123").is_err());
        assert!(normalise_zone_id("").is_err());
    }
}
