//! The emulated-AWS test world for the integration tests.
//!
//! `isolate()` runs first, in `main`, while the process is single-threaded:
//! it moves the whole test process into a private network and mount
//! namespace, so every interface and address a test makes lives and dies
//! with the test process and nothing touches the host. The emulators
//! (moto, one IMDS emulator per node, fault proxies, DNS responders) are
//! started through `tests/world/world.py`, the one module that owns them,
//! and listen on that namespace's loopback.
//!
//! Each test seeds its own VPC in the shared moto server, so tests run in
//! parallel without seeing each other.

mod aws;
mod emulators;
mod fence;
mod harness;
mod ns;
mod rsc;
mod run;
mod seeded;

pub use emulators::{http_json, repo, tmpdir, Helper};
pub use fence::{fence_link, Fenced};
pub(crate) use harness::tests;
pub use harness::{run_tests, Test};
pub use ns::{isolate, mount, umount};
pub use rsc::{Rsc, SECONDARY_IP};
pub use run::{agent_link, ocf_command, xml_valid, Run, BIN};
pub use seeded::{Seed, World};
