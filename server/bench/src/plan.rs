//! How much of everything a run does: the quick run fits in two minutes on two cores, the
//! full one gives steadier percentiles.

use std::time::Duration;

use crate::{upstream::ReplyShape, Args};

pub struct Plan {
    /// `quick` or `full`, for the report's title.
    pub name: &'static str,
    pub users: usize,
    /// (concurrency, replies) per level.
    pub levels: Vec<(usize, usize)>,
    pub time_per_run: Duration,
    pub shape: ReplyShape,
    /// (concurrency, replies) of the level whose replies come with no pacing: what a token
    /// costs when the server is never idle between them.
    pub unpaced: (usize, usize),
    pub unpaced_shape: ReplyShape,
    pub idle_sockets: usize,
    pub short: ReplyShape,
    pub long: ReplyShape,
    pub short_replies: usize,
    pub long_replies: usize,
    /// The conversations whose page is timed, by their number of messages.
    pub render_sizes: Vec<usize>,
    pub render_repeats: usize,
}

impl Plan {
    pub fn new(args: &Args) -> Self {
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
        let unpaced_shape = ReplyShape {
            tokens: 200,
            first_token: Duration::from_millis(20),
            pace: Duration::ZERO,
            markdown: None,
        };
        if args.full {
            Self {
                name: "full",
                users: 50,
                levels: vec![(1, 200), (10, 1_000), (100, 3_000), (1_000, 5_000)],
                time_per_run: Duration::from_secs(60),
                shape,
                unpaced: (100, 1_000),
                unpaced_shape,
                idle_sockets: args.idle_sockets,
                short,
                long,
                short_replies: 3,
                long_replies: 3,
                render_sizes: vec![100, 1_000, 10_000],
                render_repeats: 30,
            }
        } else {
            Self {
                name: "quick",
                users: 10,
                levels: vec![(1, 20), (10, 100), (100, 300), (1_000, 1_000)],
                time_per_run: Duration::from_secs(15),
                shape,
                unpaced: (100, 300),
                unpaced_shape,
                idle_sockets: args.idle_sockets,
                short,
                long,
                short_replies: 2,
                long_replies: 1,
                render_sizes: vec![100, 1_000, 10_000],
                render_repeats: 10,
            }
        }
    }
}
