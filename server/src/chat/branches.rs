//! Moving through a conversation's tree ([`super::tree`]): the branch shown and its pages,
//! switching branches, and deleting a message with everything that follows it.

use app::wire::{ConversationView, Event, MessageItem, MessageView, SettingsView};
use futures::TryStreamExt;
use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    conversations::{message_columns, MAX_PAGE_BYTES},
    tree::{self, Siblings, Tree},
    views::{conversation_view, message_view},
    ChatError, ChatService,
};
use crate::db::{
    entities::{conversations, messages},
    now,
};

/// Which messages `GET /api/conversations/{id}/messages` lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Branch {
    /// The branch shown: its first message to the current leaf.
    #[default]
    Current,
    /// Every message of the tree, every branch.
    All,
}

/// How many messages a chat page shows at first, and each "Load earlier" adds: the newest of
/// the branch. A conversation of 10,000 messages opens as fast as one of 100.
pub const PAGE_MESSAGES: u64 = 50;
/// The most one page of a branch holds, whatever is asked.
pub const MAX_PAGE_MESSAGES: u64 = 1_000;

/// Which part of a branch [`ChatService::branch_items`] reads.
#[derive(Clone, Copy, Debug)]
pub struct BranchWindow {
    /// How many of the newest messages (at most [`MAX_PAGE_MESSAGES`]).
    pub limit: u64,
    /// The messages above this one on its own branch, instead of the branch shown.
    pub before: Option<Uuid>,
    /// Reach back at least to this message (and the one before it) when it is on the branch:
    /// a message opened from the search, or a version switched to far up the conversation.
    pub through: Option<Uuid>,
}

impl Default for BranchWindow {
    fn default() -> Self {
        BranchWindow {
            limit: PAGE_MESSAGES,
            before: None,
            through: None,
        }
    }
}

impl BranchWindow {
    /// How many of the newest of `branch` (oldest first) the page takes.
    fn count(&self, branch: &[Uuid]) -> u64 {
        let reach = self
            .through
            .and_then(|id| branch.iter().rposition(|at| *at == id))
            .map_or(0, |at| (branch.len() - at + 1) as u64);
        self.limit.max(reach).clamp(1, MAX_PAGE_MESSAGES)
    }
}

impl ChatService {
    /// A single message with its place among its siblings (one indexed query).
    pub async fn view_of(&self, message: messages::Model) -> Result<MessageView, ChatError> {
        let siblings = tree::siblings_of(&self.db, &message).await?;
        Ok(message_view(message, siblings))
    }

    /// The tree of a conversation of `user_id`'s, with the conversation.
    pub async fn tree_of(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
    ) -> Result<(conversations::Model, Tree), ChatError> {
        let conversation = self.conversation(user_id, conversation_id).await?;
        let tree = Tree::load(&self.db, conversation.id).await?;
        Ok((conversation, tree))
    }

    /// Shows the branch through `message_id`: the current leaf becomes the most recently
    /// created message with no children under it. Other tabs follow through
    /// `conversation.updated`.
    pub async fn switch_branch(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        message_id: Uuid,
    ) -> Result<ConversationView, ChatError> {
        let (conversation, tree) = self.tree_of(user_id, conversation_id).await?;
        if !tree.contains(message_id) {
            return Err(ChatError::NotFound);
        }
        let leaf = tree.newest_leaf_under(message_id);
        {
            let _turn = self.writes.enter().await;
            conversations::Entity::update_many()
                .col_expr(conversations::Column::CurrentLeafId, Expr::value(leaf))
                .filter(conversations::Column::Id.eq(conversation.id))
                .filter(conversations::Column::UserId.eq(user_id))
                .exec(&self.db)
                .await?;
        }
        let view = conversation_view(conversations::Model {
            current_leaf_id: Some(leaf),
            ..conversation
        });
        self.publish(user_id, Event::conversation_updated(view.clone()));
        Ok(view)
    }

    /// A page of a branch, oldest first, as the chat page shows it: by default the newest
    /// [`PAGE_MESSAGES`] of the branch shown (see [`BranchWindow`] for the others), within
    /// [`super::conversations::MAX_PAGE_BYTES`] of text. When its first message has a parent,
    /// there are earlier ones: `before` that first message reads them.
    pub async fn branch_items(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        window: BranchWindow,
        settings: &SettingsView,
    ) -> Result<Vec<MessageItem>, ChatError> {
        let conversation = self.conversation(user_id, conversation_id).await?;
        // Only the page's part of the branch is read, up from its newest message; far enough
        // to find `through` when it is asked for.
        let depth = if window.through.is_some() {
            MAX_PAGE_MESSAGES
        } else {
            window.limit.clamp(1, MAX_PAGE_MESSAGES)
        };
        let mut branch = match window.before {
            // The messages above `before`, whichever branch is shown.
            Some(before) => {
                let mut path = tree::path_up(&self.db, conversation.id, before, depth + 1).await?;
                if path.is_empty() {
                    return Err(ChatError::NotFound);
                }
                path.remove(0);
                path
            }
            None => {
                let shown = match conversation.current_leaf_id {
                    Some(leaf) => tree::path_up(&self.db, conversation.id, leaf, depth).await?,
                    None => Vec::new(),
                };
                match shown.is_empty() {
                    false => shown,
                    // No leaf recorded, or it is gone: the newest leaf of the whole tree.
                    true => match Tree::load(&self.db, conversation.id).await?.newest_leaf() {
                        Some(leaf) => tree::path_up(&self.db, conversation.id, leaf, depth).await?,
                        None => Vec::new(),
                    },
                }
            }
        };
        branch.reverse();
        let branch: Vec<Uuid> = branch.into_iter().map(|(id, _)| id).collect();
        let newest: Vec<Uuid> = branch
            .iter()
            .rev()
            .take(window.count(&branch) as usize)
            .copied()
            .collect();
        // Newest first, one row at a time, until the page's byte budget is spent: each row is
        // read once, and never more than a page of text is held.
        let mut stream = message_columns(&[messages::Column::StreamChunks])
            .filter(messages::Column::Id.is_in(newest))
            .filter(messages::Column::UserId.eq(user_id))
            .order_by_desc(messages::Column::Id)
            .stream(&self.db)
            .await?;
        let mut rows: Vec<messages::Model> = Vec::new();
        let mut total = 0;
        while let Some(row) = stream.try_next().await? {
            let size = row.content.len()
                + row.error.as_ref().map_or(0, String::len)
                + row.reasoning.as_ref().map_or(0, String::len)
                + row.content_html.as_ref().map_or(0, String::len);
            if !rows.is_empty() && total + size as i64 > MAX_PAGE_BYTES {
                break;
            }
            total += size as i64;
            rows.push(row);
        }
        drop(stream);
        rows.reverse();
        let mut parents: Vec<Option<Uuid>> = rows.iter().map(|row| row.parent_id).collect();
        parents.sort();
        parents.dedup();
        let children = tree::children_of(&self.db, conversation.id, &parents).await?;
        let mut items: Vec<MessageItem> = rows
            .into_iter()
            .map(|row| {
                let siblings = Siblings::among(&children, row.parent_id, row.id);
                self.message_item(row, siblings, settings)
            })
            .collect();
        self.add_attachment_items(&mut items).await?;
        Ok(items)
    }

    /// Deletes a message and every message under it, on every branch. Replies streaming
    /// there are stopped first (each books what it cost); usage and the conversation's totals
    /// keep what they cost. The branch shown moves to the newest leaf left beside or above it.
    pub async fn delete_message(
        &self,
        user_id: Uuid,
        message_id: Uuid,
    ) -> Result<ConversationView, ChatError> {
        let message = self.owned_message(user_id, message_id).await?;
        let (conversation, tree) = self.tree_of(user_id, message.conversation_id).await?;
        let doomed = tree.subtree(message_id);
        let streaming: Vec<Uuid> = messages::Entity::find()
            .select_only()
            .column(messages::Column::Id)
            .filter(messages::Column::Id.is_in(doomed.iter().copied()))
            .filter(messages::Column::Status.eq(app::wire::MessageStatus::Streaming))
            .into_tuple()
            .all(&self.db)
            .await?;
        for id in streaming {
            // Stopped here or on its process; each books what it cost and gives back the
            // rest of its reservation before its row goes.
            self.stop(user_id, id).await?;
        }
        let gate = self.writes.enter().await;
        // It reads before it deletes: on SQLite it must take the write lock at BEGIN (a
        // deferred transaction cannot upgrade past a writer that committed meanwhile).
        let txn = crate::db::begin_write(&self.db).await?;
        let freed: Vec<(Uuid, String)> = messages::Entity::find()
            .select_only()
            .columns([messages::Column::Id, messages::Column::Content])
            .filter(messages::Column::Id.is_in(doomed.iter().copied()))
            .into_tuple()
            .all(&txn)
            .await?;
        let bytes: i64 = freed.iter().map(|(_, c)| c.len() as i64).sum();
        let count = i32::try_from(freed.len()).unwrap_or(i32::MAX);
        messages::Entity::delete_many()
            .filter(messages::Column::Id.is_in(doomed.iter().copied()))
            .filter(messages::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        let shown = tree.branch(conversation.current_leaf_id);
        let leaf = if shown.last().is_some_and(|leaf| !doomed.contains(leaf)) {
            shown.last().copied()
        } else {
            let left = Tree::load(&txn, conversation.id).await?;
            match tree.parent_of(message_id) {
                Some(parent) => Some(left.newest_leaf_under(parent)),
                None => left.newest_leaf(),
            }
        };
        use sea_orm::ExprTrait as _;
        conversations::Entity::update_many()
            .col_expr(
                conversations::Column::MessageCount,
                Expr::col(conversations::Column::MessageCount).sub(count),
            )
            .col_expr(
                conversations::Column::ContentBytes,
                Expr::col(conversations::Column::ContentBytes).sub(bytes),
            )
            .col_expr(conversations::Column::CurrentLeafId, Expr::value(leaf))
            .col_expr(conversations::Column::UpdatedAt, Expr::value(now()))
            .filter(conversations::Column::Id.eq(conversation.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        drop(gate);
        let updated = self.conversation(user_id, conversation.id).await?;
        let view = conversation_view(updated);
        self.publish(user_id, Event::conversation_updated(view.clone()));
        Ok(view)
    }
}
