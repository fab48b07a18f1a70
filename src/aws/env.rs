//! The AWS-related process environment, read once. Both personalities
//! (OCF agents, the fence agent) run under daemons that pass whatever
//! /etc/default/pacemaker sets: proxies and `AWS_*`. The SDK reads others
//! (credentials, AWS_CONFIG_FILE, …) itself; these are the ones we name in
//! exit reasons or resolve in our own order.

#[derive(Clone, Debug, Default)]
pub struct AwsEnv {
    pub region: Option<String>,
    pub default_region: Option<String>,
    pub endpoint_url: Option<String>,
    pub endpoint_url_ec2: Option<String>,
    pub endpoint_url_route53: Option<String>,
    pub endpoint_url_sts: Option<String>,
    /// The metadata endpoint as the AWS SDKs resolve it:
    /// AWS_EC2_METADATA_SERVICE_ENDPOINT, else the IPv6 address when
    /// AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is IPv6 (`None`: IPv4).
    pub imds_endpoint: Option<String>,
    /// AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE as set (checked by `Imds::from_env`).
    pub imds_endpoint_mode: Option<String>,
    pub profile: Option<String>,
    pub config_file: Option<String>,
    pub credentials_file: Option<String>,
    pub access_key_set: bool,
    /// Web identity or container credentials are configured
    /// (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_CONTAINER_CREDENTIALS_*).
    pub other_credential_source: bool,
    /// Endpoint variants that only the SDK's full configuration loader
    /// reads (AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT).
    pub endpoint_variant: bool,
    pub home: Option<String>,
    /// HTTPS_PROXY, then HTTP_PROXY (either case), as the AWS CLI reads them.
    pub proxy: Option<String>,
    pub no_proxy: Option<String>,
    /// This node's name, for the session name of an assumed role (so that
    /// CloudTrail tells the nodes apart): Pacemaker's name for it
    /// (OCF_RESKEY_CRM_meta_on_node), else the kernel's host name.
    pub node_name: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Where Pacemaker's daemons read the environment they give the agents:
/// Debian's file, then the RHEL/SUSE one (OCF_AWS_PACEMAKER_ENV names
/// another, for a test or an unusual layout).
const PACEMAKER_ENV: &[&str] = &["/etc/default/pacemaker", "/etc/sysconfig/pacemaker"];

/// The AWS and proxy settings of Pacemaker's environment file, for a run
/// that Pacemaker's daemons did not start: pcs 0.12 validates a new device
/// or resource by running the agent with an empty environment, and a human
/// runs it from a shell. Under the daemons the file adds nothing (they
/// loaded it), so every caller sees the same endpoint and proxy.
fn pacemaker_env() -> &'static std::collections::BTreeMap<String, String> {
    static FILE: std::sync::OnceLock<std::collections::BTreeMap<String, String>> =
        std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let paths: Vec<String> = match var("OCF_AWS_PACEMAKER_ENV") {
            Some(p) => vec![p],
            None => PACEMAKER_ENV.iter().map(|p| p.to_string()).collect(),
        };
        paths
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
            .map(|text| parse_env_file(&text))
            .unwrap_or_default()
    })
}

/// `KEY=value` lines as a sysconfig file has them (`export`, quotes,
/// comments); anything more shell than that is not a setting we read.
fn parse_env_file(text: &str) -> std::collections::BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("export ").unwrap_or(l).trim_start();
            if l.starts_with('#') {
                return None;
            }
            let (k, v) = l.split_once('=')?;
            if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None;
            }
            let v = v.trim();
            let v = match (v.chars().next(), v.chars().last()) {
                (Some(q @ ('"' | '\'')), Some(e)) if q == e && v.len() >= 2 => &v[1..v.len() - 1],
                _ => v.split(" #").next().unwrap_or(v).trim(),
            };
            (!v.is_empty()).then(|| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// A setting from the process environment, else from Pacemaker's file.
fn setting(name: &str) -> Option<String> {
    var(name).or_else(|| pacemaker_env().get(name).cloned())
}

impl AwsEnv {
    pub fn from_process() -> AwsEnv {
        AwsEnv {
            region: setting("AWS_REGION"),
            default_region: setting("AWS_DEFAULT_REGION"),
            endpoint_url: setting("AWS_ENDPOINT_URL"),
            endpoint_url_ec2: setting("AWS_ENDPOINT_URL_EC2"),
            endpoint_url_route53: setting("AWS_ENDPOINT_URL_ROUTE_53"),
            endpoint_url_sts: setting("AWS_ENDPOINT_URL_STS"),
            imds_endpoint: crate::aws::imds::endpoint_of(
                setting("AWS_EC2_METADATA_SERVICE_ENDPOINT"),
                setting("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE").as_deref(),
            ),
            imds_endpoint_mode: setting("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"),
            profile: setting("AWS_PROFILE"),
            config_file: setting("AWS_CONFIG_FILE"),
            credentials_file: setting("AWS_SHARED_CREDENTIALS_FILE"),
            access_key_set: var("AWS_ACCESS_KEY_ID").is_some(),
            other_credential_source: [
                "AWS_WEB_IDENTITY_TOKEN_FILE",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            ]
            .iter()
            .any(|v| var(v).is_some()),
            endpoint_variant: ["AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"]
                .iter()
                .any(|v| var(v).is_some()),
            home: var("HOME"),
            proxy: setting("HTTPS_PROXY")
                .or_else(|| setting("https_proxy"))
                .or_else(|| setting("HTTP_PROXY"))
                .or_else(|| setting("http_proxy")),
            no_proxy: setting("NO_PROXY").or_else(|| setting("no_proxy")),
            node_name: var("OCF_RESKEY_CRM_meta_on_node").or_else(|| {
                std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .ok()
                    .map(|h| h.trim().to_string())
                    .filter(|h| !h.is_empty())
            }),
        }
    }

    /// The shared config and credentials files the SDK reads, with
    /// Pacemaker's missing HOME meaning /root (see `credentials`).
    pub fn profile_paths(&self) -> (String, String) {
        let home = self.home.clone().unwrap_or_else(|| "/root".into());
        (
            self.config_file
                .clone()
                .unwrap_or(format!("{home}/.aws/config")),
            self.credentials_file
                .clone()
                .unwrap_or(format!("{home}/.aws/credentials")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::parse_env_file;

    #[test]
    fn pacemaker_env_file_as_sysconfig_writes_it() {
        let m = parse_env_file(
            "# comment\nPCMK_logfile=/var/log/p.log\nexport AWS_REGION=eu-west-1\n\
             HTTPS_PROXY=\"http://proxy:3128\"\nNO_PROXY='169.254.169.254'\n\
             AWS_PROFILE=ha # the cluster's\n#AWS_ENDPOINT_URL=http://x\nEMPTY=\nnot a line\n",
        );
        assert_eq!(m["AWS_REGION"], "eu-west-1");
        assert_eq!(m["HTTPS_PROXY"], "http://proxy:3128");
        assert_eq!(m["NO_PROXY"], "169.254.169.254");
        assert_eq!(m["AWS_PROFILE"], "ha");
        assert!(!m.contains_key("AWS_ENDPOINT_URL") && !m.contains_key("EMPTY"));
    }
}
