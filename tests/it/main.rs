//! The integration tests: one binary, one moto, every agent and concern.
//!
//! `main` first moves the process into a private network and mount
//! namespace (`world::isolate`, while it is still single-threaded), then
//! starts the one moto server every test seeds its own VPC in, then runs the
//! tests with libtest's command line and output (libtest-mimic), named
//! `<module>::<test>`. Agent lists come from `ocf-aws --list`, never from a
//! hand-kept copy; what a test needs to know about each agent is the table
//! in `agents.rs`.

mod adopt;
mod agents;
mod az;
mod clusterlabs;
mod dns;
mod doctor;
mod eip;
mod faults;
mod fence;
mod floor;
mod fuzz;
mod iam;
mod ipv6;
mod migrate;
mod reachable;
mod secondary_ip;
mod stale;
mod vip;
mod world;
mod xacct;

fn main() {
    // First, while the process is single-threaded.
    world::isolate();
    // The long, deadline-bound fault tests first, the CPU-heavy fuzzing
    // last, so that the fuzzers do not load the machine while a test times
    // an action against its deadline.
    let tests = [
        faults::tests(),
        stale::tests(),
        agents::tests(),
        vip::tests(),
        eip::tests(),
        dns::tests(),
        az::tests(),
        iam::tests(),
        reachable::tests(),
        ipv6::tests(),
        secondary_ip::tests(),
        clusterlabs::tests(),
        xacct::tests(),
        floor::tests(),
        doctor::tests(),
        migrate::tests(),
        adopt::tests(),
        // Deadline-bound too, but after the fault tests, not beside them.
        fence::tests(),
        fuzz::tests(),
    ]
    .into_iter()
    .flatten()
    .collect();
    world::run_tests(tests);
}
