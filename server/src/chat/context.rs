//! The context sent with a new message: the conversation's system prompt and as much of its
//! history as fits the model's window minus the reply's `max_tokens`, dropping the oldest
//! turns first.

use super::{
    provider::{ChatTurn, Role},
    tokenizer::{self, PER_MESSAGE_OVERHEAD},
};

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
        let cost = tokenizer::count(&turn.content) + PER_MESSAGE_OVERHEAD;
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
        used -= tokenizer::count(&dropped.content) + PER_MESSAGE_OVERHEAD;
    }
    Ok(Context {
        turns: kept,
        tokens: used + system_tokens,
    })
}

/// Strict APIs (Anthropic, Gemini) refuse two turns of one role in a row, which happens when
/// a reply failed: such turns are joined.
fn merge_consecutive_roles(history: Vec<ChatTurn>) -> Vec<ChatTurn> {
    let mut merged: Vec<ChatTurn> = Vec::with_capacity(history.len());
    for turn in history.into_iter().filter(|t| !t.content.trim().is_empty()) {
        match merged.last_mut() {
            Some(last) if last.role == turn.role => {
                last.content.push_str("\n\n");
                last.content.push_str(&turn.content);
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
        ChatTurn {
            role,
            content: content.into(),
        }
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
