//! What the sidebar island holds: the conversations (pinned first, then the newest), the
//! archived ones once the Archived view has loaded them, and which row is being renamed or
//! has its menu open. Everything is `Copy`, so every handler takes the whole [`Lists`].

use leptos::prelude::*;
use uuid::Uuid;

use crate::wire::ConversationView;

#[derive(Clone, Copy)]
pub struct Lists {
    /// The conversations not archived, in [`order`].
    pub active: RwSignal<Vec<ConversationView>>,
    /// The archived conversations; `None` until the Archived view first loads them.
    pub archived: RwSignal<Option<Vec<ConversationView>>>,
    /// The Archived view is shown in place of the list.
    pub showing_archived: RwSignal<bool>,
    /// The conversation open in the chat.
    pub current: RwSignal<Option<Uuid>>,
    /// The row whose title is being edited.
    pub editing: RwSignal<Option<Uuid>>,
    /// The row whose menu is open.
    pub menu: RwSignal<Option<Uuid>>,
    /// What went wrong with the last change, shown above the list until the next one.
    pub notice: RwSignal<Option<String>>,
}

/// Pinned conversations first, then the most recently updated.
pub fn order(list: &mut [ConversationView]) {
    list.sort_by(|a, b| {
        b.pinned
            .cmp(&a.pinned)
            .then_with(|| b.updated_at.cmp(&a.updated_at))
    });
}

impl Lists {
    pub fn new(mut conversations: Vec<ConversationView>, current: Option<Uuid>) -> Self {
        order(&mut conversations);
        Lists {
            active: RwSignal::new(conversations),
            archived: RwSignal::new(None),
            showing_archived: RwSignal::new(false),
            current: RwSignal::new(current),
            editing: RwSignal::new(None),
            menu: RwSignal::new(None),
            notice: RwSignal::new(None),
        }
    }

    /// Puts a conversation where it now belongs, as it now is: in the list, or among the
    /// archived ones (when those are loaded).
    pub fn place(&self, conversation: ConversationView) {
        self.remove(conversation.id);
        if conversation.archived {
            self.archived.update(|all| {
                if let Some(all) = all {
                    all.push(conversation);
                    order(all);
                }
            });
        } else {
            self.active.update(|all| {
                all.push(conversation);
                order(all);
            });
        }
    }

    /// Takes a conversation off both lists.
    pub fn remove(&self, id: Uuid) {
        self.active.update(|all| all.retain(|c| c.id != id));
        self.archived.update(|all| {
            if let Some(all) = all {
                all.retain(|c| c.id != id);
            }
        });
    }

    /// The conversation with `id`, from whichever list holds it.
    pub fn find(&self, id: Uuid) -> Option<ConversationView> {
        self.active
            .with_untracked(|all| all.iter().find(|c| c.id == id).cloned())
            .or_else(|| {
                self.archived.with_untracked(|all| {
                    all.as_ref()
                        .and_then(|all| all.iter().find(|c| c.id == id).cloned())
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::wire::ProviderId;

    fn conversation(title: &str, day: u32, pinned: bool) -> ConversationView {
        let at = Utc.with_ymd_and_hms(2026, 12, day, 12, 0, 0).unwrap();
        ConversationView {
            id: Uuid::now_v7(),
            title: title.into(),
            provider: ProviderId::Demo,
            model: "demo-offline".into(),
            temperature: 0.7,
            max_tokens: 1024,
            system_prompt: None,
            current_leaf_id: None,
            thinking_budget_tokens: None,
            message_count: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            total_tokens: 0,
            cost_micros: 0,
            created_at: at,
            updated_at: at,
            pinned,
            archived: false,
            imported_from: None,
        }
    }

    #[test]
    fn pinned_conversations_come_first_then_the_newest() {
        let mut list = vec![
            conversation("old", 1, false),
            conversation("old pinned", 2, true),
            conversation("new", 5, false),
            conversation("new pinned", 4, true),
        ];
        order(&mut list);
        let titles = list.iter().map(|c| c.title.as_str()).collect::<Vec<_>>();
        assert_eq!(titles, ["new pinned", "old pinned", "new", "old"]);
    }
}
