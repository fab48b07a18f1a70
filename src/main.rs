//! The `ocf-aws` binary: everything is in the library; `cli::main_guarded`
//! dispatches on the name it was called by (argv[0]).

fn main() {
    std::process::exit(ocf_aws::cli::main_guarded(std::env::args().collect()));
}
