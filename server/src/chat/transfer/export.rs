//! Exports: one conversation as JSON (`rustchat.conversation.v1`: the conversation, then
//! every message of every branch, oldest first, with usage, the prices it was charged at and
//! its attachments' metadata) or as Markdown (the branch shown, to read); and everything as one
//! JSON (`rustchat.export.v1`), written one conversation at a time.

use app::wire::{ConversationView, MessageView, Micros, Role};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use super::read::{CONVERSATION_FORMAT, EXPORT_FORMAT};
use crate::{
    chat::{
        conversations::message_columns, tree::Tree, views::conversation_view, views::message_view,
        ChatError, ChatService,
    },
    db::entities::{conversations, messages},
};

/// A message as exported: the API's message and the prices (micro-dollars per million
/// tokens) its usage was charged at.
#[derive(Serialize)]
pub struct ExportedMessage {
    #[serde(flatten)]
    pub message: MessageView,
    pub input_micros_per_mtok: Option<i64>,
    pub cached_input_micros_per_mtok: Option<i64>,
    pub output_micros_per_mtok: Option<i64>,
}

#[derive(Serialize)]
pub struct ExportedConversation {
    pub format: &'static str,
    pub conversation: ConversationView,
    pub messages: Vec<ExportedMessage>,
}

/// The opening of the export of everything; each conversation follows, then [`ALL_END`].
pub fn all_start() -> String {
    format!("{{\"format\":\"{EXPORT_FORMAT}\",\"conversations\":[")
}
pub const ALL_END: &str = "]}";

impl ChatService {
    pub async fn export_conversation(
        &self,
        user_id: Uuid,
        id: Uuid,
    ) -> Result<ExportedConversation, ChatError> {
        let conversation = self.conversation(user_id, id).await?;
        self.exported(conversation).await
    }

    async fn exported(
        &self,
        conversation: conversations::Model,
    ) -> Result<ExportedConversation, ChatError> {
        let rows = message_columns(&[
            messages::Column::StreamChunks,
            messages::Column::ContentHtml,
        ])
        .filter(messages::Column::ConversationId.eq(conversation.id))
        .order_by_asc(messages::Column::Id)
        .all(&self.db)
        .await?;
        let tree = Tree::of(rows.iter().map(|r| (r.id, r.parent_id)).collect());
        let mut exported: Vec<ExportedMessage> = rows
            .into_iter()
            .map(|row| {
                let prices = (
                    row.input_micros_per_mtok,
                    row.cached_input_micros_per_mtok,
                    row.output_micros_per_mtok,
                );
                let siblings = tree.siblings(row.id);
                ExportedMessage {
                    message: message_view(row, siblings),
                    input_micros_per_mtok: prices.0,
                    cached_input_micros_per_mtok: prices.1,
                    output_micros_per_mtok: prices.2,
                }
            })
            .collect();
        let mut views: Vec<MessageView> = exported.iter().map(|e| e.message.clone()).collect();
        self.add_attachment_views(&mut views).await?;
        for (e, view) in exported.iter_mut().zip(views) {
            e.message = view;
        }
        Ok(ExportedConversation {
            format: CONVERSATION_FORMAT,
            conversation: conversation_view(conversation),
            messages: exported,
        })
    }

    /// The ids of the user's conversations, oldest first, for the export of everything.
    pub async fn conversation_ids(&self, user_id: Uuid) -> Result<Vec<Uuid>, ChatError> {
        Ok(conversations::Entity::find()
            .select_only()
            .column(conversations::Column::Id)
            .filter(conversations::Column::UserId.eq(user_id))
            .order_by_asc(conversations::Column::CreatedAt)
            .order_by_asc(conversations::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// One conversation of the export of everything as JSON text; `None` when it was deleted
    /// since the list was read.
    pub async fn exported_json(
        &self,
        user_id: Uuid,
        id: Uuid,
    ) -> Result<Option<String>, ChatError> {
        match self.export_conversation(user_id, id).await {
            Ok(exported) => serde_json::to_string(&exported)
                .map(Some)
                .map_err(|e| ChatError::Internal(e.to_string())),
            Err(ChatError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The branch shown, as Markdown to read: the title, then each message under who wrote
    /// it, with the model, tokens and cost of each reply.
    pub async fn export_markdown(&self, user_id: Uuid, id: Uuid) -> Result<String, ChatError> {
        let exported = self.export_conversation(user_id, id).await?;
        let tree = Tree::of(
            exported
                .messages
                .iter()
                .map(|m| (m.message.id, m.message.parent_id))
                .collect(),
        );
        let shown = tree.branch(exported.conversation.current_leaf_id);
        let by_id: std::collections::HashMap<Uuid, &MessageView> = exported
            .messages
            .iter()
            .map(|m| (m.message.id, &m.message))
            .collect();
        Ok(markdown(
            &exported.conversation,
            shown.iter().filter_map(|id| by_id.get(id).copied()),
        ))
    }
}

fn markdown<'a>(
    conversation: &ConversationView,
    branch: impl Iterator<Item = &'a MessageView>,
) -> String {
    let mut out = format!("# {}\n\n", conversation.title.replace('\n', " "));
    out.push_str(&format!(
        "_{} · {} · started {}_\n\n",
        conversation.provider.as_str(),
        conversation.model,
        conversation.created_at.format("%Y-%m-%d %H:%M UTC")
    ));
    if let Some(prompt) = &conversation.system_prompt {
        out.push_str("## System prompt\n\n");
        out.push_str(prompt.trim_end());
        out.push_str("\n\n");
    }
    for message in branch {
        let who = match message.role {
            Role::User => "You",
            Role::Assistant => "Assistant",
        };
        out.push_str(&format!(
            "## {who} · {}\n\n",
            message.created_at.format("%Y-%m-%d %H:%M UTC")
        ));
        if let Some(reasoning) = message.reasoning.as_deref().filter(|r| !r.is_empty()) {
            out.push_str("<details><summary>Thinking</summary>\n\n");
            out.push_str(reasoning.trim_end());
            out.push_str("\n\n</details>\n\n");
        }
        out.push_str(message.content.trim_end());
        out.push_str("\n\n");
        for a in &message.attachments {
            out.push_str(&format!(
                "- Attached: {} ({} bytes)\n",
                a.filename, a.size_bytes
            ));
        }
        if !message.attachments.is_empty() {
            out.push('\n');
        }
        if message.role == Role::Assistant && !message.imported {
            let mut facts = Vec::new();
            if let Some(model) = &message.model {
                facts.push(model.clone());
            }
            if message.total_tokens > 0 {
                facts.push(format!("{} tokens", message.total_tokens));
            }
            facts.push(Micros(message.cost_micros).cost_exact());
            out.push_str(&format!("_{}_\n\n", facts.join(" · ")));
        }
    }
    out.push_str(&format!(
        "---\n\n_{} messages · {} tokens · {} in all_\n",
        conversation.message_count,
        conversation.total_tokens,
        Micros(conversation.cost_micros).cost_exact()
    ));
    out
}
