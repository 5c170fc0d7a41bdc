fn main() {
    std::process::exit(anchorscope::cli::main());
}
