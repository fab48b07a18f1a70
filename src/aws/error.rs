//! Turning AWS SDK errors into OCF outcomes.
//!
//! bad configuration (unknown ids, invalid values) → 6; missing permission
//! → 4 naming the IAM action; network, timeouts and throttling that
//! outlasted the retries → 1. The agents add which of their values was bad.

use crate::ocf::{OcfError, Rc};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Where requests go, for exit reasons: an operator debugging a failover
/// at 3 a.m. needs to see which endpoint and which proxy were used.
#[derive(Clone, Debug)]
pub struct Route {
    pub endpoint: String,
    pub proxy: Option<String>,
}

impl Route {
    pub fn describe(&self) -> String {
        match &self.proxy {
            Some(p) => format!("{} via proxy {}", self.endpoint, redact_userinfo(p)),
            None => format!("{} (no proxy)", self.endpoint),
        }
    }
}

/// Proxy URLs may carry `user:password@`; never print that.
pub fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// An error and its causes as one short line: Display texts only (the SDK's
/// Debug output carries raw HTTP responses), duplicates dropped, bounded.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !t.is_empty() && !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    let line = parts.join(": ").replace(['\n', '\r'], " ");
    const MAX: usize = 400;
    if line.chars().count() > MAX {
        format!("{}…", line.chars().take(MAX).collect::<String>())
    } else {
        line
    }
}

const PERMISSION: &[&str] = &[
    "UnauthorizedOperation",
    "AccessDenied",
    "AccessDeniedException",
];
const CREDENTIALS: &[&str] = &[
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "RequestExpired",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "IncompleteSignature",
];
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "PriorRequestNotComplete",
    "TooManyRequestsException",
];
const CONFIGURATION: &[&str] = &[
    "InvalidParameterValue",
    "InvalidParameter",
    "InvalidParameterCombination",
    "MissingParameter",
    "InvalidInput",
    "InvalidChangeBatch",
    "InvalidDomainName",
    "NoSuchHostedZone",
    "InvalidFilter",
];

/// Worth another attempt: throttling, 5xx, timeouts, connection errors.
pub fn is_transient<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(ctx) => {
            ctx.raw().status().as_u16() >= 500
                || ctx.err().code().is_some_and(|c| THROTTLING.contains(&c))
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        _ => false,
    }
}

/// Classify a failed call of IAM action `action` (e.g. `ec2:ReplaceRoute`).
pub fn classify<E>(err: SdkError<E, HttpResponse>, action: &str, route: &Route) -> OcfError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let e = ctx.err();
            let code = e.code().unwrap_or("").to_string();
            let msg = e.message().unwrap_or("").to_string();
            classify_code(action, &code, &msg, status, route)
        }
        SdkError::TimeoutError(_) => OcfError::generic(format!(
            "{action}: no answer from {} in time; check the network path to the \
             endpoint (NAT, proxy, VPC endpoint) and security groups",
            route.describe()
        )),
        SdkError::DispatchFailure(d) => OcfError::generic(format!(
            "{action}: cannot reach {}: {}; check the network path to the endpoint \
             (NAT, proxy, VPC endpoint) and security groups",
            route.describe(),
            match d.as_connector_error() {
                Some(c) => chain(c),
                None => "dispatch failure".to_string(),
            }
        )),
        other => OcfError::generic(format!(
            "{action} against {} failed: {}",
            route.describe(),
            DisplayErrorContext(&other)
        )),
    }
}

pub fn classify_code(action: &str, code: &str, msg: &str, status: u16, route: &Route) -> OcfError {
    let detail = if msg.is_empty() {
        code.to_string()
    } else {
        format!("{code}: {msg}")
    };
    if PERMISSION.contains(&code) {
        OcfError::perm(format!(
            "AWS denied {action}: allow {action} in the IAM policy of this node's \
             instance role or profile ({detail})"
        ))
    } else if CREDENTIALS.contains(&code) {
        OcfError::perm(format!(
            "AWS rejected the credentials for {action}: check the instance role, the \
             profile or AWS_* in /etc/default/pacemaker, and the clock ({detail})"
        ))
    } else if THROTTLING.contains(&code) {
        OcfError::generic(format!(
            "{action} was throttled by {} ({detail}); raise the operation timeout or \
             reduce API traffic in this account",
            route.describe()
        ))
    } else if status >= 500 {
        OcfError::generic(format!(
            "{action}: {} answered HTTP {status} ({detail}), a problem on the AWS side",
            route.describe()
        ))
    } else if CONFIGURATION.contains(&code)
        || code.ends_with(".NotFound")
        || code.ends_with(".Malformed")
    {
        OcfError::configured(format!("AWS rejected {action}: {detail}"))
    } else {
        OcfError::new(
            Rc::Generic,
            format!("{action} failed against {}: {detail}", route.describe()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Route {
        Route {
            endpoint: "https://ec2.eu-west-1.amazonaws.com".into(),
            proxy: Some("http://user:secret@proxy:3128".into()),
        }
    }

    #[test]
    fn codes_map_to_ocf() {
        let c = |code, status| classify_code("ec2:ReplaceRoute", code, "m", status, &r()).rc;
        assert_eq!(c("UnauthorizedOperation", 403), Rc::Perm);
        assert_eq!(c("AuthFailure", 401), Rc::Perm);
        assert_eq!(c("RequestLimitExceeded", 503), Rc::Generic);
        assert_eq!(c("InternalError", 500), Rc::Generic);
        assert_eq!(c("InvalidRouteTableID.NotFound", 400), Rc::Configured);
        assert_eq!(c("InvalidParameterValue", 400), Rc::Configured);
        assert_eq!(c("SomethingNew", 400), Rc::Generic);
    }

    #[test]
    fn permission_names_the_action_and_proxy_password_never_shows() {
        let e = classify_code("ec2:ReplaceRoute", "UnauthorizedOperation", "", 403, &r());
        assert!(e.reason.contains("allow ec2:ReplaceRoute"), "{}", e.reason);
        let e = classify_code("ec2:X", "Throttling", "", 400, &r());
        assert!(
            e.reason.contains("via proxy http://***@proxy:3128"),
            "{}",
            e.reason
        );
        assert!(!e.reason.contains("secret"));
    }
}
