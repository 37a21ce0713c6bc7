//! The real release server as a child process: a fresh data folder and SQLite file, port 0,
//! the OpenAI provider pointed at the fake upstream. Its bound address is read from its log
//! line `addr=...`; its memory and CPU from `/proc/<pid>/status` and `/proc/<pid>/stat`.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, ChildStdout, Command, Stdio},
    sync::{mpsc::Receiver, Arc, Mutex},
    time::{Duration, Instant},
};

pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub db_path: PathBuf,
    /// Time from spawning to the first 200 on `GET /login`.
    pub cold_start: Duration,
    stderr_path: PathBuf,
    complaints: Arc<Mutex<Complaints>>,
    _data_dir: tempfile::TempDir,
}

/// The WARN and ERROR lines of the server's log: how many, and the first few.
#[derive(Clone, Debug, Default)]
pub struct Complaints {
    pub warnings: usize,
    pub errors: usize,
    pub first: Vec<String>,
}

impl Complaints {
    fn read(&mut self, line: &str) {
        let level = line.split_whitespace().nth(1).unwrap_or_default();
        match level {
            "WARN" => self.warnings += 1,
            "ERROR" => self.errors += 1,
            _ => return,
        }
        if self.first.len() < 5 {
            self.first.push(line.chars().take(300).collect());
        }
    }
}

pub struct ServerOptions<'a> {
    pub bin: &'a Path,
    pub upstream: &'a str,
    pub site_root: &'a Path,
    pub log_filter: &'a str,
    /// A PostgreSQL database to use instead of the fresh SQLite file.
    pub database_url: Option<&'a str>,
}

impl ServerProcess {
    /// Spawns the server on a fresh, empty database and waits for `GET /login` to answer 200.
    pub async fn start(options: &ServerOptions<'_>) -> Result<Self, String> {
        let data_dir = tempfile::Builder::new()
            .prefix("rustchat-bench-")
            .tempdir()
            .map_err(|e| format!("cannot make a temp data folder: {e}"))?;
        let db_path = data_dir.path().join("bench.db");
        let stderr_path = data_dir.path().join("server.stderr");
        let stderr = std::fs::File::create(&stderr_path).map_err(|e| e.to_string())?;
        let spawned = Instant::now();
        let mut child = spawn(options, data_dir.path(), &db_path, stderr)?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (address, complaints) = follow_log(stdout);
        let mut server = Self {
            child,
            base: String::new(),
            db_path,
            cold_start: Duration::ZERO,
            stderr_path,
            complaints,
            _data_dir: data_dir,
        };
        let addr =
            tokio::task::spawn_blocking(move || address.recv_timeout(Duration::from_secs(60)))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|_| format!("the server logged no address: {}", server.stderr_tail()))?;
        server.base = format!("http://{addr}");
        server.wait_for_login(spawned).await?;
        server.cold_start = spawned.elapsed();
        Ok(server)
    }

    /// Polls `GET /login` until it answers 200, for at most a minute after `spawned`.
    async fn wait_for_login(&self, spawned: Instant) -> Result<(), String> {
        let http = reqwest::Client::new();
        let login = format!("{}/login", self.base);
        loop {
            if let Ok(response) = http.get(&login).send().await {
                if response.status() == 200 {
                    return Ok(());
                }
            }
            if spawned.elapsed() > Duration::from_secs(60) {
                return Err(format!(
                    "GET /login gave no 200 within 60 s: {}",
                    self.stderr_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    pub fn complaints(&self) -> Complaints {
        self.complaints
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, in MiB.
    pub fn rss_mib(&self) -> Option<f64> {
        proc_status_kib(self.pid(), "VmRSS:").map(|kib| kib as f64 / 1024.0)
    }

    /// The highest resident memory so far, in MiB.
    pub fn peak_rss_mib(&self) -> Option<f64> {
        proc_status_kib(self.pid(), "VmHWM:").map(|kib| kib as f64 / 1024.0)
    }

    /// User plus system CPU time so far, in seconds.
    pub fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds(&format!("/proc/{}/stat", self.pid()))
    }

    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(10).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server with a clean environment: only what the bench sets, so a `.env` or the caller's
/// variables cannot change the figures. Its log goes to a pipe, its stderr to a file.
fn spawn(
    options: &ServerOptions<'_>,
    data_dir: &Path,
    db_path: &Path,
    stderr: std::fs::File,
) -> Result<Child, String> {
    // The data folder is the working directory too, so a `.env` of the checkout is not read.
    Command::new(options.bin)
        .current_dir(data_dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", data_dir)
        .env(
            "DATABASE_URL",
            options
                .database_url
                .map(str::to_owned)
                .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", db_path.display())),
        )
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_SITE_ROOT", options.site_root)
        .env("JWT_SECRET", "benchmark-secret-0123456789-abcdefghijklmnop")
        // The load comes from one address and a few users, far past a person's pace: thousands
        // of replies and (for the memory figure) 10,000 idle sockets between them.
        .env("AUTH_ATTEMPTS_PER_MINUTE", "0")
        .env("SENDS_PER_MINUTE", "0")
        .env("MAX_ACTIVE_REPLIES_PER_USER", "1000")
        .env("AUTO_TITLES", "off")
        .env("MAX_SOCKETS_PER_USER", "0")
        .env("REGISTRATION", "open")
        .env("OPENAI_API_KEY", "bench")
        .env("OPENAI_BASE_URL", format!("{}/v1", options.upstream))
        .env("RUST_LOG", options.log_filter)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", options.bin.display()))
}

/// Reads the server's log on a thread: sends the bound address from the first `addr=` line,
/// and keeps draining after it, so the server never blocks on a full pipe, counting its
/// warnings and errors for the report.
fn follow_log(stdout: ChildStdout) -> (Receiver<String>, Arc<Mutex<Complaints>>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let complaints = Arc::new(Mutex::new(Complaints::default()));
    let kept = complaints.clone();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.split("addr=").nth(1) {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(addr.split_whitespace().next().unwrap_or("").to_owned());
                }
            }
            if let Ok(mut complaints) = kept.lock() {
                complaints.read(&line);
            }
        }
    });
    (rx, complaints)
}

fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|line| line.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// utime + stime of a `/proc/.../stat` file, in seconds.
pub fn cpu_seconds(stat_path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    parse_cpu_ticks(&stat).map(|ticks| ticks as f64 / clock_ticks_per_second())
}

/// utime + stime from the text of `/proc/<pid>/stat`. The command name (field 2) may hold
/// spaces and parentheses, so fields are counted after its closing parenthesis.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a system constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// Raises this process's open-file limit to its hard limit (at least 65,536 when allowed), so
/// ten thousand sockets fit; the server child inherits it. Returns the soft limit now in force.
pub fn raise_open_file_limit() -> libc::rlim_t {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write to and read from a valid rlimit struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        let wanted = limit.rlim_max.max(65_536);
        let raised = libc::rlimit {
            rlim_cur: wanted,
            rlim_max: wanted,
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
    }
    limit.rlim_cur
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_warn_and_error_lines_count_as_complaints() {
        let mut complaints = Complaints::default();
        complaints.read("2026-11-21T10:00:00Z  INFO server::startup: listening addr=127.0.0.1:1");
        complaints.read("2026-11-21T10:00:01Z  WARN server::chat: flushing streamed text error=x");
        complaints.read("2026-11-21T10:00:02Z ERROR server::http: internal error");
        assert_eq!((complaints.warnings, complaints.errors), (1, 1));
        assert_eq!(complaints.first.len(), 2);
    }

    #[test]
    fn cpu_ticks_are_read_after_a_command_name_with_spaces() {
        let stat = "4242 (tokio (runtime) worker) S 1 4242 4242 0 -1 4194560 500 0 0 0 \
                    150 25 0 0 20 0 8 0 12345 1000000 2000 18446744073709551615";
        assert_eq!(parse_cpu_ticks(stat), Some(175));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }
}
