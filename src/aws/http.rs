//! The HTTP client of the API: proxy, NO_PROXY, TLS or plain HTTP.

use super::env::AwsEnv;
use super::error::{redact_userinfo, Result};
use super::imds::Imds;
use crate::core::Invalid;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// Through `proxy` if set (instance metadata, used by the SDK for
/// instance-role credentials, is always exempt); without TLS when the
/// endpoint is plain http (a test world, an HTTP proxy's own endpoint),
/// which spares loading and parsing the system's root certificates on
/// every action.
pub(crate) fn client(
    proxy: Option<&str>,
    endpoint: Option<&str>,
    env: &AwsEnv,
    imds: &Imds,
) -> Result<SharedHttpClient> {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    use aws_smithy_http_client::{Builder, Connector};
    let plain = endpoint.is_some_and(|e| e.starts_with("http://"))
        && proxy.is_none_or(|p| p.starts_with("http://"));
    let cfg = match proxy {
        None => ProxyConfig::disabled(),
        Some(proxy) => proxy_config(proxy, env, imds)?,
    };
    Ok(
        Builder::new().build_with_connector_fn(move |settings, components| {
            let mut b = Connector::builder().proxy_config(cfg.clone());
            b.set_connector_settings(settings.cloned());
            if let Some(c) = components {
                b.set_sleep_impl(c.sleep_impl());
            }
            if plain {
                b.build_http()
            } else {
                b.tls_provider(Provider::Rustls(CryptoMode::AwsLc)).build()
            }
        }),
    )
}

/// All requests through `proxy`, except instance metadata (its well-known
/// addresses and the configured endpoint's host) and `NO_PROXY`.
fn proxy_config(proxy: &str, env: &AwsEnv, imds: &Imds) -> Result<ProxyConfig> {
    let imds_host = imds
        .endpoint()
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|hp| {
            hp.rsplit_once(':')
                .map(|(h, _)| h.to_string())
                .or(Some(hp.to_string()))
        })
        .unwrap_or_default();
    let mut no_proxy = vec![
        "169.254.169.254".to_string(),
        "fd00:ec2::254".to_string(),
        imds_host,
    ];
    if let Some(n) = &env.no_proxy {
        no_proxy.push(n.clone());
    }
    Ok(ProxyConfig::all(proxy)
        .map_err(|e| {
            Invalid(format!(
                "proxy '{}' is not usable: {e}",
                redact_userinfo(proxy)
            ))
        })?
        .no_proxy(no_proxy.join(",")))
}
