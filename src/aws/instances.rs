//! EC2 instances as fencing sees them: their state, found by id or by a
//! tag; stop and start. Each function names the IAM action it needs.

use super::error::Result;
use super::{Service, Session};
use aws_sdk_ec2::types::{Filter, InstanceStateName};

/// An instance's lifecycle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Pending,
    Running,
    Stopping,
    Stopped,
    ShuttingDown,
    Terminated,
    Unknown,
}

impl State {
    fn of(s: Option<&InstanceStateName>) -> State {
        match s {
            Some(InstanceStateName::Pending) => State::Pending,
            Some(InstanceStateName::Running) => State::Running,
            Some(InstanceStateName::Stopping) => State::Stopping,
            Some(InstanceStateName::Stopped) => State::Stopped,
            Some(InstanceStateName::ShuttingDown) => State::ShuttingDown,
            Some(InstanceStateName::Terminated) => State::Terminated,
            _ => State::Unknown,
        }
    }

    /// Powered off for fencing: nothing runs on it any more. A stopping or
    /// shutting-down instance is not off yet (it may still write).
    pub fn is_off(self) -> bool {
        matches!(self, State::Stopped | State::Terminated)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Running => "running",
            State::Stopping => "stopping",
            State::Stopped => "stopped",
            State::ShuttingDown => "shutting-down",
            State::Terminated => "terminated",
            State::Unknown => "unknown",
        }
    }
}

/// One instance: its id, state, and the value of the tag asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub state: State,
    pub tag: Option<String>,
}

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .build()
}

/// DescribeInstances with `filters`, every page. Filters (rather than
/// InstanceIds) because an unknown id is then absent from the answer
/// instead of failing the whole request.
fn describe(s: &Session, filters: Vec<Filter>, tag: Option<&str>) -> Result<Vec<Instance>> {
    let c = s.ec2();
    s.block_on(async {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let req = c
                .describe_instances()
                .set_filters(Some(filters.clone()))
                .set_next_token(next.take());
            let resp = s
                .call(Service::Ec2, "ec2:DescribeInstances", || req.clone().send())
                .await?;
            for r in resp.reservations() {
                for i in r.instances() {
                    out.push(Instance {
                        id: i.instance_id().unwrap_or_default().to_string(),
                        state: State::of(i.state().and_then(|st| st.name())),
                        tag: tag.and_then(|k| {
                            i.tags()
                                .iter()
                                .find(|t| t.key() == Some(k))
                                .and_then(|t| t.value().map(str::to_string))
                        }),
                    });
                }
            }
            match resp.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    })
}

/// The instances among `ids` that exist (one DescribeInstances).
pub fn by_ids(s: &Session, ids: &[&str], tag: Option<&str>) -> Result<Vec<Instance>> {
    describe(s, vec![filter("instance-id", ids)], tag)
}

/// The instances whose tag `key` is `value`.
pub fn by_tag(s: &Session, key: &str, value: &str) -> Result<Vec<Instance>> {
    describe(s, vec![filter(&format!("tag:{key}"), &[value])], Some(key))
}

/// Every instance matching `filter` (`name=value`, fence_aws's list
/// filter) and, with `tag`, carrying that tag.
pub fn list(
    s: &Session,
    filter_kv: Option<(&str, &str)>,
    tag: Option<&str>,
) -> Result<Vec<Instance>> {
    let mut filters = Vec::new();
    if let Some((k, v)) = filter_kv {
        filters.push(filter(k, &[v]));
    }
    if let Some(k) = tag {
        filters.push(filter("tag-key", &[k]));
    }
    describe(s, filters, tag)
}

/// StopInstances with Force (a fenced node must not finish anything) and
/// SkipOsShutdown as configured; the state AWS answers with.
pub fn stop(s: &Session, id: &str, skip_os_shutdown: bool) -> Result<State> {
    let c = s.ec2();
    s.block_on(async {
        let req = c
            .stop_instances()
            .instance_ids(id)
            .force(true)
            .skip_os_shutdown(skip_os_shutdown);
        let resp = s
            .call(Service::Ec2, "ec2:StopInstances", || req.clone().send())
            .await?;
        Ok(State::of(
            resp.stopping_instances()
                .first()
                .and_then(|i| i.current_state())
                .and_then(|st| st.name()),
        ))
    })
}

pub fn start(s: &Session, id: &str) -> Result<State> {
    let c = s.ec2();
    s.block_on(async {
        let req = c.start_instances().instance_ids(id);
        let resp = s
            .call(Service::Ec2, "ec2:StartInstances", || req.clone().send())
            .await?;
        Ok(State::of(
            resp.starting_instances()
                .first()
                .and_then(|i| i.current_state())
                .and_then(|st| st.name()),
        ))
    })
}

/// Whether these credentials may describe instances, proved by one DryRun
/// request: the endpoint, the credentials and the permission in one call,
/// never a listing of the account.
pub fn may_describe(s: &Session) -> Result<()> {
    let c = s.ec2();
    s.block_on(async {
        match s
            .call(Service::Ec2, "ec2:DescribeInstances", || {
                c.describe_instances().dry_run(true).send()
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_dry_run_passed() => Ok(()),
            Err(e) => Err(e),
        }
    })
}
