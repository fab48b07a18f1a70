//! Route 53 operations the dns agent uses. Route 53 allows 5 requests per
//! second per account: callers keep to the minimum (one list, one change,
//! then GetChange polls with backoff), and throttling is retried by the SDK.

use super::error::{Error, Kind, Result};
use super::{Service, Session};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use aws_sdk_route53::Client;
use std::time::Duration;

fn client(s: &Session) -> Client {
    s.route53()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// Lowercase, no trailing dot.
    pub name: String,
    pub private: bool,
    /// (VPC id, region) of every VPC a private zone is associated with.
    pub vpcs: Vec<(String, String)>,
}

/// `Ok(None)` when there is no such hosted zone.
pub fn hosted_zone(s: &Session, zone_id: &str) -> Result<Option<Zone>> {
    let c = client(s);
    s.block_on(async {
        match s
            .call(Service::Route53, "route53:GetHostedZone", || {
                c.get_hosted_zone().id(zone_id).send()
            })
            .await
        {
            Ok(r) => Ok(r.hosted_zone().map(|z| Zone {
                name: z.name().trim_end_matches('.').to_ascii_lowercase(),
                private: z.config().map(|c| c.private_zone()).unwrap_or(false),
                vpcs: r
                    .vpcs()
                    .iter()
                    .map(|v| {
                        (
                            v.vpc_id().unwrap_or_default().to_string(),
                            v.vpc_region()
                                .map(|r| r.as_str().to_string())
                                .unwrap_or_default(),
                        )
                    })
                    .collect(),
            })),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    })
}

/// The A (or AAAA) record set of `name`, as Route 53 holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ARecord {
    pub ttl: Option<i64>,
    pub values: Vec<String>,
    /// Alias, weighted, latency… records are not ours to manage.
    pub special: Option<String>,
}

/// The record type of an address family: A, or AAAA for IPv6.
fn rr_type(ipv6: bool) -> RrType {
    if ipv6 {
        RrType::Aaaa
    } else {
        RrType::A
    }
}

/// One ListResourceRecordSets call starting at exactly (name, A), or
/// (name, AAAA) with `ipv6`.
pub fn a_record(s: &Session, zone_id: &str, name: &str, ipv6: bool) -> Result<Option<ARecord>> {
    let c = client(s);
    let fqdn = format!("{name}.");
    let rtype = rr_type(ipv6);
    s.block_on(async {
        let resp = s
            .call(Service::Route53, "route53:ListResourceRecordSets", || {
                c.list_resource_record_sets()
                    .hosted_zone_id(zone_id)
                    .start_record_name(&fqdn)
                    .start_record_type(rtype.clone())
                    .max_items(1)
                    .send()
            })
            .await
            .map_err(|e| zone_context(e, zone_id))?;
        let Some(rr) = resp.resource_record_sets().first() else {
            return Ok(None);
        };
        if !rr.name().trim_end_matches('.').eq_ignore_ascii_case(name) || rr.r#type() != &rtype {
            return Ok(None);
        }
        let special = if rr.alias_target().is_some() {
            Some("an alias record".to_string())
        } else {
            rr.set_identifier()
                .map(|id| format!("a routing-policy record (set identifier {id})"))
        };
        Ok(Some(ARecord {
            ttl: rr.ttl(),
            values: rr
                .resource_records()
                .iter()
                .map(|r| r.value().to_string())
                .collect(),
            special,
        }))
    })
}

fn zone_context(e: Error, zone_id: &str) -> Error {
    if e.code() == Some("NoSuchHostedZone") {
        e.context(format!(
            "hosted_zone_id={zone_id} does not exist: correct hosted_zone_id"
        ))
    } else {
        e
    }
}

/// Route 53 refuses a change to a name outside the zone with
/// InvalidChangeBatch "... is not permitted in zone ...": its message is
/// the only signal, so it is read here, once, into a typed error (rather
/// than a GetHostedZone call on every start).
fn outside_zone(e: Error, name: &str, zone_id: &str) -> Error {
    let answer = match &*e.kind {
        Kind::Invalid { answer, .. }
            if answer.code == "InvalidChangeBatch"
                && answer.message.contains("not permitted in zone") =>
        {
            answer.clone()
        }
        _ => return e,
    };
    Kind::OutsideZone {
        name: name.to_string(),
        zone_id: zone_id.to_string(),
        answer,
    }
    .into()
}

fn building(what: impl std::fmt::Display) -> Error {
    Kind::Local(format!("building the Route 53 change: {what}")).into()
}

fn rrset(name: &str, ttl: i64, values: &[String], ipv6: bool) -> Result<ResourceRecordSet> {
    let records = values
        .iter()
        .map(|v| ResourceRecord::builder().value(v).build())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(building)?;
    ResourceRecordSet::builder()
        .name(format!("{name}."))
        .r#type(rr_type(ipv6))
        .ttl(ttl)
        .set_resource_records(Some(records))
        .build()
        .map_err(building)
}

/// UPSERT or DELETE one A record (AAAA when the values are IPv6
/// addresses); returns the change id.
pub fn change(
    s: &Session,
    zone_id: &str,
    action: ChangeKind,
    name: &str,
    ttl: i64,
    values: &[String],
) -> Result<String> {
    let c = client(s);
    let ipv6 = values.iter().any(|v| v.contains(':'));
    let set = rrset(name, ttl, values, ipv6)?;
    let change = Change::builder()
        .action(match action {
            ChangeKind::Upsert => ChangeAction::Upsert,
            ChangeKind::Delete => ChangeAction::Delete,
        })
        .resource_record_set(set)
        .build()
        .map_err(building)?;
    let batch = ChangeBatch::builder()
        .comment(format!("ocf-aws dns {}", std::process::id()))
        .changes(change)
        .build()
        .map_err(building)?;
    s.block_on(async {
        let resp = s
            .call(Service::Route53, "route53:ChangeResourceRecordSets", || {
                c.change_resource_record_sets()
                    .hosted_zone_id(zone_id)
                    .change_batch(batch.clone())
                    .send()
            })
            .await
            .map_err(|e| outside_zone(zone_context(e, zone_id), name, zone_id))?;
        Ok(resp
            .change_info()
            .map(|i| i.id().to_string())
            .unwrap_or_default())
    })
}

#[derive(Clone, Copy, Debug)]
pub enum ChangeKind {
    Upsert,
    Delete,
}

/// Poll GetChange with backoff until INSYNC, within the deadline. Route 53
/// takes up to about a minute to reach all its authoritative servers.
pub fn wait_insync(s: &Session, change_id: &str) -> Result<()> {
    let c = client(s);
    let deadline = s.deadline();
    s.block_on(async {
        let mut delay = Duration::from_millis(250);
        let mut polls = 0u32;
        loop {
            polls += 1;
            let status = s
                .call(Service::Route53, "route53:GetChange", || {
                    c.get_change().id(change_id).send()
                })
                .await?
                .change_info()
                .map(|i| i.status().as_str().to_string())
                .unwrap_or_default();
            if status == "INSYNC" {
                log::debug!("change {change_id} INSYNC after {polls} poll(s)");
                return Ok(());
            }
            // Sleep only if there will be time to ask again afterwards.
            if deadline.remaining() <= delay + Duration::from_millis(500) {
                return Err(Kind::NotInSync {
                    status,
                    polls,
                    change_id: change_id.to_string(),
                }
                .into());
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    })
}
