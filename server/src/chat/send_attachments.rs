//! The files of a send: at most ten of the sender's own, an image only to a model that takes
//! images, checked before anything is stored; and the files of the turns a context reads.

use std::collections::HashMap;

use uuid::Uuid;

use super::{
    provider::{ProviderId, Role, TurnAttachment},
    ChatError, ChatService,
};
use crate::{
    attachments::{self, AttachmentError, MAX_PER_MESSAGE},
    db::entities::{ai_model_configs, attachments as attachment_rows},
};

/// The ids once each, in the order first given; more than ten is refused.
pub fn check_ids(ids: Vec<Uuid>) -> Result<Vec<Uuid>, ChatError> {
    let mut unique: Vec<Uuid> = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    if unique.len() > MAX_PER_MESSAGE {
        return Err(ChatError::invalid(
            "too_many_attachments",
            format!("A message can carry at most {MAX_PER_MESSAGE} files."),
        ));
    }
    Ok(unique)
}

impl ChatService {
    /// The sender's files named by a send (another person's or an unknown id answers 404),
    /// in order; an image only to a model that takes images.
    pub(super) async fn files_for_send(
        &self,
        user_id: Uuid,
        model: &ai_model_configs::Model,
        ids: &[Uuid],
    ) -> Result<Vec<attachment_rows::Model>, ChatError> {
        let rows = self
            .attachments
            .for_send(user_id, ids)
            .await
            .map_err(|e| match e {
                AttachmentError::NotFound => ChatError::NotFound,
                AttachmentError::Database(e) => ChatError::Database(e),
                other => ChatError::Internal(other.to_string()),
            })?;
        attachments::check_model_takes(model, &rows)
            .map_err(|message| ChatError::invalid("unsupported_attachment", message))?;
        Ok(rows)
    }

    /// The files a stored question was sent with, for a new reply to it from `model`.
    pub(super) async fn files_of_question(
        &self,
        model: &ai_model_configs::Model,
        question_id: Uuid,
    ) -> Result<Vec<attachment_rows::Model>, ChatError> {
        let rows = self.attachments.rows_of_message(question_id).await?;
        attachments::check_model_takes(model, &rows)
            .map_err(|message| ChatError::invalid("unsupported_attachment", message))?;
        Ok(rows)
    }

    /// The files of the user messages of a page of history, from its `(id, role)` pairs.
    pub(super) async fn history_attachments(
        &self,
        messages: impl Iterator<Item = (Uuid, Role)>,
        provider: ProviderId,
    ) -> Result<HashMap<Uuid, Vec<TurnAttachment>>, ChatError> {
        let ids: Vec<Uuid> = messages
            .filter(|(_, role)| *role == Role::User)
            .map(|(id, _)| id)
            .collect();
        Ok(self.attachments.turn_attachments_of(&ids, provider).await?)
    }
}
