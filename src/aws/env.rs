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

impl AwsEnv {
    pub fn from_process() -> AwsEnv {
        AwsEnv {
            region: var("AWS_REGION"),
            default_region: var("AWS_DEFAULT_REGION"),
            endpoint_url: var("AWS_ENDPOINT_URL"),
            endpoint_url_ec2: var("AWS_ENDPOINT_URL_EC2"),
            endpoint_url_route53: var("AWS_ENDPOINT_URL_ROUTE_53"),
            endpoint_url_sts: var("AWS_ENDPOINT_URL_STS"),
            imds_endpoint: crate::aws::imds::endpoint_of(
                var("AWS_EC2_METADATA_SERVICE_ENDPOINT"),
                var("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE").as_deref(),
            ),
            imds_endpoint_mode: var("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"),
            profile: var("AWS_PROFILE"),
            config_file: var("AWS_CONFIG_FILE"),
            credentials_file: var("AWS_SHARED_CREDENTIALS_FILE"),
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
            proxy: var("HTTPS_PROXY")
                .or_else(|| var("https_proxy"))
                .or_else(|| var("HTTP_PROXY"))
                .or_else(|| var("http_proxy")),
            no_proxy: var("NO_PROXY").or_else(|| var("no_proxy")),
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
