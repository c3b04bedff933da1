//! The `verbund` binary.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    verbund_gateway::cli::main().await
}
