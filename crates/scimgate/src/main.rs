//! `scimgate`: see `scimgate --help`.

fn main() -> std::process::ExitCode {
    scimgate::cli::main()
}
