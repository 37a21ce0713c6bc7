//! `bench`: starts the release server against a fake OpenAI upstream, drives it with real
//! users and WebSockets, measures latency (against the same requests sent straight to the
//! upstream), throughput, CPU, memory, database writes, page render time, cold start and the
//! WASM bundle, and writes a markdown report. `scripts/bench` builds and runs it.

mod database;
mod environment;
mod load;
mod measurements;
mod plan;
mod report;
mod run;
mod sample_text;
mod server_process;
mod site;
mod stats;
mod upstream;

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Benchmarks the Rustchat release server and writes a markdown report")]
pub struct Args {
    /// The short run (the default): under two minutes on two cores.
    #[arg(long, conflicts_with = "full")]
    pub quick: bool,
    /// The full run: more replies per concurrency level, longer bounds.
    #[arg(long)]
    pub full: bool,
    /// Where to write the report (it is printed to stdout as well).
    #[arg(long, default_value = "target/bench-report.md")]
    pub out: PathBuf,
    /// The release server binary [default: $CARGO_TARGET_DIR/release/server].
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// The site folder `scripts/build-site` builds (the WASM bundle is read from its pkg/).
    #[arg(long, default_value = "target/site")]
    pub site_root: PathBuf,
    /// Worker threads of the fake upstream's own runtime.
    #[arg(long, default_value_t = 1)]
    pub upstream_threads: usize,
    /// Idle authenticated sockets to hold open for the memory figure.
    #[arg(long, default_value_t = 10_000)]
    pub idle_sockets: usize,
    /// Run the server on this PostgreSQL database instead of a fresh SQLite file. It must be
    /// empty (e.g. `createdb`); the phases that read SQLite's file (database writes, page
    /// render) are left out.
    #[arg(long)]
    pub database_url: Option<String>,
    /// RUST_LOG of the server (`info` is what a deployment runs).
    #[arg(long, default_value = "info")]
    pub server_log: String,
}

impl Args {
    fn server_bin(&self) -> PathBuf {
        self.server_bin.clone().unwrap_or_else(|| {
            let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
            PathBuf::from(target).join("release").join("server")
        })
    }
}

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    let open_files = server_process::raise_open_file_limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run::run(&args, open_files)) {
        Ok(report) => {
            println!("{report}");
            if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
                let _ = std::fs::create_dir_all(parent);
            }
            if let Err(e) = std::fs::write(&args.out, &report) {
                eprintln!("error: cannot write {}: {e}", args.out.display());
                return ExitCode::FAILURE;
            }
            eprintln!("report written to {}", args.out.display());
            // Client sockets and the fake's streams need not close gracefully.
            runtime.shutdown_background();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            runtime.shutdown_background();
            ExitCode::FAILURE
        }
    }
}
