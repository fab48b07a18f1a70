fn main() {
    std::process::exit(ocf_aws::cli::main_guarded(std::env::args().collect()));
}
