//! Attachments: files a person uploads and sends with a message. An upload streams to a local
//! scratch file while it is hashed (sha256), counted against the size limit and the person's
//! quota, and checked for UTF-8; its type is then told from its bytes ([`sniff`]), a
//! document's text is extracted off the async runtime ([`extract`]), the row is written, and
//! the bytes are handed to the store ([`storage`]) under their hash, once for every upload of
//! the same content. Sends read the rows (and the bytes of images) back as turn attachments;
//! deleting a conversation removes the files no other message uses.

pub mod extract;
pub mod sniff;
pub mod storage;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use app::wire::{image_tokens::image_tokens, AttachmentKind, AttachmentView, ProviderId};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use self::{
    extract::ExtractLimits,
    sniff::{Signature, Sniffed},
    storage::{BlobStore, ByteStream, FolderStore, S3Store, StorageError},
};
use crate::{
    chat::provider::{document_block, AttachmentBody, ChatTurn, TurnAttachment},
    chat::tokenizer,
    config::Secret,
    db::{
        entities::{ai_model_configs, attachments, message_attachments, users},
        now,
    },
};

/// The most files one message takes.
pub const MAX_PER_MESSAGE: usize = 10;

#[derive(Clone, Debug)]
pub struct AttachmentSettings {
    /// `MAX_UPLOAD_BYTES`: the largest file taken (413 `file_too_large` past it).
    pub max_upload_bytes: u64,
    /// `USER_STORAGE_QUOTA_BYTES`: what one person's uploads may add up to (413
    /// `quota_exceeded`).
    pub user_quota_bytes: u64,
    pub storage: StorageSettings,
    /// Where uploads are written while they stream in, before they are stored.
    pub scratch_dir: PathBuf,
}

impl AttachmentSettings {
    /// The defaults: 20 MB a file, 1 GB a person, stored in `data_dir/attachments`.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self {
            max_upload_bytes: 20 * 1024 * 1024,
            user_quota_bytes: 1024 * 1024 * 1024,
            storage: StorageSettings::Folder(data_dir.join("attachments")),
            scratch_dir: data_dir.join("uploads"),
        }
    }
}

#[derive(Clone, Debug)]
pub enum StorageSettings {
    Folder(PathBuf),
    S3(S3Settings),
}

/// `S3_BUCKET` (turns the bucket on), `S3_ENDPOINT` (a self-hosted server), `S3_REGION`,
/// `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY`.
#[derive(Clone, Debug)]
pub struct S3Settings {
    pub bucket: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<Secret>,
    pub secret_access_key: Option<Secret>,
}

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("The file is larger than the {0} bytes this server takes.")]
    FileTooLarge(u64),
    #[error("This file would take you past your storage quota of {0} bytes. Delete conversations with attachments to make room.")]
    QuotaExceeded(u64),
    #[error("This kind of file is not supported. Attach PNG, JPEG, WebP or GIF images, PDF or DOCX documents, or text and source files.")]
    UnsupportedType,
    #[error("Send the file in a multipart field named `file`.")]
    NoFile,
    #[error("The upload could not be read: {0}")]
    BadUpload(String),
    #[error("not found")]
    NotFound,
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Clone)]
pub struct Attachments {
    db: DatabaseConnection,
    store: Arc<dyn BlobStore>,
    max_upload_bytes: u64,
    user_quota_bytes: u64,
    scratch_dir: PathBuf,
    limits: ExtractLimits,
}

impl Attachments {
    pub fn new(
        db: DatabaseConnection,
        settings: &AttachmentSettings,
    ) -> Result<Self, StorageError> {
        let store: Arc<dyn BlobStore> = match &settings.storage {
            StorageSettings::Folder(root) => Arc::new(FolderStore::new(root.clone())),
            StorageSettings::S3(s3) => Arc::new(S3Store::new(s3)?),
        };
        std::fs::create_dir_all(&settings.scratch_dir)?;
        Ok(Self {
            db,
            store,
            max_upload_bytes: settings.max_upload_bytes,
            user_quota_bytes: settings.user_quota_bytes,
            scratch_dir: settings.scratch_dir.clone(),
            limits: ExtractLimits::default(),
        })
    }

    /// Whether the store holds bytes under `sha256` (for tests and checks).
    pub async fn is_stored(&self, sha256: &str) -> Result<bool, StorageError> {
        self.store.exists(sha256).await
    }

    /// Streams an upload to storage and records it. Nothing is kept when it is refused.
    pub async fn upload<S, E>(
        &self,
        user_id: Uuid,
        file_name: Option<&str>,
        mut body: S,
    ) -> Result<AttachmentView, AttachmentError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let file_name = sanitize_file_name(file_name.unwrap_or(""));
        let used = self.stored_bytes(&self.db, user_id).await?;
        let scratch = Scratch(self.scratch_dir.join(Uuid::new_v4().to_string()));
        let mut file = tokio::fs::File::create(&scratch.0)
            .await
            .map_err(|e| AttachmentError::Internal(format!("scratch file: {e}")))?;
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(sniff::HEAD_BYTES);
        let mut utf8 = sniff::Utf8Check::default();
        let mut size: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| AttachmentError::BadUpload(e.to_string()))?;
            size += chunk.len() as u64;
            if size > self.max_upload_bytes {
                return Err(AttachmentError::FileTooLarge(self.max_upload_bytes));
            }
            if used.saturating_add(size) > self.user_quota_bytes {
                return Err(AttachmentError::QuotaExceeded(self.user_quota_bytes));
            }
            hasher.update(&chunk);
            utf8.push(&chunk);
            if head.len() < sniff::HEAD_BYTES {
                let take = (sniff::HEAD_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| AttachmentError::Internal(format!("scratch file: {e}")))?;
        }
        file.flush()
            .await
            .map_err(|e| AttachmentError::Internal(format!("scratch file: {e}")))?;
        drop(file);
        if size == 0 {
            return Err(AttachmentError::UnsupportedType);
        }
        let sha256 = hex::encode(hasher.finalize());

        // Telling the type, reading the text or the image's size: blocking work.
        let facts = {
            let (path, name, limits) = (scratch.0.clone(), file_name.clone(), self.limits);
            let valid_utf8 = utf8.is_valid();
            tokio::task::spawn_blocking(move || examine(&path, &head, &name, valid_utf8, limits))
                .await
                .map_err(|e| AttachmentError::Internal(format!("examining an upload: {e}")))?
        }
        .ok_or(AttachmentError::UnsupportedType)?;

        let row = attachments::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            file_name: Set(file_name),
            content_type: Set(facts.sniffed.content_type.to_owned()),
            kind: Set(facts.sniffed.kind.as_str().to_owned()),
            size_bytes: Set(size as i64),
            sha256: Set(sha256.clone()),
            extracted_text: Set(facts.text),
            width: Set(facts.size.map(|(w, _)| w as i32)),
            height: Set(facts.size.map(|(_, h)| h as i32)),
            created_at: Set(now()),
        };
        // The quota again, with the person's uploads taking turns: two racing uploads cannot
        // both fit in the room one of them leaves.
        let txn = crate::db::begin_write(&self.db).await?;
        users::Entity::find_by_id(user_id)
            .lock_exclusive()
            .one(&txn)
            .await?;
        let used = self.stored_bytes(&txn, user_id).await?;
        if used.saturating_add(size) > self.user_quota_bytes {
            txn.rollback().await?;
            return Err(AttachmentError::QuotaExceeded(self.user_quota_bytes));
        }
        let row = row.insert(&txn).await?;
        txn.commit().await?;
        // Stored after the row exists: a deletion that finds no row for this hash ran before
        // this insert, so the bytes written now are not removed under it.
        if let Err(e) = self.store.put_file(&sha256, scratch.0.clone()).await {
            attachments::Entity::delete_by_id(row.id)
                .exec(&self.db)
                .await?;
            return Err(e.into());
        }
        Ok(view(&row))
    }

    async fn stored_bytes(&self, conn: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, DbErr> {
        let used: Option<i64> = attachments::Entity::find()
            .select_only()
            .column_as(
                Expr::cust("CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT)"),
                "used",
            )
            .filter(attachments::Column::UserId.eq(user_id))
            .into_tuple()
            .one(conn)
            .await?;
        Ok(used.unwrap_or(0).max(0) as u64)
    }

    async fn owned(&self, user_id: Uuid, id: Uuid) -> Result<attachments::Model, AttachmentError> {
        attachments::Entity::find_by_id(id)
            .filter(attachments::Column::UserId.eq(user_id))
            .one(&self.db)
            .await?
            .ok_or(AttachmentError::NotFound)
    }

    pub async fn view(&self, user_id: Uuid, id: Uuid) -> Result<AttachmentView, AttachmentError> {
        Ok(view(&self.owned(user_id, id).await?))
    }

    /// The attachment and its bytes as they stream from storage.
    pub async fn content(
        &self,
        user_id: Uuid,
        id: Uuid,
    ) -> Result<(AttachmentView, ByteStream), AttachmentError> {
        let row = self.owned(user_id, id).await?;
        let bytes = self.store.stream(&row.sha256).await.map_err(|e| match e {
            StorageError::NotFound => AttachmentError::NotFound,
            other => other.into(),
        })?;
        Ok((view(&row), bytes))
    }

    /// The person's own attachments named by a send, in the order given: a name that is not
    /// theirs answers `NotFound`, as if it did not exist.
    pub async fn for_send(
        &self,
        user_id: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<attachments::Model>, AttachmentError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = attachments::Entity::find()
            .filter(attachments::Column::UserId.eq(user_id))
            .filter(attachments::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?;
        ids.iter()
            .map(|id| {
                rows.iter()
                    .find(|row| row.id == *id)
                    .cloned()
                    .ok_or(AttachmentError::NotFound)
            })
            .collect()
    }

    /// Links a stored message to its files, in order (inside the send's transaction).
    pub async fn link(
        conn: &impl crate::db::writer::WriteConn,
        message_id: Uuid,
        attachments: &[attachments::Model],
    ) -> Result<(), DbErr> {
        if attachments.is_empty() {
            return Ok(());
        }
        let insert = message_attachments::Entity::insert_many(attachments.iter().enumerate().map(
            |(position, a)| message_attachments::ActiveModel {
                message_id: Set(message_id),
                attachment_id: Set(a.id),
                position: Set(position as i32),
            },
        ));
        conn.execute(conn.build(&insert)).await?;
        Ok(())
    }

    /// The files of each of `message_ids`, in order, as rows.
    async fn rows_of_messages(
        &self,
        message_ids: &[Uuid],
    ) -> Result<Vec<(Uuid, attachments::Model)>, DbErr> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let links = message_attachments::Entity::find()
            .filter(message_attachments::Column::MessageId.is_in(message_ids.iter().copied()))
            .order_by_asc(message_attachments::Column::Position)
            .all(&self.db)
            .await?;
        if links.is_empty() {
            return Ok(Vec::new());
        }
        let rows = attachments::Entity::find()
            .filter(attachments::Column::Id.is_in(links.iter().map(|l| l.attachment_id)))
            .all(&self.db)
            .await?;
        Ok(links
            .iter()
            .filter_map(|link| {
                let row = rows.iter().find(|r| r.id == link.attachment_id)?;
                Some((link.message_id, row.clone()))
            })
            .collect())
    }

    /// The files of one message, in order.
    pub async fn rows_of_message(
        &self,
        message_id: Uuid,
    ) -> Result<Vec<attachments::Model>, DbErr> {
        Ok(self
            .rows_of_messages(&[message_id])
            .await?
            .into_iter()
            .map(|(_, row)| row)
            .collect())
    }

    /// What each message shows of its files.
    pub async fn views_of_messages(
        &self,
        message_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<AttachmentView>>, DbErr> {
        let mut views: HashMap<Uuid, Vec<AttachmentView>> = HashMap::new();
        for (message_id, row) in self.rows_of_messages(message_ids).await? {
            views.entry(message_id).or_default().push(view(&row));
        }
        Ok(views)
    }

    /// The files of each message as a provider will get them (images without their bytes yet).
    pub async fn turn_attachments_of(
        &self,
        message_ids: &[Uuid],
        provider: ProviderId,
    ) -> Result<HashMap<Uuid, Vec<TurnAttachment>>, DbErr> {
        let mut turns: HashMap<Uuid, Vec<TurnAttachment>> = HashMap::new();
        for (message_id, row) in self.rows_of_messages(message_ids).await? {
            turns
                .entry(message_id)
                .or_default()
                .push(turn_attachment(&row, provider));
        }
        Ok(turns)
    }

    /// Rows of a send as a provider will get them (images without their bytes yet).
    pub fn turn_attachments_of_rows(
        &self,
        rows: &[attachments::Model],
        provider: ProviderId,
    ) -> Vec<TurnAttachment> {
        rows.iter()
            .map(|row| turn_attachment(row, provider))
            .collect()
    }

    /// Loads the bytes of the images of the turns that made it into the context.
    pub async fn load_images(&self, turns: &mut [ChatTurn]) -> Result<(), StorageError> {
        for turn in turns {
            for attachment in &mut turn.attachments {
                if let AttachmentBody::Image { sha256, data } = &mut attachment.body {
                    if data.is_none() {
                        *data = Some(self.store.read(sha256).await?);
                    }
                }
            }
        }
        Ok(())
    }

    /// The files of a conversation's messages, read before it is deleted.
    pub async fn of_conversation(&self, conversation_id: Uuid) -> Result<Vec<Uuid>, DbErr> {
        use crate::db::entities::messages;
        let message_ids: Vec<Uuid> = messages::Entity::find()
            .select_only()
            .column(messages::Column::Id)
            .filter(messages::Column::ConversationId.eq(conversation_id))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut ids = Vec::new();
        for chunk in message_ids.chunks(500) {
            let linked: Vec<Uuid> = message_attachments::Entity::find()
                .select_only()
                .column(message_attachments::Column::AttachmentId)
                .filter(message_attachments::Column::MessageId.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&self.db)
                .await?;
            ids.extend(linked);
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Removes those of `ids` that no message uses any more, and their bytes once no upload
    /// has them. A failure to remove bytes is logged: the rows are gone, the bytes are only
    /// space, and removing them again is harmless.
    pub async fn remove_unused(&self, ids: &[Uuid]) -> Result<(), DbErr> {
        for id in ids {
            let still_used = message_attachments::Entity::find()
                .filter(message_attachments::Column::AttachmentId.eq(*id))
                .one(&self.db)
                .await?
                .is_some();
            if still_used {
                continue;
            }
            let Some(row) = attachments::Entity::find_by_id(*id).one(&self.db).await? else {
                continue;
            };
            attachments::Entity::delete_by_id(row.id)
                .exec(&self.db)
                .await?;
            let shared = attachments::Entity::find()
                .filter(attachments::Column::Sha256.eq(row.sha256.as_str()))
                .one(&self.db)
                .await?
                .is_some();
            if !shared {
                if let Err(e) = self.store.delete(&row.sha256).await {
                    tracing::warn!(error = %e, sha256 = %row.sha256, "an attachment's bytes were not removed");
                }
            }
        }
        Ok(())
    }
}

/// What the upload turned out to be.
struct Facts {
    sniffed: Sniffed,
    text: Option<String>,
    size: Option<(u32, u32)>,
}

/// The type, and the text or the pixel size: `None` when the type is not one we take.
fn examine(
    path: &Path,
    head: &[u8],
    file_name: &str,
    valid_utf8: bool,
    limits: ExtractLimits,
) -> Option<Facts> {
    let sniffed = match sniff::signature(head) {
        Signature::Known(sniffed) => sniffed,
        Signature::Zip if is_docx(path) => Sniffed {
            content_type: sniff::DOCX,
            kind: AttachmentKind::Document,
        },
        Signature::None => sniff::text(valid_utf8, file_name)?,
        Signature::Zip | Signature::Refused => return None,
    };
    // The parsers read hostile input: one that panics costs this file its text, not the
    // upload its answer.
    let read = |extract: fn(&Path, ExtractLimits) -> String| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| extract(path, limits)))
            .unwrap_or_else(|_| "[This document could not be read: it may be damaged.]".into())
    };
    let (text, size) = match (sniffed.kind, sniffed.content_type) {
        (AttachmentKind::Image, _) => (None, image_size(path, head)),
        (_, "application/pdf") => (Some(read(extract::pdf)), None),
        (_, sniff::DOCX) => (Some(read(extract::docx)), None),
        _ => (Some(read(extract::text_file)), None),
    };
    Some(Facts {
        sniffed,
        text,
        size,
    })
}

/// A zip whose `word/document.xml` is there is a DOCX.
fn is_docx(path: &Path) -> bool {
    std::fs::File::open(path)
        .ok()
        .and_then(|f| zip::ZipArchive::new(std::io::BufReader::new(f)).ok())
        .is_some_and(|mut zip| zip.by_name("word/document.xml").is_ok())
}

/// A JPEG's frame header may come after a large embedded thumbnail: read up to 1 MB for it.
fn image_size(path: &Path, head: &[u8]) -> Option<(u32, u32)> {
    sniff::image_size(head).or_else(|| {
        use std::io::Read;
        let mut more = Vec::new();
        std::fs::File::open(path)
            .ok()?
            .take(1024 * 1024)
            .read_to_end(&mut more)
            .ok()?;
        sniff::image_size(&more)
    })
}

/// The scratch file of an upload, removed however the upload ends (a rename into the folder
/// store has already moved it, and then there is nothing to remove).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A name safe to show and to offer as a download's name: no folders, no control characters,
/// none of the characters file systems or headers object to, at most 200 bytes, never empty.
pub fn sanitize_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_control() || "\"<>:|?*;".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let mut name = String::new();
    for c in trimmed.chars() {
        if name.len() + c.len_utf8() > 200 {
            break;
        }
        name.push(c);
    }
    if name.is_empty() {
        "file".into()
    } else {
        name
    }
}

pub fn view(row: &attachments::Model) -> AttachmentView {
    AttachmentView {
        id: row.id,
        filename: row.file_name.clone(),
        content_type: row.content_type.clone(),
        size_bytes: row.size_bytes,
        sha256: row.sha256.clone(),
        kind: AttachmentKind::parse(&row.kind).unwrap_or(AttachmentKind::Document),
        created_at: row.created_at,
        width: row.width,
        height: row.height,
        text_chars: row
            .extracted_text
            .as_ref()
            .map(|t| t.chars().count() as i64),
    }
}

fn turn_attachment(row: &attachments::Model, provider: ProviderId) -> TurnAttachment {
    let kind = AttachmentKind::parse(&row.kind).unwrap_or(AttachmentKind::Document);
    let (tokens, body) = match kind {
        AttachmentKind::Image => {
            let size = row
                .width
                .zip(row.height)
                .map(|(w, h)| (w.max(0) as u32, h.max(0) as u32));
            (
                image_tokens(provider, size),
                AttachmentBody::Image {
                    sha256: row.sha256.clone(),
                    data: None,
                },
            )
        }
        _ => {
            let text = row.extracted_text.clone().unwrap_or_default();
            // Counted as the block the model receives, plus the blank line before it.
            let tokens = tokenizer::count(&document_block(&row.file_name, &text)) + 1;
            (tokens, AttachmentBody::Text(text))
        }
    };
    TurnAttachment {
        file_name: row.file_name.clone(),
        kind,
        content_type: row.content_type.clone(),
        tokens,
        body,
    }
}

/// An image to a model that takes none is refused before anything is stored.
pub fn check_model_takes(
    model: &ai_model_configs::Model,
    attachments: &[attachments::Model],
) -> Result<(), &'static str> {
    let has_image = attachments
        .iter()
        .any(|a| a.kind == AttachmentKind::Image.as_str());
    if has_image && !model.supports_images {
        return Err(
            "This model does not take images. Pick a model that does, or remove the image.",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::sanitize_file_name;

    #[test]
    fn names_lose_folders_and_unsafe_characters() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("C:\\Users\\me\\cat.png"), "cat.png");
        assert_eq!(sanitize_file_name("a\"b\r\n.txt"), "a_b__.txt");
        assert_eq!(sanitize_file_name("..."), "file");
        assert_eq!(sanitize_file_name(".hidden"), "hidden");
        assert!(sanitize_file_name(&"é".repeat(300)).len() <= 200);
    }
}
