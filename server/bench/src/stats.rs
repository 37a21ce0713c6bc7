//! Percentiles of latency samples. Samples are kept whole (a run holds at most a few thousand
//! replies), so percentiles are exact nearest-rank values rather than histogram estimates.

/// The nearest-rank percentile `p` (0–100) of `sorted`, which must be sorted ascending.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p.clamp(0.0, 100.0) / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.saturating_sub(1).min(sorted.len() - 1)])
}

/// p50, p95, p99 and max of one set of samples.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(samples: &[f64]) -> Option<Self> {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(Self {
            count: sorted.len(),
            p50: percentile(&sorted, 50.0)?,
            p95: percentile(&sorted, 95.0)?,
            p99: percentile(&sorted, 99.0)?,
            max: *sorted.last()?,
        })
    }

    /// Percentile by percentile, `self` minus `baseline`: what the server adds to the latency
    /// the client would see talking to the upstream directly.
    pub fn minus(&self, baseline: &Summary) -> Summary {
        Summary {
            count: self.count.min(baseline.count),
            p50: self.p50 - baseline.p50,
            p95: self.p95 - baseline.p95,
            p99: self.p99 - baseline.p99,
            max: self.max - baseline.max,
        }
    }
}

/// The median of unsorted samples.
pub fn median(samples: &[f64]) -> Option<f64> {
    Summary::of(samples).map(|s| s.p50)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 50.0), Some(50.0));
        assert_eq!(percentile(&sorted, 95.0), Some(95.0));
        assert_eq!(percentile(&sorted, 99.0), Some(99.0));
        assert_eq!(percentile(&sorted, 100.0), Some(100.0));
        assert_eq!(percentile(&sorted, 0.0), Some(1.0));
    }

    #[test]
    fn a_small_sample_reports_its_worst_value_as_p99() {
        let sorted = [1.0, 2.0, 3.0];
        assert_eq!(percentile(&sorted, 99.0), Some(3.0));
        assert_eq!(percentile(&sorted, 50.0), Some(2.0));
    }

    #[test]
    fn no_samples_give_no_summary() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(Summary::of(&[]), None);
    }

    #[test]
    fn summaries_sort_their_samples_and_subtract_a_baseline() {
        let through_server = Summary::of(&[30.0, 10.0, 20.0]).unwrap();
        let direct = Summary::of(&[9.0, 8.0, 7.0]).unwrap();
        assert_eq!(through_server.p50, 20.0);
        let added = through_server.minus(&direct);
        assert_eq!(added.p50, 12.0);
        assert_eq!(added.p99, 21.0);
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
    }
}
