use std::process::ExitCode;

use server::{cli, config::Config, startup::Application, telemetry};

/// glibc's malloc keeps freed memory for reuse, per thread arena, and raises its mmap
/// threshold to the size of any large block freed. Argon2 takes 19 MiB per password hash on a
/// blocking thread: left alone, each of those threads keeps its 19 MiB for good (a few logins
/// took an idle server from 21 MB to 80 MB). A fixed threshold makes large blocks their own
/// mappings, returned to the system when freed; two arenas keep fragmentation low without
/// contention on two cores' worth of threads. What the arenas keep after a load is trimmed
/// by `server::memory`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets allocator parameters; called before any thread is started.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 16 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> ExitCode {
    tune_allocator();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    // A missing .env is normal; variables already set in the environment win over it.
    let _ = dotenvy::dotenv();
    telemetry::init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("configuration: {e}");
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(outcome) = cli::run(&config, &args).await {
        return match outcome {
            Ok(output) => {
                println!("{output}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("start-up failed: {e}");
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("server error: {e}");
            ExitCode::FAILURE
        }
    }
}
