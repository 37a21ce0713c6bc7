//! `login-flood`: a load check of the log-in limits against a running server (not a test: it
//! asserts nothing, it prints figures). One address (127.0.0.1) sends a flood of bad log-ins
//! while good users, each on an address of its own (127.0.1.x), log in normally; it prints the
//! good users' log-in time before and during the flood (p50 / p99) and how the flood was
//! answered.
//!
//! Start the server with its default limits on loopback, e.g.
//! `DATA_DIR=$(mktemp -d) LEPTOS_SITE_ADDR=127.0.0.1:3917 target/debug/server`, then
//! `cargo run -p bench --bin login-flood -- --url http://127.0.0.1:3917`.
//! Each good user makes four attempts at most (register, one log-in before, two during), well
//! under the default ten a minute. Against a server started with `AUTH_ATTEMPTS_PER_MINUTE=0`
//! the same run shows what the limit saves the good users from.

use std::{
    collections::BTreeMap,
    net::{IpAddr, Ipv4Addr},
    time::{Duration, Instant},
};

use clap::Parser;
use futures::{stream, StreamExt};
use serde_json::json;

#[derive(Parser, Debug)]
#[command(about = "Floods a running server with bad log-ins from one address and times good ones")]
struct Args {
    /// The server, listening on loopback.
    #[arg(long, default_value = "http://127.0.0.1:3917")]
    url: String,
    /// Bad log-ins sent from 127.0.0.1.
    #[arg(long, default_value_t = 1_000)]
    flood: usize,
    /// Bad log-ins per second; 0 sends them as fast as the server answers.
    #[arg(long, default_value_t = 0.0)]
    flood_rate: f64,
    /// Bad log-ins in flight at once.
    #[arg(long, default_value_t = 50)]
    concurrency: usize,
    /// Good users, each logging in from its own address.
    #[arg(long, default_value_t = 50)]
    good_users: u8,
}

const PASSWORD: &str = "correct horse battery staple";

fn client_from(address: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(address))
        .build()
        .expect("a client")
}

struct GoodUser {
    client: reqwest::Client,
    email: String,
}

impl GoodUser {
    /// One log-in: its time, or what went wrong.
    async fn log_in(&self, url: &str) -> Result<Duration, String> {
        let started = Instant::now();
        let response = self
            .client
            .post(format!("{url}/api/auth/login"))
            .json(&json!({ "email": self.email, "password": PASSWORD }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let _ = response.bytes().await;
        if status.is_success() {
            Ok(started.elapsed())
        } else {
            Err(format!("good log-in answered {status}"))
        }
    }
}

/// Good log-ins one after another, as people arrive, cycling through the users (`rounds`
/// times at most), until `keep_going` says stop.
async fn good_log_ins(
    users: &[GoodUser],
    url: &str,
    rounds: usize,
    keep_going: impl Fn() -> bool,
) -> (Vec<Duration>, Vec<String>) {
    let mut times = Vec::new();
    let mut errors = Vec::new();
    'rounds: for _ in 0..rounds {
        for user in users {
            if !keep_going() {
                break 'rounds;
            }
            match user.log_in(url).await {
                Ok(time) => times.push(time),
                Err(e) => errors.push(e),
            }
        }
    }
    (times, errors)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(label: &str, mut times: Vec<Duration>, errors: &[String]) {
    times.sort();
    println!(
        "{label}: {} log-ins, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, errors {}{}",
        times.len(),
        percentile(&times, 50.0).as_secs_f64() * 1e3,
        percentile(&times, 99.0).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        errors.len(),
        errors
            .first()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default(),
    );
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    let url = args.url.trim_end_matches('/').to_owned();
    let run = std::process::id();

    let mut users = Vec::new();
    for i in 0..args.good_users {
        let user = GoodUser {
            client: client_from(Ipv4Addr::new(127, 0, 1, i.saturating_add(1))),
            email: format!("good-{run}-{i}@example.com"),
        };
        let response = user
            .client
            .post(format!("{url}/api/auth/register"))
            .json(&json!({ "email": user.email, "password": PASSWORD }))
            .send()
            .await
            .expect("the server answers");
        assert!(
            response.status().is_success(),
            "registering {} answered {}",
            user.email,
            response.status()
        );
        users.push(user);
    }

    let (before, before_errors) = good_log_ins(&users, &url, 1, || true).await;
    summary("good users, before the flood", before, &before_errors);

    let flood_client = client_from(Ipv4Addr::LOCALHOST);
    let flood_url = url.clone();
    let flood_started = Instant::now();
    let flood_start = tokio::time::Instant::now();
    let rate = args.flood_rate;
    let flood = tokio::spawn(async move {
        stream::iter(0..args.flood)
            .map(|i| {
                let client = flood_client.clone();
                let url = flood_url.clone();
                async move {
                    if rate > 0.0 {
                        let due = Duration::from_secs_f64(i as f64 / rate);
                        tokio::time::sleep_until(flood_start + due).await;
                    }
                    let started = Instant::now();
                    let status = client
                        .post(format!("{url}/api/auth/login"))
                        .json(&json!({ "email": format!("victim-{i}@example.com"), "password": "guess" }))
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0);
                    (status, started.elapsed())
                }
            })
            .buffer_unordered(args.concurrency)
            .collect::<Vec<_>>()
            .await
    });
    // The good users start once the flood is under way, and stop when it is over.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (during, during_errors) = good_log_ins(&users, &url, 2, || !flood.is_finished()).await;
    let answered = flood.await.expect("the flood ran");
    let flood_time = flood_started.elapsed();
    summary("good users, during the flood", during, &during_errors);

    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for (status, _) in &answered {
        *statuses.entry(*status).or_default() += 1;
    }
    let mut times: Vec<Duration> = answered.iter().map(|(_, time)| *time).collect();
    times.sort();
    println!(
        "flood: {} bad log-ins from 127.0.0.1 in {:.2} s, answered {:?} (status: count; 0 = no answer), p50 {:.1} ms, p99 {:.1} ms",
        answered.len(),
        flood_time.as_secs_f64(),
        statuses,
        percentile(&times, 50.0).as_secs_f64() * 1e3,
        percentile(&times, 99.0).as_secs_f64() * 1e3,
    );
}
