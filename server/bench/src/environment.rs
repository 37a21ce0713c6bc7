//! Where and when the run happened: the machine from /proc, the command line, the checked-out
//! commit and the load other work put on the machine.

use chrono::{DateTime, Utc};

pub struct Environment {
    pub finished: DateTime<Utc>,
    pub command: Vec<String>,
    pub commit: String,
    /// (what, value) rows: CPU, cores, memory, kernel.
    pub machine: Vec<(String, String)>,
    /// Load averages before and after the run.
    pub load: (String, String),
}

impl Environment {
    /// Read at the end of the run; `load_before` was read at its start.
    pub fn read(load_before: String) -> Self {
        Self {
            finished: Utc::now(),
            command: std::env::args().map(|arg| without_password(&arg)).collect(),
            commit: git_commit(),
            machine: machine(),
            load: (load_before, load_average()),
        }
    }
}

/// The machine the run happened on, from /proc.
fn machine() -> Vec<(String, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map(|kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!("Linux {}", k.trim()))
        .unwrap_or_else(|_| "unknown".into());
    vec![
        ("CPU".into(), cpu),
        ("cores available".into(), cores),
        ("memory".into(), memory),
        ("kernel".into(), kernel),
    ]
}

/// The 1, 5 and 15-minute load averages: other work on the machine skews every figure.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The checked-out commit, marked when the tree has uncommitted changes.
fn git_commit() -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match run(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) => {
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{commit} (with uncommitted changes)")
            } else {
                commit
            }
        }
        None => "unknown (not a git checkout)".into(),
    }
}

/// A database URL's password, if an argument holds one, masked for the report.
fn without_password(arg: &str) -> String {
    let Some((scheme, rest)) = arg.split_once("://") else {
        return arg.to_owned();
    };
    match rest.split_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => arg.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_password_in_a_url_is_masked_and_nothing_else_changes() {
        use super::without_password as masked;
        assert_eq!(
            masked("postgres://bench:s3cret@db:5432/bench"),
            "postgres://bench:***@db:5432/bench"
        );
        assert_eq!(
            masked("postgres://postgres@127.0.0.1:5432/bench"),
            "postgres://postgres@127.0.0.1:5432/bench"
        );
        assert_eq!(masked("--full"), "--full");
    }
}
