//! The az agent against moto (behind the fault proxy, which can mark a zone
//! impaired) with a stand-in attrd_updater that records what was published.

mod common;

use common::*;

fn meta_data_valid() {
    xml_valid("az");
}

fn main() {
    run_tests(vec![("meta_data_valid", meta_data_valid)]);
}
