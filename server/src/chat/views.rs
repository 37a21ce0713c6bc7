//! Rows to the API's wire shapes.

use app::wire::{ConversationView, MessageItem, MessageView, ModelView};

use super::{tree::Siblings, ChatError, ChatService};
use crate::db::entities::{ai_model_configs, conversations, messages};

impl ChatService {
    /// Fills in the files each message was sent with.
    pub async fn add_attachment_views(
        &self,
        messages: &mut [MessageView],
    ) -> Result<(), ChatError> {
        let ids: Vec<_> = messages.iter().map(|m| m.id).collect();
        let mut views = self.attachments.views_of_messages(&ids).await?;
        for message in messages {
            message.attachments = views.remove(&message.id).unwrap_or_default();
        }
        Ok(())
    }

    /// [`Self::add_attachment_views`] for the messages of a page.
    pub async fn add_attachment_items(&self, items: &mut [MessageItem]) -> Result<(), ChatError> {
        let ids: Vec<_> = items.iter().map(|i| i.message.id).collect();
        let mut views = self.attachments.views_of_messages(&ids).await?;
        for item in items {
            item.message.attachments = views.remove(&item.message.id).unwrap_or_default();
        }
        Ok(())
    }
}

/// A message with its place among its siblings (see [`super::tree`]).
pub fn message_view(m: messages::Model, siblings: Siblings) -> MessageView {
    MessageView {
        id: m.id,
        conversation_id: m.conversation_id,
        parent_id: m.parent_id,
        sibling_index: siblings.index,
        sibling_count: siblings.count,
        prev_sibling_id: siblings.prev,
        next_sibling_id: siblings.next,
        role: m.role,
        content: m.content,
        reasoning: m.reasoning,
        status: m.status,
        provider: m.provider,
        model: m.model,
        prompt_tokens: m.prompt_tokens,
        completion_tokens: m.completion_tokens,
        total_tokens: m.total_tokens,
        cached_tokens: m.cached_tokens,
        reasoning_tokens: m.reasoning_tokens,
        cost_micros: m.cost_micros,
        error: m.error,
        created_at: m.created_at,
        updated_at: m.updated_at,
        attachments: Vec::new(),
        imported: m.imported,
    }
}

pub fn conversation_view(c: conversations::Model) -> ConversationView {
    ConversationView {
        id: c.id,
        title: c.title,
        provider: c.provider,
        model: c.model,
        temperature: c.temperature,
        max_tokens: c.max_tokens,
        system_prompt: c.system_prompt,
        current_leaf_id: c.current_leaf_id,
        thinking_budget_tokens: c.thinking_budget_tokens,
        message_count: c.message_count,
        prompt_tokens: c.prompt_tokens,
        completion_tokens: c.completion_tokens,
        total_tokens: c.total_tokens,
        cost_micros: c.cost_micros,
        created_at: c.created_at,
        updated_at: c.updated_at,
        pinned: c.pinned,
        archived: c.archived,
        imported_from: c.imported_from,
    }
}

pub fn model_view(m: ai_model_configs::Model) -> ModelView {
    ModelView {
        provider: m.provider,
        model: m.model,
        display_name: m.display_name,
        context_window: m.context_window,
        input_micros_per_mtok: m.input_micros_per_mtok,
        cached_input_micros_per_mtok: m.cached_input_micros_per_mtok,
        output_micros_per_mtok: m.output_micros_per_mtok,
        enabled: m.enabled,
        supports_images: m.supports_images,
    }
}
