//! The phases of a run, in order, and the report they add up to. The server is started once,
//! on a fresh database; phases that would disturb the latency figures (write-counting
//! triggers, the thousand-message conversation) come after them.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use crate::{
    database::{Sqlite, Templates, WriteCounts},
    environment::{self, Environment},
    load::{self, Api, Bounds, FeedSocket, User},
    measurements::{IdleSockets, Level, Measurements, Memory, Render, Setup, Writes},
    plan::Plan,
    report, sample_text,
    server_process::{self, ServerOptions, ServerProcess},
    site,
    upstream::{FakeUpstream, ReplyShape},
    Args,
};

fn progress(started: Instant, what: &str) {
    eprintln!("[{:6.1} s] {what}", started.elapsed().as_secs_f64());
}

pub async fn run(args: &Args, open_files: libc::rlim_t) -> Result<String, String> {
    let started = Instant::now();
    let load_before = environment::load_average();
    let plan = Plan::new(args);
    let server_bin = args.server_bin();
    let site_root = absolute(&args.site_root);
    let (upstream, server) = start(args, &server_bin, &site_root, started).await?;
    let mut memory = Memory {
        started: settled_rss(&server, Duration::from_secs(1)).await,
        ..Memory::default()
    };

    let api = Api::new(&server.base);
    let users = load::register_users(&api, plan.users).await?;
    memory.registered = settled_rss(&server, Duration::from_secs(1)).await;
    progress(
        started,
        &format!("registered {} users; warming up", users.len()),
    );
    warm_up(&api, &upstream, &server, &users, plan.shape).await?;
    memory.warm = settled_rss(&server, Duration::from_secs(1)).await;

    // Idle sockets on the warmed-up server, before the load: the figure is what the sockets
    // cost, not what the allocator kept from the load phases.
    progress(
        started,
        &format!("opening {} idle sockets", plan.idle_sockets),
    );
    let idle = idle_sockets(&server, &users, plan.idle_sockets).await;
    let levels = run_levels(&api, &upstream, &server, &users, &plan, started).await?;

    let (writes, render) = match &args.database_url {
        // Both phases read and write SQLite's file directly.
        Some(_) => {
            let skipped = "not measured on PostgreSQL (the phase reads SQLite's file)";
            (Err(skipped.to_owned()), Err(skipped.to_owned()))
        }
        None => {
            progress(started, "counting database writes per reply");
            let sqlite = Sqlite::open(&server.db_path).await?;
            let writes = count_writes(&api, &server, &upstream, &sqlite, &users[0], &plan).await;
            progress(
                started,
                "rendering conversation pages of 100 to 10,000 messages",
            );
            let render = render_page(&api, &upstream, &sqlite, &users[0], &plan).await;
            (writes, render)
        }
    };

    memory.after = settled_rss(&server, Duration::from_secs(2)).await;
    memory.peak = server.peak_rss_mib();
    let wasm = site::wasm_size(&site_root);
    progress(started, "done");

    Ok(report::markdown(&Measurements {
        setup: Setup {
            plan,
            server_bin,
            server_log: args.server_log.clone(),
            postgres: args.database_url.is_some(),
            upstream_threads: upstream.threads,
            open_files,
            duration: started.elapsed(),
        },
        environment: Environment::read(load_before),
        cold_start: server.cold_start,
        complaints: server.complaints(),
        memory,
        idle,
        levels,
        writes,
        render,
        wasm,
    }))
}

/// The fake upstream, then the server on a fresh database, pointed at it.
async fn start(
    args: &Args,
    server_bin: &Path,
    site_root: &Path,
    started: Instant,
) -> Result<(Arc<FakeUpstream>, ServerProcess), String> {
    if !server_bin.exists() {
        return Err(format!(
            "no server binary at {}: build it with `cargo build --release -p server` or pass --server-bin",
            server_bin.display()
        ));
    }
    let upstream = Arc::new(
        FakeUpstream::start(args.upstream_threads)
            .map_err(|e| format!("cannot start the fake upstream: {e}"))?,
    );
    progress(started, "starting the server on a fresh SQLite database");
    let server = ServerProcess::start(&ServerOptions {
        bin: server_bin,
        upstream: &upstream.address,
        site_root,
        log_filter: &args.server_log,
        database_url: args.database_url.as_deref(),
    })
    .await?;
    progress(
        started,
        &format!(
            "cold start to the first 200: {:.0} ms",
            server.cold_start.as_secs_f64() * 1e3
        ),
    );
    Ok((upstream, server))
}

/// The server's resident memory once it has been left alone for `quiet`, in MiB.
async fn settled_rss(server: &ServerProcess, quiet: Duration) -> Option<f64> {
    tokio::time::sleep(quiet).await;
    server.rss_mib()
}

fn absolute(path: &Path) -> PathBuf {
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

/// Each concurrency level of the plan in turn, with a pause between them.
async fn run_levels(
    api: &Api,
    upstream: &Arc<FakeUpstream>,
    server: &ServerProcess,
    users: &[User],
    plan: &Plan,
    started: Instant,
) -> Result<Vec<Level>, String> {
    let mut levels = Vec::new();
    for &(concurrency, replies) in &plan.levels {
        progress(
            started,
            &format!(
                "concurrency {concurrency}: {replies} replies direct, then through the server"
            ),
        );
        let load = (concurrency, replies, plan.shape);
        levels.push(run_level(api, upstream, server, users, plan, load, true).await?);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (concurrency, replies) = plan.unpaced;
    progress(
        started,
        &format!("concurrency {concurrency}, no pacing: {replies} replies direct, then through the server"),
    );
    let load = (concurrency, replies, plan.unpaced_shape);
    levels.push(run_level(api, upstream, server, users, plan, load, false).await?);
    Ok(levels)
}

async fn run_level(
    api: &Api,
    upstream: &Arc<FakeUpstream>,
    server: &ServerProcess,
    users: &[User],
    plan: &Plan,
    (concurrency, replies, shape): (usize, usize, ReplyShape),
    paced: bool,
) -> Result<Level, String> {
    let bounds = Bounds {
        concurrency,
        count: replies,
        time: plan.time_per_run,
    };
    let direct = load::run_direct(upstream, shape, bounds).await;
    upstream.forget_all();
    let feeds = load::open_feeds(&server.base, users, concurrency, 100).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let self_stat = "/proc/self/stat";
    let (server_cpu, bench_cpu) = (server.cpu_seconds(), server_process::cpu_seconds(self_stat));
    let (through_server, feeds) =
        load::run_through_server(api, upstream, feeds, shape, bounds).await;
    let server_cpu_seconds = server.cpu_seconds().zip(server_cpu).map(|(b, a)| b - a);
    let bench_cpu_seconds = server_process::cpu_seconds(self_stat)
        .zip(bench_cpu)
        .map(|(b, a)| b - a);
    close_feeds(feeds).await;
    upstream.forget_all();
    Ok(Level {
        concurrency,
        paced,
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
) -> Result<Vec<Render>, String> {
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
    let mut renders = Vec::new();
    let mut inserted = 0;
    for &size in &plan.render_sizes {
        let adding = size.saturating_sub(items.len() + inserted);
        sqlite.add_messages(&templates, inserted, adding).await?;
        inserted += adding;
        renders.push(
            measure_page(
                api,
                user,
                &conversation_id,
                items.len() + inserted,
                inserted,
                plan,
            )
            .await?,
        );
    }
    Ok(renders)
}

/// The page of a conversation of `messages` (`inserted` of them copies with markers): timed
/// once and then repeatedly, then every earlier page "Load earlier" reads, to the first message.
async fn measure_page(
    api: &Api,
    user: &User,
    conversation_id: &str,
    messages: usize,
    inserted: usize,
    plan: &Plan,
) -> Result<Render, String> {
    let path = format!("/c/{conversation_id}");
    let (status, html, first) = api.get_page(user, &path).await?;
    let mut repeats = Vec::new();
    for _ in 0..plan.render_repeats {
        let (_, _, took) = api.get_page(user, &path).await?;
        repeats.push(took.as_secs_f64() * 1e3);
    }
    let on_page = sample_text::markers_in(&html);
    let mut everywhere = on_page.clone();
    let mut earlier_pages = Vec::new();
    let mut before = first_message_id(&html);
    while let Some(id) = before {
        let (body, took) = api
            .get_timed(
                user,
                &format!("/api/conversations/{conversation_id}/branch?before={id}"),
            )
            .await?;
        earlier_pages.push(took.as_secs_f64() * 1e3);
        everywhere.extend(sample_text::markers_in(&body));
        let page: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
        let first = &page[0]["message"];
        before = first["parent_id"]
            .is_string()
            .then(|| first["id"].as_str().map(str::to_owned))
            .flatten();
    }
    let count =
        |found: &std::collections::HashSet<usize>| found.iter().filter(|i| **i < inserted).count();
    Ok(Render {
        messages_in_conversation: messages,
        inserted,
        first,
        repeats,
        html_bytes: html.len(),
        messages_on_page: html.matches("data-message-id=\"").count(),
        messages_found: count(&on_page),
        earlier_pages,
        found_in_all: count(&everywhere),
        status,
    })
}

/// The id of the first message on a chat page.
fn first_message_id(html: &str) -> Option<String> {
    let at = html.find("data-message-id=\"")? + "data-message-id=\"".len();
    html.get(at..at + 36).map(str::to_owned)
}
