//! `upload-bench`: attachment uploads against a running server (figures, not a test). It times
//! one 20 MB upload (throughput), then sends ten 20 MB uploads at once while it samples the
//! server's resident memory, and prints the server's memory before and at its peak: uploads
//! stream to storage, so the peak must not grow by the files' size (10 × 20 MB).
//!
//! Start a release server on loopback, e.g.
//! `DATA_DIR=$(mktemp -d) REGISTRATION=open LEPTOS_SITE_ADDR=127.0.0.1:3918 target/release/server &`,
//! then `cargo run --release -p bench --bin upload-bench -- --url http://127.0.0.1:3918 --pid $!`.

use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;

#[derive(Parser, Debug)]
#[command(about = "Times attachment uploads and samples the server's memory meanwhile")]
struct Args {
    /// The server, listening on loopback.
    #[arg(long, default_value = "http://127.0.0.1:3918")]
    url: String,
    /// The server's process id, for its memory (from /proc).
    #[arg(long)]
    pid: u32,
    /// Bytes of each upload (the server's default limit is 20 MiB).
    #[arg(long, default_value_t = 20_000_000)]
    size: usize,
    /// Uploads at once in the memory run.
    #[arg(long, default_value_t = 10)]
    concurrent: usize,
}

/// A PNG header and then `size` bytes: an image as far as the server can tell, so nothing is
/// extracted and the figures are the upload path's own. `seed` makes each file's bytes (and
/// hash) different.
fn image_of(size: usize, seed: u8) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x04\0\0\0\x04\0\x08\x06\0\0\0".to_vec();
    bytes.resize(size, seed);
    bytes
}

/// A memory figure of the process from `/proc/PID/status` (`VmRSS:` now, `VmHWM:` its peak).
fn memory_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn upload(client: &reqwest::Client, url: &str, bytes: Vec<u8>, name: &str) -> Duration {
    let started = Instant::now();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    let response = client
        .post(format!("{url}/api/attachments"))
        .multipart(form)
        .send()
        .await
        .expect("the upload reaches the server");
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert!(status.as_u16() == 201, "upload answered {status}: {body}");
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("a client");
    let email = format!("upload-bench-{}@example.com", std::process::id());
    let registered = client
        .post(format!("{}/api/auth/register", args.url))
        .json(&json!({ "email": email, "password": "correct horse battery staple" }))
        .send()
        .await
        .expect("the server answers");
    assert!(
        registered.status().is_success(),
        "register answered {} (start the server with REGISTRATION=open)",
        registered.status()
    );

    let megabytes = args.size as f64 / 1_000_000.0;
    let took = upload(&client, &args.url, image_of(args.size, 1), "one.png").await;
    println!(
        "one {megabytes:.0} MB upload: {:.0} ms, {:.0} MB/s",
        took.as_secs_f64() * 1000.0,
        megabytes / took.as_secs_f64()
    );

    let before = memory_mib(args.pid, "VmRSS:").expect("the server's memory (is --pid right?)");
    let files: Vec<Vec<u8>> = (0..args.concurrent)
        .map(|i| image_of(args.size, 2 + i as u8))
        .collect();
    let started = Instant::now();
    let uploads = files.into_iter().enumerate().map(|(i, bytes)| {
        let (client, url) = (client.clone(), args.url.clone());
        async move { upload(&client, &url, bytes, &format!("many-{i}.png")).await }
    });
    futures::future::join_all(uploads).await;
    let all = started.elapsed();
    // The kernel's high-water mark: no spike between two samples of ours can be missed.
    let hwm = memory_mib(args.pid, "VmHWM:").unwrap_or(before);
    println!(
        "{} × {megabytes:.0} MB at once: {:.0} ms in all, {:.0} MB/s together",
        args.concurrent,
        all.as_secs_f64() * 1000.0,
        megabytes * args.concurrent as f64 / all.as_secs_f64()
    );
    println!(
        "server memory: {before:.1} MiB before, {hwm:.1} MiB at its peak (+{:.1} MiB for {:.0} MB uploaded at once)",
        hwm - before,
        megabytes * args.concurrent as f64
    );
}
