//! Where a session's region comes from: the parameter, AWS_REGION or
//! AWS_DEFAULT_REGION, the profile, or the instance metadata, in that
//! order (the AWS CLI's order, with the instance last).

use super::env::AwsEnv;
use super::error::{Kind, Result};
use super::imds::{self, Imds};
use super::options::{check_region, AwsOptions};

/// Where the region of a session came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionSource {
    Parameter,
    AwsRegion,
    AwsDefaultRegion,
    Profile,
    InstanceMetadata,
}

impl RegionSource {
    pub fn describe(self) -> &'static str {
        match self {
            RegionSource::Parameter => "parameter region",
            RegionSource::AwsRegion => "AWS_REGION",
            RegionSource::AwsDefaultRegion => "AWS_DEFAULT_REGION",
            RegionSource::Profile => "the profile",
            RegionSource::InstanceMetadata => "instance metadata placement/region",
        }
    }
}

/// The region from the parameter or the environment, if set there.
pub(super) fn region_without_profile(
    opts: &AwsOptions,
    env: &AwsEnv,
) -> Result<Option<(String, RegionSource)>> {
    if let Some(r) = &opts.region {
        return Ok(Some((r.clone(), RegionSource::Parameter)));
    }
    for (v, source) in [
        (&env.region, RegionSource::AwsRegion),
        (&env.default_region, RegionSource::AwsDefaultRegion),
    ] {
        if let Some(r) = v {
            check_region(r).map_err(|e| {
                crate::core::Invalid(format!("AWS_REGION/AWS_DEFAULT_REGION: {}", e.0))
            })?;
            return Ok(Some((r.clone(), source)));
        }
    }
    Ok(None)
}

pub(super) fn region_from_imds(imds: &Imds) -> Result<(String, RegionSource)> {
    imds::Instance::new(imds)
        .region()
        .map(|r| (r, RegionSource::InstanceMetadata))
        .map_err(|e| Kind::NoRegion(e).into())
}

pub(super) async fn region_from_profile(
    opts: &AwsOptions,
    files: &Option<aws_runtime::env_config::file::EnvConfigFiles>,
) -> Option<String> {
    use aws_config::meta::region::ProvideRegion;
    let mut b = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(f) = files {
        b = b.profile_files(f.clone());
    }
    if let Some(p) = &opts.profile {
        b = b.profile_name(p);
    }
    b.build().region().await.map(|r| r.to_string())
}
