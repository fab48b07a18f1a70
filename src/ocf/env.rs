//! The only place that reads the process environment.
//!
//! Pacemaker passes parameters as `OCF_RESKEY_<name>`, meta attributes as
//! `OCF_RESKEY_CRM_meta_<name>`, the monitor depth as `OCF_CHECK_LEVEL`, and
//! whatever /etc/default/pacemaker sets (proxies, AWS_*, read by
//! [`AwsEnv`]). Everything is read once into [`OcfEnv`] so the rest of the
//! program is a function of that value.

use crate::aws::env::AwsEnv;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Debug, Default)]
pub struct OcfEnv {
    /// `OCF_RESKEY_<name>` for every instance parameter set in the CIB.
    pub reskeys: BTreeMap<String, String>,
    /// `OCF_RESKEY_CRM_meta_timeout`, the hard limit Pacemaker enforces.
    pub timeout: Option<Duration>,
    /// `OCF_RESKEY_CRM_meta_interval`; absent or 0 means a probe.
    pub interval: Option<Duration>,
    /// Raw `OCF_CHECK_LEVEL` (validated later against the agent's depths).
    pub check_level: Option<String>,
    pub exit_reason_prefix: String,
    pub resource_instance: Option<String>,
    pub on_node: Option<String>,
    pub debug: bool,
    pub log_facility: Option<String>,
    pub aws: AwsEnv,
    /// Base of the agents' run directory (`HA_RSCTMP`, as resource-agents).
    pub rsctmp: Option<String>,
    /// `OCF_RESKEY_CRM_meta_ocf_aws_adopt` is set: the meta attribute
    /// `ocf-aws migrate` puts on the probe operation of a resource it holds
    /// for its switch (`Ctx::adopting`).
    pub adopt: bool,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn millis(v: Option<String>) -> Option<Duration> {
    v.and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
}

impl OcfEnv {
    pub fn from_process() -> Self {
        const META: &str = "OCF_RESKEY_CRM_meta_";
        let mut reskeys = BTreeMap::new();
        for (k, v) in std::env::vars_os() {
            let (Some(k), Some(v)) = (k.to_str(), v.to_str()) else {
                continue;
            };
            if let Some(name) = k.strip_prefix("OCF_RESKEY_") {
                if !k.starts_with(META) && name != "crm_feature_set" {
                    reskeys.insert(name.to_string(), v.to_string());
                }
            }
        }
        OcfEnv {
            reskeys,
            timeout: millis(var("OCF_RESKEY_CRM_meta_timeout")).filter(|d| !d.is_zero()),
            interval: millis(var("OCF_RESKEY_CRM_meta_interval")),
            check_level: var("OCF_CHECK_LEVEL"),
            exit_reason_prefix: var("OCF_EXIT_REASON_PREFIX")
                .unwrap_or_else(|| "ocf-exit-reason:".to_string()),
            resource_instance: var("OCF_RESOURCE_INSTANCE"),
            on_node: var("OCF_RESKEY_CRM_meta_on_node"),
            debug: matches!(
                var("HA_debug").as_deref(),
                Some("1") | Some("yes") | Some("true")
            ),
            log_facility: var("HA_LOGFACILITY").filter(|f| f != "none"),
            aws: AwsEnv::from_process(),
            rsctmp: var("HA_RSCTMP"),
            adopt: var("OCF_RESKEY_CRM_meta_ocf_aws_adopt").is_some(),
        }
    }

    /// A probe is a monitor without an interval. Probes must never change
    /// anything: Pacemaker runs them on every node, including the ones that
    /// are not supposed to hold the resource.
    pub fn is_probe(&self) -> bool {
        self.interval.is_none_or(|i| i.is_zero())
    }

    /// Where agents keep per-resource state (tmpfs: gone after a reboot,
    /// exactly like the resource itself).
    pub fn run_dir(&self) -> std::path::PathBuf {
        let base = self.rsctmp.as_deref().unwrap_or("/run/resource-agents");
        std::path::Path::new(base).join("ocf-aws")
    }
}
