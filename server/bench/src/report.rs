//! The markdown report: the machine, the run, every figure with its target and whether it
//! holds, then the detail tables.

use std::fmt::Write as _;

/// A figure checked against a target.
#[derive(Clone, Debug)]
pub struct Figure {
    pub name: String,
    /// The value, or why there is none.
    pub value: Result<f64, String>,
    pub unit: &'static str,
    pub target: Target,
}

#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// At most this much.
    AtMost(f64),
    /// Exactly this (used for "independent of length": the difference must be zero).
    Equals(f64),
    /// Reported without a target.
    None,
}

impl Figure {
    pub fn new(
        name: impl Into<String>,
        value: Result<f64, String>,
        unit: &'static str,
        target: Target,
    ) -> Self {
        Self {
            name: name.into(),
            value,
            unit,
            target,
        }
    }

    /// Whether the value meets the target; `None` when there is no target or no value.
    pub fn holds(&self) -> Option<bool> {
        let value = *self.value.as_ref().ok()?;
        match self.target {
            Target::AtMost(limit) => Some(value <= limit),
            Target::Equals(expected) => Some((value - expected).abs() < 1e-9),
            Target::None => None,
        }
    }

    pub fn row(&self) -> String {
        let value = match &self.value {
            Ok(v) => format!("{} {}", number(*v), self.unit)
                .trim_end()
                .to_owned(),
            Err(why) => format!("not measured: {why}"),
        };
        let target = match self.target {
            Target::AtMost(limit) => format!("≤ {} {}", number(limit), self.unit)
                .trim_end()
                .to_owned(),
            Target::Equals(expected) => format!("= {} {}", number(expected), self.unit)
                .trim_end()
                .to_owned(),
            Target::None => "–".into(),
        };
        let verdict = match self.holds() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "–",
        };
        format!("| {} | {value} | {target} | {verdict} |", self.name)
    }
}

/// A number with as many decimals as its size deserves.
pub fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 0.1 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// Thousands separated by commas, for counts and byte sizes.
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn figures_table(figures: &[Figure]) -> String {
    let mut table = String::from("| figure | value | target | holds |\n|---|---|---|---|\n");
    for figure in figures {
        let _ = writeln!(table, "{}", figure.row());
    }
    table
}

/// A markdown table from a header and rows.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out
}

/// The machine the run happened on, from /proc.
pub fn machine() -> Vec<(String, String)> {
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
pub fn git_commit() -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_row_shows_value_target_and_verdict() {
        let met = Figure::new("idle RSS", Ok(21.46), "MB", Target::AtMost(30.0));
        assert_eq!(met.row(), "| idle RSS | 21.5 MB | ≤ 30 MB | yes |");
        let missed = Figure::new("added TTFT p99", Ok(7.25), "ms", Target::AtMost(5.0));
        assert_eq!(missed.holds(), Some(false));
        assert!(missed.row().ends_with("| **no** |"));
    }

    #[test]
    fn a_missing_figure_says_why_and_has_no_verdict() {
        let missing = Figure::new(
            "WASM gzip",
            Err("not built".into()),
            "KB",
            Target::AtMost(300.0),
        );
        assert_eq!(missing.holds(), None);
        assert_eq!(
            missing.row(),
            "| WASM gzip | not measured: not built | ≤ 300 KB | – |"
        );
    }

    #[test]
    fn an_equality_target_holds_only_when_equal() {
        let same = Figure::new("extra writes", Ok(0.0), "", Target::Equals(0.0));
        assert_eq!(same.holds(), Some(true));
        let more = Figure::new("extra writes", Ok(38.0), "", Target::Equals(0.0));
        assert_eq!(more.holds(), Some(false));
        assert_eq!(more.row(), "| extra writes | 38 | = 0 | **no** |");
    }

    #[test]
    fn numbers_and_counts_read_well() {
        assert_eq!(number(0.0423), "0.042");
        assert_eq!(number(4.56789), "4.57");
        assert_eq!(number(1234.6), "1235");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(999), "999");
        let t = table(&["a", "b"], &[vec!["1".into(), "2".into()]]);
        assert_eq!(t, "| a | b |\n|---|---|\n| 1 | 2 |\n");
    }
}
