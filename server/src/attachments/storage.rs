//! Where an attachment's bytes live, behind one trait: a folder under `DATA_DIR` by default,
//! or an S3-compatible bucket (`S3_*`) that several server processes share. Objects are named
//! by the content's sha256, so the same bytes are stored once whoever uploads them.
//!
//! An upload is first written whole to a local scratch file (hashed and checked on the way),
//! then handed over with [`BlobStore::put_file`]: into place by a rename in a folder, streamed
//! in parts to a bucket. Neither holds the file in memory.

use std::{path::PathBuf, sync::Arc};

use bytes::Bytes;
use futures::{future::BoxFuture, stream::BoxStream, StreamExt, TryStreamExt};
use object_store::{aws::AmazonS3Builder, buffered::BufWriter, ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWriteExt;

use super::S3Settings;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("no such object")]
    NotFound,
    #[error("storage: {0}")]
    Failed(String),
}

impl From<std::io::Error> for StorageError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::NotFound => Self::NotFound,
            _ => Self::Failed(e.to_string()),
        }
    }
}

impl From<object_store::Error> for StorageError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => Self::NotFound,
            other => Self::Failed(other.to_string()),
        }
    }
}

pub type ByteStream = BoxStream<'static, Result<Bytes, StorageError>>;

pub trait BlobStore: Send + Sync {
    /// Stores the finished file at `path` under `key`, replacing an object of that key (it
    /// has the same content: keys are content hashes). The file is consumed.
    fn put_file(&self, key: &str, path: PathBuf) -> BoxFuture<'_, Result<(), StorageError>>;
    /// The object's bytes, whole (an image on its way to a provider, which takes it whole).
    fn read(&self, key: &str) -> BoxFuture<'_, Result<Bytes, StorageError>>;
    /// The object's bytes as they arrive, for serving a download.
    fn stream(&self, key: &str) -> BoxFuture<'_, Result<ByteStream, StorageError>>;
    /// Removes the object; one that is not there is not an error.
    fn delete(&self, key: &str) -> BoxFuture<'_, Result<(), StorageError>>;
    fn exists(&self, key: &str) -> BoxFuture<'_, Result<bool, StorageError>>;
}

/// Objects as files in a folder, spread over 256 subfolders by the key's first two characters.
pub struct FolderStore {
    root: PathBuf,
}

impl FolderStore {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn path_of(&self, key: &str) -> PathBuf {
        let prefix = key.get(..2).unwrap_or("00");
        self.root.join(prefix).join(key)
    }
}

impl BlobStore for FolderStore {
    fn put_file(&self, key: &str, path: PathBuf) -> BoxFuture<'_, Result<(), StorageError>> {
        let target = self.path_of(key);
        Box::pin(async move {
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            // A rename replaces atomically: a reader sees the old file or the new, both whole.
            if tokio::fs::rename(&path, &target).await.is_err() {
                // Another file system: copy, then move the copy into place.
                let partial = target.with_extension("partial");
                tokio::fs::copy(&path, &partial).await?;
                tokio::fs::rename(&partial, &target).await?;
                let _ = tokio::fs::remove_file(&path).await;
            }
            Ok(())
        })
    }

    fn read(&self, key: &str) -> BoxFuture<'_, Result<Bytes, StorageError>> {
        let path = self.path_of(key);
        Box::pin(async move { Ok(Bytes::from(tokio::fs::read(path).await?)) })
    }

    fn stream(&self, key: &str) -> BoxFuture<'_, Result<ByteStream, StorageError>> {
        let path = self.path_of(key);
        Box::pin(async move {
            let file = tokio::fs::File::open(path).await?;
            Ok(tokio_util::io::ReaderStream::new(file)
                .map_err(StorageError::from)
                .boxed())
        })
    }

    fn delete(&self, key: &str) -> BoxFuture<'_, Result<(), StorageError>> {
        let path = self.path_of(key);
        Box::pin(async move {
            match tokio::fs::remove_file(path).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            }
        })
    }

    fn exists(&self, key: &str) -> BoxFuture<'_, Result<bool, StorageError>> {
        let path = self.path_of(key);
        Box::pin(async move { Ok(tokio::fs::try_exists(path).await?) })
    }
}

/// Objects in an S3-compatible bucket (AWS, MinIO, Garage, Ceph, s3s-fs, …).
pub struct S3Store {
    store: Arc<dyn ObjectStore>,
}

/// The part size of a streamed upload: S3 wants at least 5 MiB per part but the last, and the
/// writer holds about this much of each upload in memory at once.
const PART_BYTES: usize = 5 * 1024 * 1024;

impl S3Store {
    pub fn new(settings: &S3Settings) -> Result<Self, StorageError> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region);
        if let Some(endpoint) = &settings.endpoint {
            // Self-hosted servers are reached by path (`endpoint/bucket/key`), often over
            // plain HTTP on a private network.
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let Some(id) = &settings.access_key_id {
            builder = builder.with_access_key_id(id.expose());
        }
        if let Some(secret) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose());
        }
        let store = builder.build()?;
        Ok(Self {
            store: Arc::new(store),
        })
    }

    fn path_of(key: &str) -> object_store::path::Path {
        object_store::path::Path::from(format!("attachments/{key}"))
    }
}

impl BlobStore for S3Store {
    fn put_file(&self, key: &str, path: PathBuf) -> BoxFuture<'_, Result<(), StorageError>> {
        let location = Self::path_of(key);
        Box::pin(async move {
            let mut file = tokio::fs::File::open(&path).await?;
            let mut writer = BufWriter::with_capacity(self.store.clone(), location, PART_BYTES)
                .with_max_concurrency(2);
            let copied = tokio::io::copy(&mut file, &mut writer).await;
            let result = match copied {
                Ok(_) => writer.shutdown().await,
                Err(e) => {
                    let _ = writer.abort().await;
                    Err(e)
                }
            };
            let _ = tokio::fs::remove_file(&path).await;
            result.map_err(|e| StorageError::Failed(e.to_string()))
        })
    }

    fn read(&self, key: &str) -> BoxFuture<'_, Result<Bytes, StorageError>> {
        let location = Self::path_of(key);
        Box::pin(async move { Ok(self.store.get(&location).await?.bytes().await?) })
    }

    fn stream(&self, key: &str) -> BoxFuture<'_, Result<ByteStream, StorageError>> {
        let location = Self::path_of(key);
        Box::pin(async move {
            let object = self.store.get(&location).await?;
            Ok(object.into_stream().map_err(StorageError::from).boxed())
        })
    }

    fn delete(&self, key: &str) -> BoxFuture<'_, Result<(), StorageError>> {
        let location = Self::path_of(key);
        Box::pin(async move {
            match self.store.delete(&location).await {
                Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn exists(&self, key: &str) -> BoxFuture<'_, Result<bool, StorageError>> {
        let location = Self::path_of(key);
        Box::pin(async move {
            match self.store.head(&location).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
    }
}
