//! `find-bench`: import and search against a running server (figures, not a test). It writes a
//! ChatGPT `conversations.json` of about `--megabytes` MB (conversations of 50 messages, two
//! branches in every tenth), imports it through `POST /api/import` while the kernel keeps the
//! server's memory high-water mark, then times `GET /api/search` for queries of common, rare
//! and absent words over the imported messages (about 100,000 for 50 MB), and prints p50/p99.
//!
//! Start a release server on loopback (SQLite, or PostgreSQL with `DATABASE_URL`), e.g.
//! `DATA_DIR=$(mktemp -d) REGISTRATION=open LEPTOS_SITE_ADDR=127.0.0.1:3919 target/release/server &`,
//! then `cargo run --release -p bench --bin find-bench -- --url http://127.0.0.1:3919 --pid $!`.

use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(about = "Times a large ChatGPT import and full-text search over it")]
struct Args {
    /// The server, listening on loopback.
    #[arg(long, default_value = "http://127.0.0.1:3919")]
    url: String,
    /// The server's process id, for its memory (from /proc).
    #[arg(long)]
    pid: u32,
    /// About how large the ChatGPT export is.
    #[arg(long, default_value_t = 50)]
    megabytes: usize,
    /// Searches per kind of query.
    #[arg(long, default_value_t = 200)]
    searches: usize,
}

/// A small deterministic generator (xorshift), so every run imports the same text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Skewed towards 0, as words are in text: a few are everywhere, most are rare.
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((u * u * u) * n as f64) as usize
    }
}

const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "ne", "ru", "ta", "shi", "vo", "pe", "da", "gu", "zo", "be", "fi", "ho",
    "ja", "ku", "le", "ma", "no", "po", "ri", "su", "te",
];

/// The vocabulary: 5,000 made-up words of two or three syllables.
fn vocabulary() -> Vec<String> {
    let mut rng = Rng(0x5eed);
    let mut words = std::collections::BTreeSet::new();
    while words.len() < 5_000 {
        let syllables = 2 + rng.below(2);
        let word: String = (0..syllables)
            .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
            .collect();
        words.insert(word);
    }
    let mut words: Vec<String> = words.into_iter().collect();
    // A fixed shuffle, so "common" is not "alphabetically first".
    for i in (1..words.len()).rev() {
        let j = rng.below(i + 1);
        words.swap(i, j);
    }
    words
}

fn sentence(rng: &mut Rng, words: &[String], length: usize) -> String {
    let mut text = String::with_capacity(length * 7);
    for i in 0..length {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(&words[rng.skewed(words.len())]);
        if i % 12 == 11 {
            text.push('.');
        }
    }
    text
}

/// ChatGPT's shape: a hidden root, then user and assistant turns; every tenth conversation
/// has its second question asked twice (a branch).
fn chatgpt_export(megabytes: usize, words: &[String]) -> (Vec<u8>, usize) {
    let mut rng = Rng(42);
    let target = megabytes * 1_000_000;
    let mut out = Vec::with_capacity(target + 1_000_000);
    out.push(b'[');
    let mut messages = 0;
    let mut index = 0;
    while out.len() < target {
        let start = 1_600_000_000.0 + index as f64 * 3_600.0;
        let mut mapping = serde_json::Map::new();
        let mut parent = "root".to_owned();
        let mut children_of_root = Vec::new();
        let mut nodes: Vec<(String, String, f64, String, String)> = Vec::new();
        for turn in 0..50 {
            let id = format!("n{index}-{turn}");
            let role = if turn % 2 == 0 { "user" } else { "assistant" };
            let length = if role == "user" { 15 } else { 70 };
            let text = sentence(&mut rng, words, length);
            nodes.push((
                id.clone(),
                parent.clone(),
                start + turn as f64 * 30.0,
                role.into(),
                text,
            ));
            if turn == 0 {
                children_of_root.push(id.clone());
            }
            parent = id;
        }
        let mut children: std::collections::HashMap<String, Vec<String>> = Default::default();
        for (id, parent, ..) in &nodes {
            children.entry(parent.clone()).or_default().push(id.clone());
        }
        if index % 10 == 0 {
            // The second question again, asked later: a branch beside the first.
            let (_, parent, at, _, _) = nodes[2].clone();
            let id = format!("n{index}-edit");
            let text = sentence(&mut rng, words, 15);
            children.entry(parent.clone()).or_default().push(id.clone());
            nodes.push((id, parent, at + 5_000.0, "user".into(), text));
        }
        mapping.insert(
            "root".into(),
            json!({"id": "root", "parent": null, "children": children_of_root, "message": null}),
        );
        for (id, parent, at, role, text) in &nodes {
            mapping.insert(
                id.clone(),
                json!({"id": id, "parent": parent, "children": children.get(id).cloned().unwrap_or_default(),
                       "message": {"id": id, "author": {"role": role}, "create_time": at,
                                   "content": {"content_type": "text", "parts": [text]}}}),
            );
        }
        messages += nodes.len();
        let conversation = json!({
            "title": format!("Conversation {index}"),
            "create_time": start,
            "update_time": start + 1_500.0,
            "conversation_id": format!("bench-{index}"),
            "id": format!("bench-{index}"),
            "current_node": format!("n{index}-49"),
            "mapping": Value::Object(mapping),
        });
        if index > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, &conversation).expect("JSON");
        index += 1;
    }
    out.push(b']');
    (out, messages)
}

fn memory_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.saturating_sub(1).min(sorted.len() - 1)]
}

async fn timed_searches(
    client: &reqwest::Client,
    url: &str,
    queries: &[String],
) -> (f64, f64, f64) {
    let mut took = Vec::with_capacity(queries.len());
    let mut hits = 0usize;
    for q in queries {
        let started = Instant::now();
        let response = client
            .get(format!("{url}/api/search"))
            .query(&[("q", q.as_str()), ("limit", "20")])
            .send()
            .await
            .expect("search");
        assert!(
            response.status().is_success(),
            "search answered {}",
            response.status()
        );
        let body: Value = response.json().await.expect("JSON");
        took.push(started.elapsed().as_secs_f64() * 1000.0);
        hits += body["items"].as_array().map_or(0, Vec::len);
    }
    took.sort_by(f64::total_cmp);
    (
        percentile(&took, 50.0),
        percentile(&took, 99.0),
        hits as f64 / queries.len() as f64,
    )
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(900))
        .build()
        .expect("a client");
    let email = format!("find-bench-{}@example.com", std::process::id());
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

    let words = vocabulary();
    let (file, messages) = chatgpt_export(args.megabytes, &words);
    let size = file.len();
    let before = memory_mib(args.pid, "VmRSS:").expect("the server's memory (is --pid right?)");
    let started = Instant::now();
    let response = client
        .post(format!("{}/api/import", args.url))
        .header("content-type", "application/json")
        .body(file)
        .send()
        .await
        .expect("import");
    let status = response.status();
    let summary: Value = response.json().await.expect("JSON");
    let import_took = started.elapsed();
    assert!(status.is_success(), "import answered {status}: {summary}");
    let peak = memory_mib(args.pid, "VmHWM:").unwrap_or(before);
    println!(
        "import of a {:.1} MB ChatGPT export ({} conversations, {messages} messages): {:.1} s; \
         server memory {before:.1} MiB before, {peak:.1} MiB at its peak",
        size as f64 / 1e6,
        summary["imported"],
        import_took.as_secs_f64()
    );

    let mut rng = Rng(7);
    let common: Vec<String> = (0..args.searches)
        .map(|_| words[rng.below(20)].clone())
        .collect();
    let pairs: Vec<String> = (0..args.searches)
        .map(|_| format!("{} {}", words[rng.below(200)], words[rng.below(200)]))
        .collect();
    let rare: Vec<String> = (0..args.searches)
        .map(|_| words[4_000 + rng.below(1_000)].clone())
        .collect();
    let absent: Vec<String> = (0..args.searches).map(|i| format!("zzqx{i}")).collect();
    println!(
        "| query ({} searches each, 20 hits a page) | p50 (ms) | p99 (ms) | hits a page |",
        args.searches
    );
    println!("|---|---:|---:|---:|");
    for (name, queries) in [
        ("one common word", &common),
        ("two frequent words", &pairs),
        ("one rare word", &rare),
        ("a word in no message", &absent),
    ] {
        let (p50, p99, hits) = timed_searches(&client, &args.url, queries).await;
        println!("| {name} | {p50:.1} | {p99:.1} | {hits:.1} |");
    }
}
