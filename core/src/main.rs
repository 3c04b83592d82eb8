fn main() -> std::process::ExitCode {
    syscord::cli::main()
}
