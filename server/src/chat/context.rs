//! The context sent with a new message: the conversation's system prompt and as much of its
//! history as fits the model's window minus the reply's `max_tokens`, dropping the oldest
//! turns first.
//!
//! The history is read newest first, a page at a time, and reading stops once what was read
//! fills the window ([`Gathering`]): a send costs the window, not the conversation.

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

/// What reading histories has cost this process, in rows and bytes of text: a log field and a
/// test's proof that a send reads the window, not the conversation.
#[derive(Debug, Default)]
pub struct HistoryReads {
    rows: AtomicU64,
    bytes: AtomicU64,
}

impl HistoryReads {
    pub fn add(&self, rows: u64, bytes: u64) {
        self.rows.fetch_add(rows, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
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
    turns: Vec<ChatTurn>,
    /// The run of turns of one role being gathered (they will be joined into one), the sum
    /// of their separate token counts, and what their attachments cost.
    run: Option<(Role, Vec<String>, i64, i64)>,
    full: bool,
}

impl Gathering {
    pub fn new(
        system: Option<&str>,
        new_message: ChatTurn,
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
        };
        gathering.push_older(new_message);
        gathering
    }

    /// Adds the turn before those gathered so far. Say false once the window is full: nothing
    /// older is needed.
    pub fn push_older(&mut self, turn: ChatTurn) -> bool {
        if self.full {
            return false;
        }
        self.bytes += turn.content.len() as i64;
        // Blank turns are dropped before runs are joined, as `merge_consecutive_roles` does.
        if !turn.is_blank() {
            let tokens = tokenizer::count(&turn.content);
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
            self.turns.push(turn);
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

    /// Counts a finished run as [`build`] will: joined, plus the per-message overhead.
    fn close_run(&mut self) {
        if let Some((_, mut texts, _, extra)) = self.run.take() {
            texts.reverse();
            self.used += tokenizer::count(&texts.join("\n\n")) + PER_MESSAGE_OVERHEAD + extra;
            if self.used > self.available {
                self.full = true;
            }
        }
    }

    pub fn is_full(&self) -> bool {
        self.full
    }

    /// The turns gathered, oldest first, ending with the new message: [`build`]'s `history`.
    pub fn into_history(mut self) -> Vec<ChatTurn> {
        self.turns.reverse();
        self.turns
    }
}

/// `history` is oldest first and ends with the new user message.
pub fn build(
    system: Option<&str>,
    history: Vec<ChatTurn>,
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
    while kept.first().is_some_and(|t| t.role == Role::Assistant) {
        let dropped = kept.remove(0);
        used -= turn_tokens(&dropped);
    }
    Ok(Context {
        turns: kept,
        tokens: used + system_tokens,
    })
}

/// A turn's text, its files and the per-message overhead.
fn turn_tokens(turn: &ChatTurn) -> i64 {
    tokenizer::count(&turn.content) + PER_MESSAGE_OVERHEAD + turn.attachment_tokens()
}

/// Strict APIs (Anthropic, Gemini) refuse two turns of one role in a row, which happens when
/// a reply failed: such turns are joined.
fn merge_consecutive_roles(history: Vec<ChatTurn>) -> Vec<ChatTurn> {
    let mut merged: Vec<ChatTurn> = Vec::with_capacity(history.len());
    for turn in history.into_iter().filter(|t| !t.is_blank()) {
        match merged.last_mut() {
            Some(last) if last.role == turn.role => {
                last.content.push_str("\n\n");
                last.content.push_str(&turn.content);
                last.attachments.extend(turn.attachments);
            }
            _ => merged.push(turn),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(role: Role, content: &str) -> ChatTurn {
        ChatTurn::new(role, content)
    }

    #[test]
    fn everything_is_kept_when_it_fits() {
        let history = vec![
            turn(Role::User, "hi"),
            turn(Role::Assistant, "hello"),
            turn(Role::User, "how are you"),
        ];
        let context = build(Some("Be brief."), history.clone(), 10_000, 1_000).unwrap();
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
        let context = build(None, history, 1_000, 300).unwrap();
        assert_eq!(context.turns.first().unwrap().role, Role::User);
        assert_eq!(context.turns.last().unwrap().content, "latest");
        assert!(context.tokens <= 700);
        assert!(context.turns.len() < 5);
    }

    #[test]
    fn a_message_larger_than_the_window_is_refused() {
        let err = build(
            None,
            vec![turn(Role::User, &"word ".repeat(2_000))],
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
        let mut gathering =
            Gathering::new(Some("Be brief."), new_message.clone(), window, max_tokens);
        let mut read = 0;
        for turn in older.iter().rev() {
            read += 1;
            if !gathering.push_older(turn.clone()) {
                break;
            }
        }
        let gathered = build(
            Some("Be brief."),
            gathering.into_history(),
            window,
            max_tokens,
        );
        let whole = build(Some("Be brief."), history.to_vec(), window, max_tokens);
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
        let context = build(None, vec![image_only.clone()], 10_000, 100).unwrap();
        assert_eq!(context.turns, vec![image_only]);
        assert_eq!(context.tokens, 765 + PER_MESSAGE_OVERHEAD);
        // An image too large for what is left of the window refuses the send.
        let err = build(
            None,
            vec![with_image(turn(Role::User, "hi"), 5_000)],
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
        let context = build(None, history, 10_000, 100).unwrap();
        assert_eq!(
            context.turns,
            vec![turn(Role::User, "first try\n\nsecond try")]
        );
    }
}
