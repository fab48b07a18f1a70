fn main() {
    let code = ocf_aws::cli::main(std::env::args().collect());
    std::process::exit(code);
}
