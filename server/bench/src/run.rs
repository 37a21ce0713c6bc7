//! The phases of a run, in order, and the report they add up to. The server is started once,
//! on a fresh database; phases that would disturb the latency figures (write-counting
//! triggers, the thousand-message conversation) come after them.

use std::{
    fmt::Write as _,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use crate::{
    database::{Sqlite, Templates, WriteCounts},
    load::{self, Api, Bounds, FeedSocket, ReplyTiming, RunResult, User},
    report::{self, count, number, Figure, Target},
    sample_text,
    server_process::{self, Complaints, ServerOptions, ServerProcess},
    site,
    stats::{median, Summary},
    upstream::{FakeUpstream, ReplyShape},
    Args,
};

/// How much of everything a run does.
struct Plan {
    name: &'static str,
    users: usize,
    /// (concurrency, replies) per level.
    levels: Vec<(usize, usize)>,
    time_per_run: Duration,
    shape: ReplyShape,
    idle_sockets: usize,
    short: ReplyShape,
    long: ReplyShape,
    short_replies: usize,
    long_replies: usize,
    render_messages: usize,
    render_repeats: usize,
}

impl Plan {
    fn new(args: &Args) -> Self {
        let shape = ReplyShape {
            tokens: 30,
            first_token: Duration::from_millis(20),
            pace: Duration::from_millis(10),
            markdown: None,
        };
        let short = ReplyShape {
            tokens: 50,
            ..shape
        };
        let long = ReplyShape {
            tokens: 1_000,
            ..shape
        };
        if args.full {
            Self {
                name: "full",
                users: 50,
                levels: vec![(1, 200), (10, 1_000), (100, 3_000), (1_000, 5_000)],
                time_per_run: Duration::from_secs(60),
                shape,
                idle_sockets: args.idle_sockets,
                short,
                long,
                short_replies: 3,
                long_replies: 3,
                render_messages: 1_000,
                render_repeats: 30,
            }
        } else {
            Self {
                name: "quick",
                users: 10,
                levels: vec![(1, 20), (10, 100), (100, 300), (1_000, 1_000)],
                time_per_run: Duration::from_secs(15),
                shape,
                idle_sockets: args.idle_sockets,
                short,
                long,
                short_replies: 2,
                long_replies: 1,
                render_messages: 1_000,
                render_repeats: 10,
            }
        }
    }
}

fn progress(started: Instant, what: &str) {
    eprintln!("[{:6.1} s] {what}", started.elapsed().as_secs_f64());
}

/// Resident memory figures in MB (10^6 bytes), from MiB.
fn mb(mib: Option<f64>) -> Result<f64, String> {
    mib.map(|m| m * 1_048_576.0 / 1e6)
        .ok_or_else(|| "cannot read /proc".into())
}

struct Level {
    concurrency: usize,
    direct: RunResult,
    through_server: RunResult,
    server_cpu_seconds: Option<f64>,
    bench_cpu_seconds: Option<f64>,
}

impl Level {
    fn ttft(run: &RunResult) -> Option<Summary> {
        let samples: Vec<f64> = run.replies.iter().map(|r| r.first_delta_ms).collect();
        Summary::of(&samples)
    }

    fn added_ttft(&self) -> Option<Summary> {
        Some(Self::ttft(&self.through_server)?.minus(&Self::ttft(&self.direct)?))
    }

    fn cpu_per_thousand_tokens(&self) -> Option<f64> {
        let tokens = self.through_server.deltas();
        (tokens > 0).then(|| self.server_cpu_seconds.map(|s| s * 1_000.0 / tokens as f64))?
    }
}

struct IdleSockets {
    opened: usize,
    wanted: usize,
    open_time: Duration,
    rss_mib: Option<f64>,
    pings_answered: usize,
    pings_sent: usize,
    error: Option<String>,
}

struct Writes {
    label: &'static str,
    shape: ReplyShape,
    per_reply: Vec<(i64, WriteCounts, ReplyTiming)>,
    /// Server CPU seconds of each reply, from the send to 0.5 s after its last event.
    cpu_seconds: Vec<f64>,
    /// Bytes of the reply's text in the database halfway through its stream.
    persisted_halfway: Vec<Option<i64>>,
}

impl Writes {
    fn mean_total(&self) -> Option<f64> {
        let n = self.per_reply.len();
        (n > 0).then(|| {
            self.per_reply
                .iter()
                .map(|(t, _, _)| *t as f64)
                .sum::<f64>()
                / n as f64
        })
    }

    fn mean_by_table(&self) -> Vec<(String, f64)> {
        let mut sums = WriteCounts::new();
        for (_, counts, _) in &self.per_reply {
            for (key, n) in counts {
                *sums.entry(key.clone()).or_default() += n;
            }
        }
        let n = self.per_reply.len().max(1) as f64;
        sums.into_iter()
            .filter(|(_, total)| *total != 0)
            .map(|(key, total)| (key, total as f64 / n))
            .collect()
    }
}

struct Render {
    messages_in_conversation: usize,
    inserted: usize,
    first: Duration,
    repeats: Vec<f64>,
    html_bytes: usize,
    messages_found: usize,
    status: u16,
}

pub async fn run(args: &Args, open_files: libc::rlim_t) -> Result<String, String> {
    let started = Instant::now();
    let load_before = report::load_average();
    let plan = Plan::new(args);
    let server_bin = args.server_bin();
    if !server_bin.exists() {
        return Err(format!(
            "no server binary at {}: build it with `cargo build --release -p server` or pass --server-bin",
            server_bin.display()
        ));
    }
    let site_root = absolute(&args.site_root);
    let upstream = Arc::new(
        FakeUpstream::start(args.upstream_threads)
            .map_err(|e| format!("cannot start the fake upstream: {e}"))?,
    );
    progress(started, "starting the server on a fresh SQLite database");
    let server = ServerProcess::start(&ServerOptions {
        bin: &server_bin,
        upstream: &upstream.address,
        site_root: &site_root,
        log_filter: &args.server_log,
    })
    .await?;
    progress(
        started,
        &format!(
            "cold start to the first 200: {:.0} ms",
            server.cold_start.as_secs_f64() * 1e3
        ),
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_started = server.rss_mib();

    let api = Api::new(&server.base);
    let users = load::register_users(&api, plan.users).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_registered = server.rss_mib();
    progress(
        started,
        &format!("registered {} users; warming up", users.len()),
    );
    warm_up(&api, &upstream, &server, &users, plan.shape).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_warm = server.rss_mib();

    // Idle sockets on the warmed-up server, before the load: the figure is what the sockets
    // cost, not what the allocator kept from the load phases.
    progress(
        started,
        &format!("opening {} idle sockets", plan.idle_sockets),
    );
    let idle = idle_sockets(&server, &users, plan.idle_sockets).await;

    let mut levels = Vec::new();
    for &(concurrency, replies) in &plan.levels {
        progress(
            started,
            &format!(
                "concurrency {concurrency}: {replies} replies direct, then through the server"
            ),
        );
        levels.push(
            run_level(
                &api,
                &upstream,
                &server,
                &users,
                &plan,
                concurrency,
                replies,
            )
            .await?,
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    progress(started, "counting database writes per reply");
    let sqlite = Sqlite::open(&server.db_path).await?;
    let writes = count_writes(&api, &server, &upstream, &sqlite, &users[0], &plan).await;

    progress(started, "rendering a conversation page of 1,000 messages");
    let render = render_page(&api, &upstream, &sqlite, &users[0], &plan).await;

    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = server.rss_mib();
    let rss_peak = server.peak_rss_mib();
    let wasm = site::wasm_size(&site_root);
    progress(started, "done");

    let context = Context {
        args,
        plan: &plan,
        server_bin: &server_bin,
        upstream_threads: upstream.threads,
        open_files,
        duration: started.elapsed(),
        load: (load_before, report::load_average()),
        finished: chrono::Utc::now(),
        command: std::env::args().collect(),
        commit: report::git_commit(),
        machine: report::machine(),
    };
    Ok(write_report(
        &context,
        server.cold_start,
        &server.complaints(),
        Memory {
            started: rss_started,
            registered: rss_registered,
            warm: rss_warm,
            after: rss_after,
            peak: rss_peak,
        },
        &levels,
        &idle,
        &writes,
        &render,
        &wasm,
    ))
}

fn absolute(path: &std::path::Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// A few replies both ways, so connection pools, the tokenizer and the page cache are ready
/// before anything is timed.
async fn warm_up(
    api: &Api,
    upstream: &Arc<FakeUpstream>,
    server: &ServerProcess,
    users: &[User],
    shape: ReplyShape,
) -> Result<(), String> {
    let bounds = Bounds {
        concurrency: 2,
        count: 6,
        time: Duration::from_secs(30),
    };
    load::run_direct(upstream, shape, bounds).await;
    let feeds = load::open_feeds(&server.base, users, 2, 2).await?;
    let (result, feeds) = load::run_through_server(api, upstream, feeds, shape, bounds).await;
    close_feeds(feeds).await;
    if let Some(error) = result.errors.first() {
        return Err(format!("warm-up failed: {error}"));
    }
    Ok(())
}

async fn close_feeds(feeds: Vec<(FeedSocket, User)>) {
    futures::future::join_all(feeds.into_iter().map(|(feed, _)| feed.close())).await;
}

async fn run_level(
    api: &Api,
    upstream: &Arc<FakeUpstream>,
    server: &ServerProcess,
    users: &[User],
    plan: &Plan,
    concurrency: usize,
    replies: usize,
) -> Result<Level, String> {
    let bounds = Bounds {
        concurrency,
        count: replies,
        time: plan.time_per_run,
    };
    let direct = load::run_direct(upstream, plan.shape, bounds).await;
    upstream.forget_all();
    let feeds = load::open_feeds(&server.base, users, concurrency, 100).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let self_stat = "/proc/self/stat";
    let (server_cpu, bench_cpu) = (server.cpu_seconds(), server_process::cpu_seconds(self_stat));
    let (through_server, feeds) =
        load::run_through_server(api, upstream, feeds, plan.shape, bounds).await;
    let server_cpu_seconds = server.cpu_seconds().zip(server_cpu).map(|(b, a)| b - a);
    let bench_cpu_seconds = server_process::cpu_seconds(self_stat)
        .zip(bench_cpu)
        .map(|(b, a)| b - a);
    close_feeds(feeds).await;
    upstream.forget_all();
    Ok(Level {
        concurrency,
        direct,
        through_server,
        server_cpu_seconds,
        bench_cpu_seconds,
    })
}

async fn idle_sockets(server: &ServerProcess, users: &[User], wanted: usize) -> IdleSockets {
    let opening = Instant::now();
    let mut result = IdleSockets {
        opened: 0,
        wanted,
        open_time: Duration::ZERO,
        rss_mib: None,
        pings_answered: 0,
        pings_sent: 0,
        error: None,
    };
    let mut feeds = match load::open_feeds(&server.base, users, wanted, 200).await {
        Ok(feeds) => feeds,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    result.opened = feeds.len();
    result.open_time = opening.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    result.rss_mib = server.rss_mib();
    // The sockets must be alive, not just counted: a few of them, spread out, answer a ping.
    let step = (feeds.len() / 20).max(1);
    for (feed, _) in feeds.iter_mut().step_by(step) {
        result.pings_sent += 1;
        if feed.ping().await.is_ok() {
            result.pings_answered += 1;
        }
    }
    futures::future::join_all(feeds.into_iter().map(|(feed, _)| feed.close())).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    result
}

async fn count_writes(
    api: &Api,
    server: &ServerProcess,
    upstream: &FakeUpstream,
    sqlite: &Sqlite,
    user: &User,
    plan: &Plan,
) -> Result<Vec<Writes>, String> {
    sqlite.install_write_counters().await?;
    let mut feed = FeedSocket::connect(&api.base, user).await?;
    let mut all = Vec::new();
    for (label, shape, replies) in [
        ("short", plan.short, plan.short_replies),
        ("long", plan.long, plan.long_replies),
    ] {
        let mut writes = Writes {
            label,
            shape,
            per_reply: Vec::new(),
            cpu_seconds: Vec::new(),
            persisted_halfway: Vec::new(),
        };
        for _ in 0..replies {
            let conversation_id = api.create_conversation(user).await?;
            feed.subscribe(&conversation_id).await?;
            let before = sqlite.write_counts().await?;
            let cpu_before = server.cpu_seconds();
            // Halfway through the reply, how much of its text is already in the database.
            let halfway = shape.first_token + shape.pace * (shape.tokens as u32 / 2);
            let (timing, persisted) = tokio::join!(
                load::stream_reply(api, upstream, &mut feed, user, &conversation_id, shape),
                async {
                    tokio::time::sleep(halfway).await;
                    sqlite.streaming_text_bytes().await
                }
            );
            let timing = timing?;
            writes.persisted_halfway.push(persisted?);
            // Anything the server writes just after the final event is counted too.
            tokio::time::sleep(Duration::from_millis(500)).await;
            if let Some((after, before)) = server.cpu_seconds().zip(cpu_before) {
                writes.cpu_seconds.push(after - before);
            }
            let after = sqlite.write_counts().await?;
            let diff: WriteCounts = after
                .iter()
                .map(|(key, n)| (key.clone(), n - before.get(key).copied().unwrap_or(0)))
                .collect();
            let total = diff.values().sum();
            writes.per_reply.push((total, diff, timing));
        }
        all.push(writes);
    }
    feed.close().await;
    sqlite.remove_write_counters().await?;
    Ok(all)
}

async fn render_page(
    api: &Api,
    upstream: &FakeUpstream,
    sqlite: &Sqlite,
    user: &User,
    plan: &Plan,
) -> Result<Render, String> {
    // Real exchanges first, one per kind of answer, so the copies hold exactly what the server
    // stores for a finished reply (its rendered HTML included).
    let conversation_id = api.create_conversation(user).await?;
    let mut feed = FeedSocket::connect(&api.base, user).await?;
    for kind in sample_text::ANSWER_KINDS {
        feed.subscribe(&conversation_id).await?;
        let shape = ReplyShape {
            markdown: Some(kind),
            first_token: Duration::ZERO,
            pace: Duration::ZERO,
            ..plan.short
        };
        load::stream_reply(api, upstream, &mut feed, user, &conversation_id, shape).await?;
    }
    feed.close().await;
    let listed = api
        .get_json(
            user,
            &format!("/api/conversations/{conversation_id}/messages"),
        )
        .await?;
    let items = listed["items"].as_array().cloned().unwrap_or_default();
    let ids = |role: &str| -> Vec<String> {
        items
            .iter()
            .filter(|m| m["role"] == role)
            .filter_map(|m| m["id"].as_str().map(str::to_owned))
            .collect()
    };
    let templates = Templates {
        user: ids("user").first().cloned().ok_or("no question to copy")?,
        answers: ids("assistant"),
    };
    let inserted = plan.render_messages.saturating_sub(items.len());
    sqlite.add_messages(&templates, inserted).await?;
    let path = format!("/c/{conversation_id}");
    let (status, html, first) = api.get_page(user, &path).await?;
    let mut repeats = Vec::new();
    for _ in 0..plan.render_repeats {
        let (_, _, took) = api.get_page(user, &path).await?;
        repeats.push(took.as_secs_f64() * 1e3);
    }
    // A marker is followed by a delimiter, so `-1` does not count as found inside `-10`.
    let found = (0..inserted)
        .filter(|i| {
            let marker = sample_text::marker(*i);
            ["<", ")", "`"]
                .iter()
                .any(|end| html.contains(&format!("{marker}{end}")))
        })
        .count();
    Ok(Render {
        messages_in_conversation: items.len() + inserted,
        inserted,
        first,
        repeats,
        html_bytes: html.len(),
        messages_found: found,
        status,
    })
}

struct Context<'a> {
    args: &'a Args,
    plan: &'a Plan,
    server_bin: &'a std::path::Path,
    upstream_threads: usize,
    open_files: libc::rlim_t,
    duration: Duration,
    /// Load averages before and after the run.
    load: (String, String),
    finished: chrono::DateTime<chrono::Utc>,
    command: Vec<String>,
    commit: String,
    machine: Vec<(String, String)>,
}

struct Memory {
    started: Option<f64>,
    registered: Option<f64>,
    warm: Option<f64>,
    after: Option<f64>,
    peak: Option<f64>,
}

fn ms(value: f64) -> String {
    number(value)
}

fn summary_cells(summary: Option<Summary>) -> String {
    match summary {
        Some(s) => format!("{} / {} / {}", ms(s.p50), ms(s.p95), ms(s.p99)),
        None => "–".into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn write_report(
    context: &Context,
    cold_start: Duration,
    complaints: &Complaints,
    memory: Memory,
    levels: &[Level],
    idle: &IdleSockets,
    writes: &Result<Vec<Writes>, String>,
    render: &Result<Render, String>,
    wasm: &Result<site::WasmSize, String>,
) -> String {
    let plan = context.plan;
    let mut out = String::new();
    let _ = writeln!(out, "# Rustchat benchmarks ({} run)\n", plan.name);
    let _ = writeln!(
        out,
        "Run on {} by `{}` at commit {}; the run took {:.0} s.\n",
        context.finished.format("%Y-%m-%d %H:%M UTC"),
        context.command.join(" "),
        context.commit,
        context.duration.as_secs_f64()
    );
    let mut machine: Vec<Vec<String>> = context
        .machine
        .iter()
        .cloned()
        .map(|(k, v)| vec![k, v])
        .collect();
    machine.push(vec![
        "load average (1, 5, 15 min) before / after the run".into(),
        format!("{} / {}", context.load.0, context.load.1),
    ]);
    let _ = writeln!(out, "## Machine\n\n{}", report::table(&["", ""], &machine));

    let level = |c: usize| levels.iter().find(|l| l.concurrency == c);
    let added = |c: usize, pick: fn(&Summary) -> f64| -> Result<f64, String> {
        level(c)
            .and_then(Level::added_ttft)
            .map(|s| pick(&s))
            .ok_or_else(|| format!("no replies at concurrency {c}"))
    };
    let mut figures = vec![
        Figure::new(
            "added TTFT p50, 100 streams",
            added(100, |s| s.p50),
            "ms",
            Target::AtMost(1.0),
        ),
        Figure::new(
            "added TTFT p99, 100 streams",
            added(100, |s| s.p99),
            "ms",
            Target::AtMost(5.0),
        ),
        Figure::new(
            "server RSS idle (just started)",
            mb(memory.started),
            "MB",
            Target::AtMost(30.0),
        ),
        Figure::new(
            "server RSS idle (after warm-up: users, a few replies)",
            mb(memory.warm),
            "MB",
            Target::AtMost(30.0),
        ),
        Figure::new(
            format!(
                "server RSS with {} idle authenticated sockets",
                count(idle.wanted as u64)
            ),
            if idle.opened == idle.wanted {
                mb(idle.rss_mib)
            } else {
                Err(format!(
                    "only {} of {} sockets opened{}",
                    idle.opened,
                    idle.wanted,
                    idle.error
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                ))
            },
            "MB",
            if idle.wanted >= 10_000 {
                Target::AtMost(200.0)
            } else {
                Target::None
            },
        ),
        Figure::new(
            "render of a 1,000-message conversation page (median)",
            render
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|r| median(&r.repeats).ok_or_else(|| "no repeats".into())),
            "ms",
            Target::AtMost(50.0),
        ),
    ];
    let writes_difference = writes.as_ref().map_err(Clone::clone).and_then(|all| {
        let mean = |label| {
            all.iter()
                .find(|w| w.label == label)
                .and_then(Writes::mean_total)
        };
        match (mean("short"), mean("long")) {
            (Some(short), Some(long)) => Ok(long - short),
            _ => Err("no replies".into()),
        }
    });
    figures.push(Figure::new(
        format!(
            "extra DB row writes of a {}-token reply over a {}-token one",
            plan.long.tokens, plan.short.tokens
        ),
        writes_difference,
        "",
        Target::Equals(0.0),
    ));
    figures.push(Figure::new(
        "release WASM, gzip -9",
        match wasm {
            Ok(w) if w.debug_build => Err(format!(
                "only a development build is in the site folder ({} KB gzip); build the release one with \
                 `cargo leptos build --release`",
                number(w.gzip as f64 / 1e3)
            )),
            Ok(w) => Ok(w.gzip as f64 / 1e3),
            Err(e) => Err(e.clone()),
        },
        "KB",
        Target::AtMost(300.0),
    ));
    figures.push(Figure::new(
        "cold start to the first 200 (GET /login)",
        Ok(cold_start.as_secs_f64() * 1e3),
        "ms",
        Target::None,
    ));
    let _ = writeln!(
        out,
        "## Targets\n\nThe targets are for a 2-core machine; sizes in MB and KB are 10^6 and 10^3 bytes.\n\n{}",
        report::figures_table(&figures)
    );

    // Latency and throughput.
    let mut rows = Vec::new();
    for l in levels {
        let errors = l.direct.errors.len() + l.through_server.errors.len();
        rows.push(vec![
            count(l.concurrency as u64),
            format!(
                "{} / {}",
                l.direct.replies.len(),
                l.through_server.replies.len()
            ),
            summary_cells(Level::ttft(&l.direct)),
            summary_cells(Level::ttft(&l.through_server)),
            summary_cells(l.added_ttft()),
            errors.to_string(),
        ]);
    }
    let _ = writeln!(
        out,
        "## Time to first token\n\nFrom sending the request to the first delta at the client, in ms, p50 / p95 / p99. \
         *Direct* asks the fake upstream itself for a streamed chat completion; *through the server* posts a \
         message over the JSON API and reads the deltas on the WebSocket. *Added* is the server's percentile minus \
         the direct one, both measured in the same run. Each reply: {}.\n\n{}",
        plan.shape.describe(),
        report::table(
            &["concurrency", "replies direct / server", "direct", "through the server", "added", "errors"],
            &rows
        )
    );
    let mut rows = Vec::new();
    for l in levels {
        let split = |pick: fn(&ReplyTiming) -> Option<f64>| {
            let samples: Vec<f64> = l.through_server.replies.iter().filter_map(pick).collect();
            median(&samples).map(ms).unwrap_or_else(|| "–".into())
        };
        rows.push(vec![
            count(l.concurrency as u64),
            split(|r| r.before_upstream_ms),
            split(|r| r.first_token_relay_ms),
        ]);
    }
    let _ = writeln!(
        out,
        "Where the server's time goes (medians, ms, on the bench's one clock): from the send to the upstream \
         receiving the server's request (auth, saving the message, building the context, the provider call), and \
         from the upstream sending the first token to the client receiving it (parsing, the event bus, the socket).\n\n{}",
        report::table(&["concurrency", "send → upstream request", "upstream first token → client"], &rows)
    );
    let mut rows = Vec::new();
    for l in levels {
        let last = |run: &RunResult| {
            let samples: Vec<f64> = run.replies.iter().map(|r| r.last_delta_ms).collect();
            median(&samples).map(ms).unwrap_or_else(|| "–".into())
        };
        let per_reply = |run: &RunResult| {
            if run.replies.is_empty() {
                "–".into()
            } else {
                number(run.deltas() as f64 / run.replies.len() as f64)
            }
        };
        rows.push(vec![
            count(l.concurrency as u64),
            format!("{} / {}", last(&l.direct), last(&l.through_server)),
            format!(
                "{} / {}",
                per_reply(&l.direct),
                per_reply(&l.through_server)
            ),
            format!(
                "{} / {}",
                count(l.direct.deltas_per_second() as u64),
                count(l.through_server.deltas_per_second() as u64)
            ),
            l.server_cpu_seconds
                .map(number)
                .unwrap_or_else(|| "–".into()),
            l.cpu_per_thousand_tokens()
                .map(number)
                .unwrap_or_else(|| "–".into()),
            l.bench_cpu_seconds
                .map(number)
                .unwrap_or_else(|| "–".into()),
        ]);
    }
    let _ = writeln!(
        out,
        "## Streaming throughput and CPU\n\nDirect / through the server. Aggregate deltas per second are all deltas \
         received over the run's wall time (paced by the upstream, so they grow with concurrency until something \
         saturates). CPU is the server process's user + system time during the through-the-server run; the bench \
         process (load generator and fake upstream) shares the same cores.\n\n{}",
        report::table(
            &[
                "concurrency",
                "time to last delta p50 (ms)",
                "deltas per reply",
                "aggregate deltas/s",
                "server CPU (s)",
                "server CPU s per 1,000 tokens",
                "bench CPU (s)",
            ],
            &rows
        )
    );
    let errors: Vec<&String> = levels
        .iter()
        .flat_map(|l| l.direct.errors.iter().chain(l.through_server.errors.iter()))
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "First errors ({} in all):\n", errors.len());
        for error in errors.iter().take(5) {
            let _ = writeln!(out, "- `{error}`");
        }
        out.push('\n');
    }

    // Memory.
    let mem = |v: Option<f64>| mb(v).map(number).unwrap_or_else(|e| e);
    let _ = writeln!(
        out,
        "## Memory\n\nServer resident set (VmRSS; peak is VmHWM), MB.\n\n{}",
        report::table(
            &["when", "RSS (MB)"],
            &[
                vec!["idle, just started".into(), mem(memory.started)],
                vec![
                    format!("idle, after registering {} users", plan.users),
                    mem(memory.registered),
                ],
                vec!["idle, after warm-up (6 replies direct, 6 through the server)".into(), mem(memory.warm)],
                vec![
                    format!(
                        "{} idle authenticated sockets (opened in {:.1} s; {} of {} sampled answered a ping)",
                        count(idle.opened as u64),
                        idle.open_time.as_secs_f64(),
                        idle.pings_answered,
                        idle.pings_sent
                    ),
                    mem(idle.rss_mib),
                ],
                vec!["idle, after the whole run".into(), mem(memory.after)],
                vec!["peak over the run".into(), mem(memory.peak)],
            ]
        )
    );

    // Database writes.
    match writes {
        Ok(all) => {
            let mut rows = Vec::new();
            for w in all {
                let totals: Vec<String> =
                    w.per_reply.iter().map(|(t, _, _)| t.to_string()).collect();
                let duration = median(
                    &w.per_reply
                        .iter()
                        .map(|(_, _, r)| r.last_delta_ms)
                        .collect::<Vec<_>>(),
                )
                .map(|d| format!("{:.1}", d / 1e3))
                .unwrap_or_else(|| "–".into());
                let breakdown: Vec<String> = w
                    .mean_by_table()
                    .into_iter()
                    .map(|(k, n)| format!("{k} {}", number(n)))
                    .collect();
                rows.push(vec![
                    format!("{} tokens", w.shape.tokens),
                    duration,
                    median(&w.cpu_seconds)
                        .map(|s| number(s * 1e3))
                        .unwrap_or_else(|| "–".into()),
                    w.persisted_halfway
                        .iter()
                        .map(|b| {
                            b.map(|b| count(b as u64))
                                .unwrap_or_else(|| "no streaming row".into())
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    totals.join(", "),
                    w.mean_total().map(number).unwrap_or_else(|| "–".into()),
                    breakdown.join("; "),
                ]);
            }
            let _ = writeln!(
                out,
                "## Database writes per reply\n\nRow writes counted by AFTER INSERT/UPDATE/DELETE triggers on every \
                 table (installed only for this phase), from just before the message is posted to 0.5 s after its \
                 final event; conversation creation is not included. Same pace for both: {} ms per token, \
                 STREAM_FLUSH_INTERVAL at its default. *Text in the DB halfway* is the length of the streaming \
                 reply's `content` read from SQLite halfway through its stream: what a crash then would keep.\n\n{}",
                plan.short.pace.as_millis(),
                report::table(
                    &["reply", "stream time (s)", "server CPU per reply (ms)", "text in the DB halfway (bytes)", "writes per reply", "mean", "mean by table and operation"],
                    &rows
                )
            );
            let cpu = |label| {
                all.iter()
                    .find(|w| w.label == label)
                    .and_then(|w| median(&w.cpu_seconds).map(|s| (s, w.shape.tokens as f64)))
            };
            if let (Some((short, short_tokens)), Some((long, long_tokens))) =
                (cpu("short"), cpu("long"))
            {
                let per_token = (long - short) / (long_tokens - short_tokens);
                let _ = writeln!(
                    out,
                    "From the same replies, one at a time: each streamed token costs the server about {} µs of CPU, and a \
                     reply about {} ms besides its tokens (saving, context, accounting, the final events).\n",
                    number(per_token * 1e6),
                    number((short - short_tokens * per_token) * 1e3)
                );
            }
        }
        Err(e) => {
            let _ = writeln!(out, "## Database writes per reply\n\nNot measured: {e}\n");
        }
    }

    // Render.
    match render {
        Ok(r) => {
            let _ = writeln!(
                out,
                "## Page render\n\n`GET /c/{{id}}` with the session cookie, a conversation of {} messages (markdown with \
                 lists, tables, inline code and fenced code blocks, inserted into SQLite), timed to the whole body.\n\n{}",
                count(r.messages_in_conversation as u64),
                report::table(
                    &["status", "first request (ms)", "median of repeats (ms)", "repeats", "HTML", "inserted messages found in the HTML"],
                    &[vec![
                        r.status.to_string(),
                        ms(r.first.as_secs_f64() * 1e3),
                        median(&r.repeats).map(ms).unwrap_or_else(|| "–".into()),
                        r.repeats.len().to_string(),
                        format!("{} bytes", count(r.html_bytes as u64)),
                        format!("{} of {}", count(r.messages_found as u64), count(r.inserted as u64)),
                    ]]
                )
            );
        }
        Err(e) => {
            let _ = writeln!(out, "## Page render\n\nNot measured: {e}\n");
        }
    }

    // WASM.
    match wasm {
        Ok(w) => {
            let _ = writeln!(
                out,
                "## WASM bundle\n\n`{}`{}: {} bytes raw, {} bytes gzip -9.\n",
                w.path.display(),
                if w.debug_build {
                    " (a development build: it carries debug names or DWARF, which the release build strips)"
                } else {
                    " (release: no debug names or DWARF)"
                },
                count(w.raw),
                count(w.gzip)
            );
        }
        Err(e) => {
            let _ = writeln!(out, "## WASM bundle\n\nNot measured: {e}.\n");
        }
    }

    let _ = writeln!(
        out,
        "## Server log\n\n{} warnings and {} errors in the server's log over the run.\n",
        complaints.warnings, complaints.errors
    );
    for line in &complaints.first {
        let _ = writeln!(out, "    {line}");
    }
    if !complaints.first.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "## How it was run\n\n\
         - Server: `{}` (release), started once on a fresh SQLite file in a temp folder, `RUST_LOG={}`, \
         other settings at their defaults; OpenAI provider (`{}`) pointed at the fake upstream via `OPENAI_BASE_URL`.\n\
         - Fake upstream: OpenAI chat-completions SSE on loopback, its own tokio runtime with {} worker thread(s), \
         TCP_NODELAY; it records when each request arrived and its first token left.\n\
         - Load generator: the bench's main tokio runtime; {} users registered through the API; one WebSocket per \
         concurrent stream (users shared round-robin); every reply in a fresh conversation; bounded by count and \
         {} s per run. Open-file limit raised to {} for the bench and the server.\n\
         - Levels (concurrency × replies): {}.\n",
        context.server_bin.display(),
        context.args.server_log,
        load::MODEL,
        context.upstream_threads,
        plan.users,
        plan.time_per_run.as_secs(),
        count(context.open_files),
        plan.levels
            .iter()
            .map(|(c, n)| format!("{} × {}", count(*c as u64), count(*n as u64)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::TimeZone as _;
    use clap::Parser as _;

    use super::*;

    fn timing(first: f64, last: f64, deltas: usize, relay: Option<(f64, f64)>) -> ReplyTiming {
        ReplyTiming {
            first_delta_ms: first,
            last_delta_ms: last,
            deltas,
            before_upstream_ms: relay.map(|(before, _)| before),
            first_token_relay_ms: relay.map(|(_, relay)| relay),
        }
    }

    fn level(concurrency: usize, scale: f64, errors: &[&str]) -> Level {
        let direct = RunResult {
            replies: (0..20)
                .map(|i| timing(20.0 + f64::from(i) * 0.1 * scale, 320.5, 30, None))
                .collect(),
            errors: errors.iter().take(1).map(|e| e.to_string()).collect(),
            wall: Duration::from_millis(1_500),
        };
        let through_server = RunResult {
            replies: (0..20)
                .map(|i| {
                    let relay = (i % 4 != 0).then_some((0.8 * scale, 0.25 + f64::from(i) * 0.01));
                    timing(21.2 + f64::from(i) * 0.2 * scale, 331.75, 31, relay)
                })
                .collect(),
            errors: errors.iter().skip(1).map(|e| e.to_string()).collect(),
            wall: Duration::from_millis(1_650),
        };
        Level {
            concurrency,
            direct,
            through_server,
            server_cpu_seconds: Some(0.42 * scale),
            bench_cpu_seconds: Some(1.3 * scale),
        }
    }

    fn context<'a>(args: &'a Args, plan: &'a Plan) -> Context<'a> {
        Context {
            args,
            plan,
            server_bin: Path::new("/cache/target/release/server"),
            upstream_threads: 1,
            open_files: 1_048_576,
            duration: Duration::from_millis(97_400),
            load: ("0.52 0.61 0.70".into(), "1.93 1.02 0.81".into()),
            finished: chrono::Utc
                .with_ymd_and_hms(2026, 12, 1, 9, 30, 0)
                .single()
                .expect("a valid date"),
            command: vec!["target/release/bench".into(), "--quick".into()],
            commit: "0123456789ab (with uncommitted changes)".into(),
            machine: vec![
                ("CPU".into(), "AMD EPYC 7B13".into()),
                ("cores available".into(), "2".into()),
                ("memory".into(), "7.8 GiB".into()),
                ("kernel".into(), "Linux 6.8.0".into()),
            ],
        }
    }

    fn writes(label: &'static str, tokens: usize, cpu: &[f64]) -> Writes {
        let shape = ReplyShape {
            tokens,
            first_token: Duration::from_millis(20),
            pace: Duration::from_millis(10),
            markdown: None,
        };
        let per_reply = (0..cpu.len())
            .map(|i| {
                let counts: WriteCounts = [
                    ("messages insert".to_owned(), 2),
                    (
                        "messages update".to_owned(),
                        3 + i as i64 + tokens as i64 / 100,
                    ),
                    ("usage_log insert".to_owned(), 1),
                    ("conversations delete".to_owned(), 0),
                ]
                .into_iter()
                .collect();
                let total = counts.values().sum();
                (
                    total,
                    counts,
                    timing(20.0, tokens as f64 * 10.2, tokens, None),
                )
            })
            .collect();
        Writes {
            label,
            shape,
            per_reply,
            cpu_seconds: cpu.to_vec(),
            persisted_halfway: (0..cpu.len())
                .map(|i| (i != 1).then_some(tokens as i64 * 3 + i as i64))
                .collect(),
        }
    }

    fn render(repeats: Vec<f64>) -> Render {
        Render {
            messages_in_conversation: 1_000,
            inserted: 994,
            first: Duration::from_micros(48_250),
            repeats,
            html_bytes: 2_345_678,
            messages_found: 993,
            status: 200,
        }
    }

    fn wasm(debug_build: bool) -> site::WasmSize {
        site::WasmSize {
            path: "/work/target/site/pkg/rustchat.wasm".into(),
            raw: 1_234_567,
            gzip: 287_654,
            debug_build,
        }
    }

    /// A full run where every figure was measured, errors and log complaints included.
    fn everything_measured() -> String {
        let args = Args::parse_from(["bench", "--full"]);
        let plan = Plan::new(&args);
        let errors = [
            "direct: connection reset",
            "reply timed out after 120 s",
            "HTTP 502 from /api/conversations",
            "socket closed",
            "socket closed",
            "socket closed",
            "socket closed",
        ];
        let levels = vec![
            level(1, 1.0, &[]),
            level(10, 1.5, &errors[..2]),
            level(100, 2.0, &errors[2..]),
            level(1_000, 4.0, &[]),
        ];
        let complaints = Complaints {
            warnings: 1,
            errors: 1,
            first: vec![
                "2026-12-01T09:29:01Z  WARN server::chat: flushing streamed text error=busy".into(),
                "2026-12-01T09:29:02Z ERROR server::http: internal error".into(),
            ],
        };
        write_report(
            &context(&args, &plan),
            Duration::from_micros(123_456),
            &complaints,
            Memory {
                started: Some(11.5),
                registered: Some(12.25),
                warm: Some(14.0),
                after: Some(25.125),
                peak: Some(61.75),
            },
            &levels,
            &IdleSockets {
                opened: 10_000,
                wanted: 10_000,
                open_time: Duration::from_millis(4_321),
                rss_mib: Some(118.5),
                pings_answered: 20,
                pings_sent: 20,
                error: None,
            },
            &Ok(vec![
                writes("short", 50, &[0.012, 0.0105, 0.011]),
                writes("long", 1_000, &[0.09, 0.0875, 0.095]),
            ]),
            &Ok(render(vec![9.5, 8.25, 10.75, 8.5])),
            &Ok(wasm(false)),
        )
    }

    /// A quick run where nothing optional was measured.
    fn nothing_measured() -> String {
        let args = Args::parse_from(["bench"]);
        let plan = Plan::new(&args);
        let levels = vec![
            Level {
                concurrency: 1,
                direct: RunResult::default(),
                through_server: RunResult::default(),
                server_cpu_seconds: None,
                bench_cpu_seconds: None,
            },
            Level {
                concurrency: 10,
                direct: RunResult::default(),
                through_server: RunResult::default(),
                server_cpu_seconds: None,
                bench_cpu_seconds: None,
            },
        ];
        write_report(
            &context(&args, &plan),
            Duration::from_millis(95),
            &Complaints::default(),
            Memory {
                started: None,
                registered: None,
                warm: None,
                after: None,
                peak: None,
            },
            &levels,
            &IdleSockets {
                opened: 0,
                wanted: 10_000,
                open_time: Duration::ZERO,
                rss_mib: None,
                pings_answered: 0,
                pings_sent: 0,
                error: Some("Too many open files (os error 24)".into()),
            },
            &Err("database is locked".into()),
            &Err("no answer to copy".into()),
            &Err("`/work/target/site/pkg/rustchat.wasm` is not built".into()),
        )
    }

    /// A quick run with few sockets, a development WASM build, only short replies counted and
    /// no render repeats: the branches between all and nothing.
    fn partly_measured() -> String {
        let args = Args::parse_from(["bench", "--idle-sockets", "500"]);
        let plan = Plan::new(&args);
        write_report(
            &context(&args, &plan),
            Duration::from_millis(1_234),
            &Complaints::default(),
            Memory {
                started: Some(9.0),
                registered: None,
                warm: Some(10.5),
                after: None,
                peak: Some(12.0),
            },
            &[level(100, 1.0, &["only one error"])],
            &IdleSockets {
                opened: 500,
                wanted: 500,
                open_time: Duration::from_millis(250),
                rss_mib: None,
                pings_answered: 19,
                pings_sent: 20,
                error: None,
            },
            &Ok(vec![writes("short", 50, &[0.01])]),
            &Ok(render(Vec::new())),
            &Ok(wasm(true)),
        )
    }

    #[test]
    fn a_run_with_every_figure_measured_reads_as_its_snapshot() {
        assert_eq!(
            everything_measured(),
            include_str!("report/snapshots/everything_measured.md")
        );
    }

    #[test]
    fn a_run_with_no_optional_figure_says_why_each_is_missing() {
        assert_eq!(
            nothing_measured(),
            include_str!("report/snapshots/nothing_measured.md")
        );
    }

    #[test]
    fn a_partial_run_reports_what_it_has() {
        assert_eq!(
            partly_measured(),
            include_str!("report/snapshots/partly_measured.md")
        );
    }
}
