//! A probe marked by `ocf-aws migrate`'s switch (the probe operation's meta
//! attribute ocf_aws_adopt) takes over what another agent started (the
//! ClusterLabs agent started it, ours reprobes it), and only then: an
//! unmarked probe, or a probe on a node AWS does not point at, still
//! reports it stopped. Simulated here by a start
//! whose state is then removed, as if another agent had made it.

use crate::world::*;

const MARKED_PROBE: [(&str, &str); 2] = [
    ("OCF_RESKEY_CRM_meta_interval", "0"),
    ("OCF_RESKEY_CRM_meta_ocf_aws_adopt", "maintenance="),
];
const PROBE: [(&str, &str); 1] = [("OCF_RESKEY_CRM_meta_interval", "0")];

/// node1 holds the resource, but no start of ours ran there.
fn started_by_another_agent(r: &Rsc) {
    r.run("node1", "start", &[]).expect(0);
    let state = r.w.node("node1").rsctmp.join("ocf-aws");
    std::fs::remove_dir_all(&state).unwrap();
}

fn takes_over(r: &Rsc, holds: impl Fn() -> bool) {
    started_by_another_agent(r);
    assert!(holds());
    r.run_env("node1", "monitor", &[], &PROBE).expect(7);
    r.run_env("node2", "monitor", &[], &MARKED_PROBE).expect(7);
    r.run_env("node1", "monitor", &[], &MARKED_PROBE).expect(0);
    // Recorded as started here: the recurring monitor and a managed probe
    // agree from now on.
    r.run("node1", "monitor", &[]).expect(0);
    r.run_env("node1", "monitor", &[], &PROBE).expect(0);
    r.run_env("node2", "monitor", &[], &PROBE).expect(7);
    assert!(holds());
}

fn eip_marked_probe_takes_over() {
    let e = Rsc::new(World::new(), "eip");
    let n1 = e.w.node("node1").eni.clone();
    takes_over(&e, || e.w.eip_assoc(e.eip().0).0 == n1);
}

fn dns_marked_probe_takes_over() {
    let d = Rsc::new(World::new(), "dns");
    let ip1 = d.w.node("node1").private_ip.clone();
    takes_over(&d, || d.record() == Some(vec![ip1.clone()]));
}

tests![eip_marked_probe_takes_over, dns_marked_probe_takes_over];
