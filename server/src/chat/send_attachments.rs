//! The files of a send: at most ten of the sender's own, an image only to a model that takes
//! images, checked before anything is stored; and the files of the turns a context reads.

use std::collections::HashMap;

use uuid::Uuid;

use super::{
    provider::{ChatTurn, ProviderId, Role, TurnAttachment},
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
    /// and the new message's turn with them.
    pub(super) async fn attached_turn(
        &self,
        user_id: Uuid,
        model: &ai_model_configs::Model,
        content: &str,
        ids: &[Uuid],
    ) -> Result<(Vec<attachment_rows::Model>, ChatTurn), ChatError> {
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
        let mut turn = ChatTurn::new(Role::User, content);
        turn.attachments = self
            .attachments
            .turn_attachments_of_rows(&rows, model.provider);
        Ok((rows, turn))
    }

    /// The files of the user messages of a page of history.
    pub(super) async fn history_attachments<R>(
        &self,
        rows: &[(Uuid, Role, R, String)],
        provider: ProviderId,
    ) -> Result<HashMap<Uuid, Vec<TurnAttachment>>, ChatError> {
        let ids: Vec<Uuid> = rows
            .iter()
            .filter(|(_, role, ..)| *role == Role::User)
            .map(|(id, ..)| *id)
            .collect();
        Ok(self.attachments.turn_attachments_of(&ids, provider).await?)
    }
}
