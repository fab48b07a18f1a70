//! [`Session::call`]: every AWS request of an action, bounded by the
//! action's deadline and retried as long as a retry has a chance to finish.

use super::classify::{self, Retry};
use super::error::{Kind, Result};
use super::session::{Service, Session};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::future::Future;
use std::time::{Duration, Instant};

impl Session {
    /// Run one API call of IAM action `action` (`make` builds and sends the
    /// request), retrying throttling, 5xx, timeouts and connection errors
    /// with exponential backoff and full jitter for as long as the deadline
    /// allows, renewing expired credentials, and giving an id AWS does not
    /// know a short grace (EC2 reads are eventually consistent: an id just
    /// created, or a route just written, may not be visible yet). Anything
    /// else fails at once. The retries are ours rather than the SDK's so
    /// that the deadline bounds them and the error can say what the last
    /// attempt got.
    pub(crate) async fn call<T, E, F, Fut>(
        &self,
        service: Service,
        action: &'static str,
        make: F,
    ) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Request<T, E>,
        E: OperationError,
    {
        self.call_with(service, action, NOT_FOUND_GRACE, make).await
    }

    /// [`call`](Self::call) with another grace for unknown ids: zero where
    /// "not found" is an answer the caller expects ([`NO_GRACE`]).
    pub(crate) async fn call_with<T, E, F, Fut>(
        &self,
        service: Service,
        action: &'static str,
        not_found_grace: Duration,
        make: F,
    ) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Request<T, E>,
        E: OperationError,
    {
        self.retrying(service, action, not_found_grace, || async {
            make()
                .await
                .map_err(|e| classify::classify(&e, action, &self.route(service)))
        })
        .await
    }

    /// The retry loop of [`call_with`](Self::call_with), for any attempt
    /// that says how it failed and whether that is worth retrying (an
    /// AssumeRole through aws-config's provider too).
    pub(super) async fn retrying<T, F, Fut>(
        &self,
        service: Service,
        action: &'static str,
        not_found_grace: Duration,
        attempt: F,
    ) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = std::result::Result<T, (super::Error, Retry)>>,
    {
        let started = Instant::now();
        let mut backoff = Duration::from_millis(100);
        let mut attempts = 0u32;
        let mut renewed = false;
        let last = loop {
            attempts += 1;
            let left = self.deadline.remaining();
            log::debug!("{action} attempt {attempts} ({left:?} left)");
            let failure = match tokio::time::timeout(left, attempt()).await {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err((err, retry))) => match retry {
                    Retry::No => return Err(err),
                    Retry::Briefly if started.elapsed() >= not_found_grace => return Err(err),
                    Retry::Refresh if !renewed => {
                        renewed = true;
                        log::info!("{action}: credentials expired, renewing them");
                        if let Err(e) = self.creds.renew().await {
                            log::warn!("{e}");
                        }
                        continue;
                    }
                    _ => err,
                },
                Err(_) => Kind::TimedOut {
                    action,
                    route: self.route(service),
                }
                .into(),
            };
            // Full jitter, so that nodes retrying at once do not hit the API in lockstep.
            let pause = crate::core::deadline::jitter(Duration::from_millis(10), backoff);
            // Another attempt only if it has a fair chance to finish in time.
            if self.deadline.remaining() <= pause + Duration::from_millis(250) {
                break failure;
            }
            log::debug!("{action}: {failure} — retrying in {pause:?}");
            tokio::time::sleep(pause).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        };
        Err(last.gave_up(attempts, started.elapsed().as_secs_f64()))
    }
}

/// A sent SDK request, as [`Session::call`] awaits it.
pub(crate) trait Request<T, E>:
    Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>
{
}
impl<T, E, F> Request<T, E> for F where
    F: Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>
{
}

/// The error of one SDK operation (it carries AWS's code and message).
pub(crate) trait OperationError:
    ProvideErrorMetadata + std::error::Error + Send + Sync + 'static
{
}
impl<E> OperationError for E where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static
{
}

/// How long an id AWS does not know is asked about again before it counts
/// as wrong: EC2 documents eventual consistency of seconds at most, and a
/// genuinely wrong id should still fail a start quickly.
const NOT_FOUND_GRACE: Duration = Duration::from_millis(1500);

/// For requests where "not found" is an expected answer (an association
/// someone else already removed): no grace.
pub(crate) const NO_GRACE: Duration = Duration::ZERO;
