//! The context sent with a new message: the conversation's system prompt and as much of its
//! history as fits the model's window minus the reply's `max_tokens`, dropping the oldest
//! turns first.
//!
//! The history is read newest first, a page at a time, and reading stops once what was read
//! fills the window ([`Gathering`]): a send costs the window, not the conversation. Each
//! message's token count is stored with its text (`messages.content_tokens`), so a send
//! tokenises only its own message: a stored turn is counted again only when it has no count
//! (from before the column, or imported), or when failed replies left two turns of one role in
//! a row that are joined.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{
    provider::{ChatTurn, Role},
    tokenizer::{self, PER_MESSAGE_OVERHEAD},
};

/// Rows a send reads at a time, newest first.
pub const HISTORY_PAGE: u64 = 64;
/// The most bytes of history read per token of the model's window: far more than any real
/// text needs (English averages about 4 bytes a token), a backstop should counting not stop
/// the reading first.
pub const HISTORY_BYTES_PER_TOKEN: i64 = 16;

/// A turn with our count of its text's tokens (not its files, not the per-message overhead).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountedTurn {
    pub turn: ChatTurn,
    pub tokens: i64,
}

impl CountedTurn {
    /// Counts the turn's text. CPU-bound for long texts: call it from blocking code.
    pub fn new(turn: ChatTurn) -> Self {
        let tokens = tokenizer::count(&turn.content);
        Self { turn, tokens }
    }

    /// With the count stored for it, or counted now when there is none.
    pub fn with_count(turn: ChatTurn, stored: Option<i64>) -> Self {
        match stored {
            Some(tokens) => Self { turn, tokens },
            None => Self::new(turn),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Context {
    pub turns: Vec<ChatTurn>,
    /// Our count of the tokens sent, system prompt included.
    pub tokens: i64,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "Your message is too long for this model: it needs about {needed} tokens and the model \
     leaves room for {available} (context window minus the reply's max tokens)."
)]
pub struct TooLong {
    pub needed: i64,
    pub available: i64,
}

/// What reading histories has cost this process, in rows and bytes of text, and how many of
/// those rows had no stored token count and were tokenised: a test's proof that a send reads
/// the window, not the conversation, and counts only its own message.
#[derive(Debug, Default)]
pub struct HistoryReads {
    rows: AtomicU64,
    bytes: AtomicU64,
    uncounted: AtomicU64,
}

impl HistoryReads {
    pub fn add(&self, rows: u64, bytes: u64, uncounted: u64) {
        self.rows.fetch_add(rows, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.uncounted.fetch_add(uncounted, Ordering::Relaxed);
    }

    /// Rows read without a stored count.
    pub fn uncounted(&self) -> u64 {
        self.uncounted.load(Ordering::Relaxed)
    }

    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// The turns of a conversation gathered newest first, until they fill the window. [`build`]
/// walks the (merged) turns newest first and stops at the first that does not fit, so once
/// the turns gathered reach past the window, older ones cannot change the context: building
/// from what was gathered gives exactly what building from the whole history would.
pub struct Gathering {
    available: i64,
    byte_budget: i64,
    used: i64,
    bytes: i64,
    /// Every usable turn gathered, newest first; the first is the new message.
    turns: Vec<CountedTurn>,
    /// The run of turns of one role being gathered (they will be joined into one), the sum
    /// of their separate token counts, and what their attachments cost.
    run: Option<(Role, Vec<String>, i64, i64)>,
    full: bool,
    /// The new message's count, stored with it.
    prompt_tokens: i64,
}

impl Gathering {
    pub fn new(
        system: Option<&str>,
        new_message: CountedTurn,
        context_window: i64,
        max_tokens: i64,
    ) -> Self {
        let system_tokens = system.map_or(0, |s| tokenizer::count(s) + PER_MESSAGE_OVERHEAD);
        let mut gathering = Self {
            available: context_window - max_tokens - system_tokens,
            byte_budget: context_window.max(1) * HISTORY_BYTES_PER_TOKEN,
            used: 0,
            bytes: 0,
            turns: Vec::new(),
            run: None,
            full: false,
            prompt_tokens: new_message.tokens,
        };
        gathering.push_older(new_message);
        gathering
    }

    /// The new message's token count, to store with it.
    pub fn prompt_tokens(&self) -> i64 {
        self.prompt_tokens
    }

    /// Adds the turn before those gathered so far. Say false once the window is full: nothing
    /// older is needed.
    pub fn push_older(&mut self, counted: CountedTurn) -> bool {
        if self.full {
            return false;
        }
        let CountedTurn { ref turn, tokens } = counted;
        self.bytes += turn.content.len() as i64;
        // Blank turns are dropped before runs are joined, as `merge_consecutive_roles` does.
        if !turn.is_blank() {
            let attached = turn.attachment_tokens();
            match &mut self.run {
                Some((role, texts, sum, extra)) if *role == turn.role => {
                    texts.push(turn.content.clone());
                    *sum += tokens;
                    *extra += attached;
                }
                _ => {
                    self.close_run();
                    self.run = Some((turn.role, vec![turn.content.clone()], tokens, attached));
                }
            }
            self.turns.push(counted);
            // A run of one role can be long (many failed replies in a row): it is closed when
            // its separate counts alone are past the window, with room for the few tokens
            // joining can save at each seam.
            if let Some((_, texts, sum, extra)) = &self.run {
                if self.used + sum + extra - 2 * texts.len() as i64 > self.available {
                    self.full = true;
                }
            }
        }
        if self.bytes > self.byte_budget {
            self.full = true;
        }
        !self.full
    }

    /// Counts a finished run as [`build`] will: joined, plus the per-message overhead. A run
    /// of one turn keeps its count; only a joined run is counted again.
    fn close_run(&mut self) {
        if let Some((_, mut texts, sum, extra)) = self.run.take() {
            let tokens = match texts.len() {
                1 => sum,
                _ => {
                    texts.reverse();
                    tokenizer::count(&texts.join("\n\n"))
                }
            };
            self.used += tokens + PER_MESSAGE_OVERHEAD + extra;
            if self.used > self.available {
                self.full = true;
            }
        }
    }

    pub fn is_full(&self) -> bool {
        self.full
    }

    /// The turns gathered, oldest first, ending with the new message: [`build`]'s `history`.
    pub fn into_history(mut self) -> Vec<CountedTurn> {
        self.turns.reverse();
        self.turns
    }
}

/// `history` is oldest first and ends with the new user message.
pub fn build(
    system: Option<&str>,
    history: Vec<CountedTurn>,
    context_window: i64,
    max_tokens: i64,
) -> Result<Context, TooLong> {
    let system_tokens = system.map_or(0, |s| tokenizer::count(s) + PER_MESSAGE_OVERHEAD);
    let available = context_window - max_tokens - system_tokens;
    let turns = merge_consecutive_roles(history);
    let mut kept = Vec::new();
    let mut used = 0;
    for turn in turns.into_iter().rev() {
        let cost = turn_tokens(&turn);
        if used + cost > available {
            if kept.is_empty() {
                return Err(TooLong {
                    needed: cost,
                    available: available.max(0),
                });
            }
            break;
        }
        used += cost;
        kept.push(turn);
    }
    kept.reverse();
    // Providers want the conversation to open with the user.
    while kept.first().is_some_and(|t| t.turn.role == Role::Assistant) {
        let dropped = kept.remove(0);
        used -= turn_tokens(&dropped);
    }
    Ok(Context {
        turns: kept.into_iter().map(|counted| counted.turn).collect(),
        tokens: used + system_tokens,
    })
}

/// A turn's text, its files and the per-message overhead.
fn turn_tokens(counted: &CountedTurn) -> i64 {
    counted.tokens + PER_MESSAGE_OVERHEAD + counted.turn.attachment_tokens()
}

/// Strict APIs (Anthropic, Gemini) refuse two turns of one role in a row, which happens when
/// a reply failed: such turns are joined, and a joined turn is counted again.
fn merge_consecutive_roles(history: Vec<CountedTurn>) -> Vec<CountedTurn> {
    let mut merged: Vec<(CountedTurn, bool)> = Vec::with_capacity(history.len());
    for counted in history.into_iter().filter(|t| !t.turn.is_blank()) {
        match merged.last_mut() {
            Some((last, joined)) if last.turn.role == counted.turn.role => {
                last.turn.content.push_str("\n\n");
                last.turn.content.push_str(&counted.turn.content);
                last.turn.attachments.extend(counted.turn.attachments);
                *joined = true;
            }
            _ => merged.push((counted, false)),
        }
    }
    merged
        .into_iter()
        .map(|(counted, joined)| match joined {
            true => CountedTurn::new(counted.turn),
            false => counted,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(role: Role, content: &str) -> ChatTurn {
        ChatTurn::new(role, content)
    }

    fn counted(history: Vec<ChatTurn>) -> Vec<CountedTurn> {
        history.into_iter().map(CountedTurn::new).collect()
    }

    #[test]
    fn everything_is_kept_when_it_fits() {
        let history = vec![
            turn(Role::User, "hi"),
            turn(Role::Assistant, "hello"),
            turn(Role::User, "how are you"),
        ];
        let context = build(Some("Be brief."), counted(history.clone()), 10_000, 1_000).unwrap();
        assert_eq!(context.turns, history);
        assert!(context.tokens > 12);
    }

    #[test]
    fn the_oldest_turns_go_first_and_the_context_starts_with_the_user() {
        let long = "word ".repeat(300);
        let history = vec![
            turn(Role::User, &long),
            turn(Role::Assistant, &long),
            turn(Role::User, "short question"),
            turn(Role::Assistant, &long),
            turn(Role::User, "latest"),
        ];
        // Room for roughly two long turns and the short ones.
        let context = build(None, counted(history), 1_000, 300).unwrap();
        assert_eq!(context.turns.first().unwrap().role, Role::User);
        assert_eq!(context.turns.last().unwrap().content, "latest");
        assert!(context.tokens <= 700);
        assert!(context.turns.len() < 5);
    }

    #[test]
    fn a_message_larger_than_the_window_is_refused() {
        let err = build(
            None,
            counted(vec![turn(Role::User, &"word ".repeat(2_000))]),
            1_000,
            500,
        )
        .unwrap_err();
        assert_eq!(err.available, 500);
        assert!(err.needed > 1_000);
    }

    /// Building from what [`Gathering`] kept equals building from the whole history.
    fn gathered_matches_whole(history: &[ChatTurn], window: i64, max_tokens: i64) -> usize {
        let (new_message, older) = history.split_last().unwrap();
        let mut gathering = Gathering::new(
            Some("Be brief."),
            CountedTurn::new(new_message.clone()),
            window,
            max_tokens,
        );
        let mut read = 0;
        for turn in older.iter().rev() {
            read += 1;
            if !gathering.push_older(CountedTurn::new(turn.clone())) {
                break;
            }
        }
        let gathered = build(
            Some("Be brief."),
            gathering.into_history(),
            window,
            max_tokens,
        );
        let whole = build(
            Some("Be brief."),
            counted(history.to_vec()),
            window,
            max_tokens,
        );
        match (gathered, whole) {
            (Ok(gathered), Ok(whole)) => assert_eq!(gathered, whole),
            // Refused alike (the size named may differ: it is the newest run's as far as read).
            (Err(_), Err(_)) => {}
            (gathered, whole) => panic!("gathered {gathered:?}, whole {whole:?}"),
        }
        read
    }

    #[test]
    fn gathering_stops_at_the_window_and_keeps_the_same_context() {
        let long = "word ".repeat(300);
        let mut history = Vec::new();
        for i in 0..200 {
            history.push(turn(Role::User, &format!("question {i} {long}")));
            // Every third reply failed: two user turns in a row, joined.
            if i % 3 != 0 {
                history.push(turn(Role::Assistant, &long));
            }
        }
        history.push(turn(Role::User, "latest"));
        let read = gathered_matches_whole(&history, 4_000, 500);
        assert!(read < 20, "read {read} of {} turns", history.len());
        // A window wider than the conversation reads all of it.
        let read = gathered_matches_whole(&history, 1_000_000, 500);
        assert_eq!(read, history.len() - 1);
    }

    #[test]
    fn gathering_a_message_too_long_for_the_window_refuses_it_alike() {
        let history = vec![
            turn(Role::User, "hi"),
            turn(Role::Assistant, "hello"),
            turn(Role::User, &"word ".repeat(2_000)),
        ];
        gathered_matches_whole(&history, 1_000, 500);
    }

    #[test]
    fn a_long_run_of_one_role_stops_the_gathering_too() {
        let long = "word ".repeat(300);
        let mut history: Vec<ChatTurn> = (0..100).map(|_| turn(Role::User, &long)).collect();
        history.push(turn(Role::User, "latest"));
        let read = gathered_matches_whole(&history, 4_000, 500);
        assert!(read < 20, "read {read}");
    }

    fn with_image(mut turn: ChatTurn, tokens: i64) -> ChatTurn {
        turn.attachments
            .push(crate::chat::provider::TurnAttachment {
                file_name: "cat.png".into(),
                kind: app::wire::AttachmentKind::Image,
                content_type: "image/png".into(),
                tokens,
                body: crate::chat::provider::AttachmentBody::Image {
                    sha256: "00".into(),
                    data: None,
                },
            });
        turn
    }

    #[test]
    fn a_turn_of_files_alone_is_kept_and_its_files_count() {
        let image_only = with_image(turn(Role::User, ""), 765);
        let context = build(None, counted(vec![image_only.clone()]), 10_000, 100).unwrap();
        assert_eq!(context.turns, vec![image_only]);
        assert_eq!(context.tokens, 765 + PER_MESSAGE_OVERHEAD);
        // An image too large for what is left of the window refuses the send.
        let err = build(
            None,
            counted(vec![with_image(turn(Role::User, "hi"), 5_000)]),
            1_000,
            500,
        );
        assert!(err.is_err());
    }

    #[test]
    fn gathering_counts_files_as_building_does() {
        let long = "word ".repeat(300);
        let mut history = Vec::new();
        for i in 0..30 {
            history.push(with_image(turn(Role::User, &format!("look {i}")), 400));
            history.push(turn(Role::Assistant, &long));
        }
        history.push(with_image(turn(Role::User, "and this?"), 400));
        let read = gathered_matches_whole(&history, 4_000, 500);
        assert!(read < 20, "read {read}");
    }

    #[test]
    fn turns_of_one_role_in_a_row_are_joined() {
        let history = vec![
            turn(Role::User, "first try"),
            turn(Role::User, "second try"),
        ];
        let context = build(None, counted(history), 10_000, 100).unwrap();
        assert_eq!(
            context.turns,
            vec![turn(Role::User, "first try\n\nsecond try")]
        );
    }

    #[test]
    fn a_stored_count_is_used_and_only_joined_turns_are_counted_again() {
        // A count that is not the text's shows it was read, not counted again.
        let history = vec![
            CountedTurn::with_count(turn(Role::User, "hi"), Some(100)),
            CountedTurn::with_count(turn(Role::Assistant, "hello"), Some(200)),
            CountedTurn::with_count(turn(Role::User, "how are you"), Some(300)),
        ];
        let context = build(None, history, 10_000, 100).unwrap();
        assert_eq!(context.tokens, 600 + 3 * PER_MESSAGE_OVERHEAD);

        // Two turns of one role in a row are one text upstream: counted as that text.
        let history = vec![
            CountedTurn::with_count(turn(Role::User, "first try"), Some(100)),
            CountedTurn::with_count(turn(Role::User, "second try"), Some(100)),
        ];
        let context = build(None, history, 10_000, 100).unwrap();
        let joined = tokenizer::count("first try\n\nsecond try");
        assert_eq!(context.tokens, joined + PER_MESSAGE_OVERHEAD);

        // A turn without a stored count is counted.
        let context = build(
            None,
            vec![CountedTurn::with_count(
                turn(Role::User, "hello world"),
                None,
            )],
            10_000,
            100,
        )
        .unwrap();
        assert_eq!(context.tokens, 2 + PER_MESSAGE_OVERHEAD);
    }
}
