//! AWS SDK errors into typed [`Error`]s: which answer codes mean what,
//! and which failures are worth another attempt within the deadline.

use super::error::{chain, Answer, Error, Kind, Route};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

const PERMISSION: &[&str] = &[
    "UnauthorizedOperation",
    "AccessDenied",
    "AccessDeniedException",
];
const CREDENTIALS: &[&str] = &[
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "IncompleteSignature",
];
const CLOCK: &[&str] = &["RequestExpired", "RequestTimeTooSkewed"];
const EXPIRED: &[&str] = &["ExpiredToken", "ExpiredTokenException"];
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
    "InvalidFilter",
];
const NOT_FOUND: &[&str] = &["NoSuchHostedZone", "NoSuchChange", "InvalidAddress"];

/// Whether a failure is worth another attempt in the same action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    No,
    /// Throttling, 5xx, timeouts, connection errors.
    Backoff,
    /// The session token expired: new credentials, then again.
    Refresh,
    /// An id AWS does not know (yet: reads are eventually consistent).
    Briefly,
}

/// Classify a failed call of IAM action `action` (e.g. `ec2:ReplaceRoute`),
/// and say whether it is worth retrying.
pub(crate) fn classify<E>(
    err: &SdkError<E, HttpResponse>,
    action: &'static str,
    route: &Route,
) -> (Error, Retry)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let e = ctx.err();
            let answer = Answer {
                code: e.code().unwrap_or("").to_string(),
                message: e.message().unwrap_or("").to_string(),
            };
            classify_answer(action, answer, status, route)
        }
        SdkError::TimeoutError(_) => (
            Kind::TimedOut {
                action,
                route: route.clone(),
            }
            .into(),
            Retry::Backoff,
        ),
        SdkError::DispatchFailure(d) => (
            Kind::Unreachable {
                action,
                route: route.clone(),
                detail: match d.as_connector_error() {
                    Some(c) => chain(c),
                    None => "dispatch failure".to_string(),
                },
            }
            .into(),
            Retry::Backoff,
        ),
        e @ SdkError::ResponseError(_) => (
            Kind::Failed {
                action,
                route: route.clone(),
                detail: DisplayErrorContext(e).to_string(),
            }
            .into(),
            Retry::Backoff,
        ),
        other => (
            Kind::Failed {
                action,
                route: route.clone(),
                detail: DisplayErrorContext(other).to_string(),
            }
            .into(),
            Retry::No,
        ),
    }
}

pub(crate) fn classify_answer(
    action: &'static str,
    answer: Answer,
    status: u16,
    route: &Route,
) -> (Error, Retry) {
    let code = answer.code.as_str();
    let (kind, retry) = if code == "DryRunOperation" {
        (Kind::DryRunPassed { action }, Retry::No)
    } else if PERMISSION.contains(&code) {
        (
            Kind::Denied {
                action,
                answer,
                role: route.role.clone(),
            },
            Retry::No,
        )
    } else if CLOCK.contains(&code) {
        (Kind::ClockSkew { action, answer }, Retry::No)
    } else if EXPIRED.contains(&code) {
        (Kind::CredentialsExpired { action, answer }, Retry::Refresh)
    } else if CREDENTIALS.contains(&code) {
        (Kind::CredentialsRejected { action, answer }, Retry::No)
    } else if THROTTLING.contains(&code) {
        (
            Kind::Throttled {
                action,
                route: route.clone(),
                answer,
            },
            Retry::Backoff,
        )
    } else if status >= 500 {
        (
            Kind::ServerError {
                action,
                route: route.clone(),
                status,
                answer,
            },
            Retry::Backoff,
        )
    } else if code.ends_with(".NotFound") || NOT_FOUND.contains(&code) {
        (Kind::NotFound { action, answer }, Retry::Briefly)
    } else if code == "InvalidIPAddress.InUse" {
        (Kind::AddressInUse { action, answer }, Retry::No)
    } else if CONFIGURATION.contains(&code) || code.ends_with(".Malformed") {
        (Kind::Invalid { action, answer }, Retry::No)
    } else {
        (
            Kind::Failed {
                action,
                route: route.clone(),
                detail: answer.detail(),
            },
            Retry::No,
        )
    };
    (kind.into(), retry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::error::Class;

    fn r() -> Route {
        Route {
            endpoint: "https://ec2.eu-west-1.amazonaws.com".into(),
            proxy: Some("http://user:secret@proxy:3128".into()),
            role: None,
        }
    }

    fn answer(code: &str, status: u16) -> (Error, Retry) {
        classify_answer(
            "ec2:ReplaceRoute",
            Answer {
                code: code.into(),
                message: "m".into(),
            },
            status,
            &r(),
        )
    }

    #[test]
    fn codes_map_to_classes() {
        let c = |code, status| answer(code, status).0.class();
        assert_eq!(c("UnauthorizedOperation", 403), Class::Permission);
        assert_eq!(c("AuthFailure", 401), Class::Permission);
        assert_eq!(c("RequestExpired", 400), Class::ThisNode);
        assert_eq!(c("ExpiredToken", 400), Class::Transient);
        assert_eq!(c("RequestLimitExceeded", 503), Class::Transient);
        assert_eq!(c("InternalError", 500), Class::Transient);
        assert_eq!(c("InvalidRouteTableID.NotFound", 400), Class::Configuration);
        assert_eq!(c("InvalidParameterValue", 400), Class::Configuration);
        assert_eq!(c("SomethingNew", 400), Class::Transient);
        let in_use = answer("InvalidIPAddress.InUse", 400).0;
        assert!(in_use.is_address_in_use() && in_use.class() == Class::Transient);
        assert_eq!(in_use.code(), Some("InvalidIPAddress.InUse"));
    }

    #[test]
    fn retries_by_kind() {
        assert_eq!(answer("Throttling", 400).1, Retry::Backoff);
        assert_eq!(answer("ExpiredToken", 400).1, Retry::Refresh);
        assert_eq!(
            answer("InvalidRouteTableID.NotFound", 400).1,
            Retry::Briefly
        );
        assert_eq!(answer("UnauthorizedOperation", 403).1, Retry::No);
    }

    #[test]
    fn permission_names_the_action_and_proxy_password_never_shows() {
        let e = answer("UnauthorizedOperation", 403).0;
        assert!(e.to_string().contains("allow ec2:ReplaceRoute"), "{e}");
        let e = answer("Throttling", 400).0;
        assert!(
            e.to_string().contains("via proxy http://***@proxy:3128"),
            "{e}"
        );
        assert!(!e.to_string().contains("secret"));
    }

    #[test]
    fn the_fix_comes_before_the_transport_detail() {
        let e: Error = Kind::Unreachable {
            action: "ec2:DescribeRouteTables",
            route: r(),
            detail: "io error: client error (Connect): tcp connect error: Connection refused"
                .into(),
        }
        .into();
        let text = e.to_string();
        let first: String = text.chars().take(128).collect();
        assert!(first.contains("check the network path"), "{first}");
        assert!(!text.contains("secret"), "{text}");
    }
}
