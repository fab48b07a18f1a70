//! The route tables' side of vip: which tables it manages, pointing them
//! at this node and settling a race with another node, and the depth-10
//! check that they still point here; and the sessions they are changed
//! with (routing_table_role).

use super::{Local, Vip};
use crate::aws::ec2::{self, TableRoute, Target};
use crate::aws::imds::Imds;
use crate::aws::Session;
use crate::net;
use crate::ocf::{Ctx, OcfError, OcfResult, Rc};
use std::collections::BTreeMap;

/// Why the tables found cannot be managed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RouteProblem {
    /// Tables in routing_table that EC2 does not know.
    Missing(Vec<String>),
    /// Discovery found no table with a route for the VIP.
    NoneHold { vpc: Option<String> },
    /// A table of another VPC than the ENI's.
    OtherVpc { table: String, vpc: Option<String> },
}

/// The sessions of a vip action: this node's own (or role_arn's) for the
/// ENI, routing_table_role's (when set) for the route tables.
pub(crate) struct Sessions {
    own: Session,
    tables: Option<Session>,
}

impl Sessions {
    pub(crate) fn eni(&self) -> &Session {
        &self.own
    }

    pub(crate) fn tables(&self) -> &Session {
        self.tables.as_ref().unwrap_or(&self.own)
    }
}

impl Vip {
    /// Connect, and assume routing_table_role when set.
    pub(super) fn connect(&self, ctx: &Ctx, imds: &Imds) -> OcfResult<Sessions> {
        let own = ctx.connect(&self.cfg.aws, imds)?;
        let tables = match &self.cfg.tables_role {
            Some(role) => Some(own.assume(role)?),
            None => None,
        };
        Ok(Sessions { own, tables })
    }

    /// The VPC whose tables are discovered: vpc_id, else the ENI's.
    pub(crate) fn route_vpc<'a>(&'a self, local: &'a Local) -> Option<&'a str> {
        self.cfg.vpc_id.as_deref().or(local.vpc.as_deref())
    }

    /// The tables to manage, as EC2 holds them now (one
    /// DescribeRouteTables): those of routing_table, or every table of the
    /// VPC with a route for the VIP.
    pub(crate) fn table_routes(&self, s: &Session, local: &Local) -> OcfResult<Vec<TableRoute>> {
        let c = &self.cfg;
        ec2::routes_for(s, self.route_vpc(local), &c.tables, &c.cidr).map_err(|e| {
            let e = OcfError::from(e);
            if e.rc == Rc::Configured && !c.tables.is_empty() {
                e.context(&format!(
                    "routing_table={} (remove or correct the ids that do not exist)",
                    c.tables.join(",")
                ))
            } else {
                e
            }
        })
    }

    /// Whether `routes` can be managed for `local`.
    pub(crate) fn route_problem(
        &self,
        routes: &[TableRoute],
        local: &Local,
    ) -> Option<RouteProblem> {
        let c = &self.cfg;
        let missing: Vec<String> = c
            .tables
            .iter()
            .filter(|t| !routes.iter().any(|r| &r.table_id == *t))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Some(RouteProblem::Missing(missing));
        }
        if routes.is_empty() {
            return Some(RouteProblem::NoneHold {
                vpc: self.route_vpc(local).map(str::to_string),
            });
        }
        let v = local.vpc.as_deref()?;
        routes
            .iter()
            .find(|r| r.vpc_id.as_deref().is_some_and(|rv| rv != v))
            .map(|r| RouteProblem::OtherVpc {
                table: r.table_id.clone(),
                vpc: r.vpc_id.clone(),
            })
    }

    /// The managed tables and where each sends the VIP.
    pub(crate) fn managed_routes(&self, s: &Session, local: &Local) -> OcfResult<Vec<TableRoute>> {
        let c = &self.cfg;
        let routes = self.table_routes(s, local)?;
        let Some(problem) = self.route_problem(&routes, local) else {
            return Ok(routes);
        };
        Err(OcfError::configured(match problem {
            RouteProblem::Missing(missing) => format!(
                "route table {} in routing_table does not exist: correct routing_table",
                missing[0]
            ),
            RouteProblem::NoneHold { vpc } => format!(
                "no route table in {} routes {}: set routing_table, or create the route \
                 once per table whose subnets' clients need it (aws ec2 create-route \
                 --route-table-id rtb-… {} --network-interface-id {})",
                vpc.map(|v| format!("VPC {v}"))
                    .unwrap_or_else(|| "the VPC".into()),
                c.cidr,
                c.destination_arg(),
                local.eni
            ),
            RouteProblem::OtherVpc { table, vpc } => format!(
                "route table {table} belongs to {}, not to {} of {}: routes can only \
                 point at an ENI of the same VPC; correct routing_table",
                vpc.as_deref().unwrap_or("another VPC"),
                local.vpc.as_deref().unwrap_or_default(),
                local.eni
            ),
        }))
    }

    /// The AWS side of a start: checks, then every managed table to `local`.
    #[allow(clippy::type_complexity)]
    pub(crate) fn switch(
        &self,
        s: &Sessions,
        imds: &Imds,
        local: Local,
    ) -> OcfResult<(Local, Vec<TableRoute>, (usize, usize))> {
        if self.cfg.vpc_id.is_some() {
            self.check_outside_vpc(imds, &local, Some(s.tables()))?;
        }
        self.check_source_dest(s.eni(), imds, &local.eni)?;
        let routes = self.managed_routes(s.tables(), &local)?;
        let counts = self.converge(s.tables(), &local, routes.clone())?;
        Ok((local, routes, counts))
    }

    /// Depth 10: every managed table must send the VIP to our ENI.
    pub(crate) fn check_routes(
        &self,
        ctx: &Ctx,
        device: &str,
        state: Option<&BTreeMap<String, String>>,
    ) -> OcfResult<()> {
        let c = &self.cfg;
        let imds = ctx.imds(&c.aws);
        // The recorded ENI is valid only while the device still has the MAC
        // it had at start (an ENI swap changes the MAC).
        let recorded = state.filter(|s| {
            s.get("device").map(String::as_str) == Some(device)
                && s.get("mac").cloned() == net::device_mac(device)
                && c.eni_id.as_ref().is_none_or(|e| s.get("eni") == Some(e))
        });
        let local = match recorded {
            Some(s) => Local {
                device: device.to_string(),
                mac: s.get("mac").cloned().unwrap_or_default(),
                eni: s.get("eni").cloned().unwrap_or_default(),
                vpc: s.get("vpc").filter(|v| !v.is_empty()).cloned(),
            },
            None => self.resolve_local(&imds)?,
        };
        let s = self.connect(ctx, &imds)?;
        let routes = match self.managed_routes(s.tables(), &local) {
            Err(e) if e.rc == Rc::Configured && c.tables.is_empty() => {
                return Err(OcfError::not_running(e.reason))
            }
            r => r?,
        };
        for r in &routes {
            match &r.target {
                Some(Target::Eni(e)) if *e == local.eni => {}
                Some(t) => {
                    return Err(OcfError::not_running(format!(
                        "route table {} sends {} to {}, not to this node's {}: another \
                         node holds the address",
                        r.table_id,
                        c.cidr,
                        t.describe(),
                        local.eni
                    )))
                }
                None => {
                    return Err(OcfError::not_running(format!(
                        "route table {} has no route for {}",
                        r.table_id, c.cidr
                    )))
                }
            }
        }
        Ok(())
    }
}
