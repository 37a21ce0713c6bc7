//! The hot write transactions (a send, a reply's flushes and final write) and the one place that
//! decides how they reach the database.
//!
//! SQLite has one writer. Through sqlx every statement is a round trip to the connection's own
//! thread and back (a channel send and a thread wake-up each way, ~120 µs on a busy 2-core
//! machine), so a send's eight statements held the writer for about a millisecond and 100
//! simultaneous sends queued for a hundred of them (BENCHMARKS.md, "What the added TTFT under
//! load is"). On SQLite files the transactions therefore run on a thread of their own that owns a
//! synchronous connection: it takes every job waiting, runs each in a savepoint of one
//! transaction (a refused or failed job rolls back only itself) and commits them together (group
//! commit), then answers each. A job is the same code on either path: [`WriteJob::run`] is given
//! a [`WriteConn`], a sea-orm transaction on PostgreSQL, [`SyncConn`] on the thread, where every
//! await completes at once. Jobs build their statements with sea-orm's builders and read back
//! only single values (a count, an id) or a column of ids (a message's siblings), so the thread
//! needs no row decoding of its own.

use std::{
    future::Future,
    panic::AssertUnwindSafe,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc,
    },
    time::Duration,
};

use futures::FutureExt as _;
use rusqlite::types::{Value as Sql, ValueRef};
use sea_orm::{sea_query::Value, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use tokio::sync::{oneshot, Mutex, MutexGuard};
use uuid::Uuid;

/// One write transaction's work, run the same way on every backend. An `Err` rolls back what it
/// wrote and is handed back as it is.
pub trait WriteJob: Send + 'static {
    type Output: Send + 'static;
    type Error: From<DbErr> + Send + 'static;
    /// A job of one statement needs no transaction of its own on the pool (on the thread every
    /// job is in one).
    const ONE_STATEMENT: bool = false;

    fn run(
        &self,
        conn: &impl WriteConn,
    ) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send;
}

/// What a write job runs its statements on: any sea-orm connection or transaction, or the
/// writing thread's [`SyncConn`].
pub trait WriteConn: Sync {
    fn backend(&self) -> DbBackend;

    /// Runs a statement (built for [`WriteConn::backend`]); the rows it changed.
    fn execute(&self, stmt: Statement) -> impl Future<Output = Result<u64, DbErr>> + Send;

    /// The first column of the first row as an integer: `None` without a row, or for NULL.
    fn read_i64(&self, stmt: Statement) -> impl Future<Output = Result<Option<i64>, DbErr>> + Send;

    /// The first column of the first row as a uuid: `None` without a row, `Some(None)` for NULL.
    fn read_uuid(
        &self,
        stmt: Statement,
    ) -> impl Future<Output = Result<Option<Option<Uuid>>, DbErr>> + Send;

    /// The first column of every row, as uuids (none of them NULL).
    fn read_uuids(&self, stmt: Statement) -> impl Future<Output = Result<Vec<Uuid>, DbErr>> + Send;

    /// Builds a sea-orm query (`update_many()…`, `insert(…)`, `find()…`) for this connection.
    fn build(&self, query: &impl sea_orm::QueryTrait) -> Statement {
        query.build(self.backend())
    }
}

impl<C: ConnectionTrait> WriteConn for C {
    fn backend(&self) -> DbBackend {
        self.get_database_backend()
    }

    async fn execute(&self, stmt: Statement) -> Result<u64, DbErr> {
        Ok(self.execute_raw(stmt).await?.rows_affected())
    }

    async fn read_i64(&self, stmt: Statement) -> Result<Option<i64>, DbErr> {
        match self.query_one_raw(stmt).await? {
            Some(row) => Ok(row.try_get_by_index::<Option<i64>>(0)?),
            None => Ok(None),
        }
    }

    async fn read_uuid(&self, stmt: Statement) -> Result<Option<Option<Uuid>>, DbErr> {
        match self.query_one_raw(stmt).await? {
            Some(row) => Ok(Some(row.try_get_by_index::<Option<Uuid>>(0)?)),
            None => Ok(None),
        }
    }

    async fn read_uuids(&self, stmt: Statement) -> Result<Vec<Uuid>, DbErr> {
        self.query_all_raw(stmt)
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<Uuid>(0))
            .collect()
    }
}

/// Where the hot write transactions go (see the module's comment).
pub struct Writer {
    /// SQLite's in-process turn: the transactions written through sqlx (a title, a branch's
    /// move, an import) and the thread's batches take it, so they queue here,
    /// in order and woken at once, rather than in SQLite's busy handler, which sleeps in steps of
    /// milliseconds. `None` on PostgreSQL, which needs no gate.
    gate: Option<Arc<Mutex<()>>>,
    /// The writing thread, on SQLite files.
    thread: Option<mpsc::Sender<Box<dyn Queued>>>,
    /// Transactions the thread has committed (each a group of jobs).
    commits: Arc<AtomicU64>,
}

/// The most jobs one transaction takes: a bound on what one failed commit answers with an error.
const MOST_JOBS_PER_COMMIT: usize = 256;

impl Writer {
    /// The writer for `db`: a writing thread with its own connection on a SQLite file, the
    /// connection pool otherwise.
    pub fn for_database(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let commits = Arc::new(AtomicU64::new(0));
        if db.get_database_backend() != DbBackend::Sqlite {
            return Ok(Self {
                gate: None,
                thread: None,
                commits,
            });
        }
        let gate = Arc::new(Mutex::new(()));
        let options = db.get_sqlite_connection_pool().connect_options();
        let path = options.get_filename();
        let thread = match is_in_memory(path) {
            true => None,
            false => Some(spawn_thread(
                path.to_owned(),
                gate.clone(),
                commits.clone(),
            )?),
        };
        Ok(Self {
            gate: Some(gate),
            thread,
            commits,
        })
    }

    /// Transactions the writing thread has committed, each holding every job that was waiting.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Takes SQLite's turn for a transaction written through the pool (nothing on PostgreSQL).
    pub async fn enter(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.gate {
            Some(gate) => Some(gate.lock().await),
            None => None,
        }
    }

    /// Runs `job` in a write transaction of its own, or of a group on the writing thread, and
    /// answers once it is committed (or rolled back).
    pub async fn write<J: WriteJob>(
        &self,
        db: &DatabaseConnection,
        job: J,
    ) -> Result<J::Output, J::Error> {
        let Some(thread) = &self.thread else {
            let _gate = self.enter().await;
            if J::ONE_STATEMENT {
                return job.run(db).await;
            }
            let txn = super::begin_write(db).await?;
            return match job.run(&txn).await {
                Ok(output) => {
                    txn.commit().await?;
                    Ok(output)
                }
                Err(e) => {
                    txn.rollback().await?;
                    Err(e)
                }
            };
        };
        let (reply, answer) = oneshot::channel();
        let queued = Box::new(Pending {
            job,
            result: None,
            reply,
        });
        if thread.send(queued).is_err() {
            return Err(DbErr::Custom("the database's writing thread has stopped".into()).into());
        }
        answer.await.unwrap_or_else(|_| {
            Err(DbErr::Custom("a write job failed on the database's writing thread".into()).into())
        })
    }
}

/// `:memory:` and `mode=memory` databases are each connection's own: a second connection would
/// not see the pool's.
fn is_in_memory(path: &Path) -> bool {
    let path = path.to_string_lossy();
    path == ":memory:" || path.is_empty() || path.contains("mode=memory")
}

/// A job waiting for the thread, with its result kept until the commit says whether it stands.
trait Queued: Send {
    /// Runs the job; whether what it wrote is kept.
    fn run(&mut self, conn: &SyncConn<'_>) -> bool;
    /// Answers the job's caller once its transaction has ended.
    fn answer(self: Box<Self>, committed: Result<(), DbErr>);
}

struct Pending<J: WriteJob> {
    job: J,
    result: Option<Result<J::Output, J::Error>>,
    reply: oneshot::Sender<Result<J::Output, J::Error>>,
}

impl<J: WriteJob> Queued for Pending<J> {
    fn run(&mut self, conn: &SyncConn<'_>) -> bool {
        // Its caller went away while it waited (a request dropped): as a transaction dropped
        // before its commit, it writes nothing.
        if self.reply.is_closed() {
            return false;
        }
        let result = match self.job.run(conn).now_or_never() {
            Some(result) => result,
            None => Err(DbErr::Custom(
                "a write job waited for something other than its database".into(),
            )
            .into()),
        };
        let keep = result.is_ok();
        self.result = Some(result);
        keep
    }

    fn answer(self: Box<Self>, committed: Result<(), DbErr>) {
        let result = match (self.result, committed) {
            (Some(Err(refused)), _) => Err(refused),
            (Some(Ok(_)), Err(e)) | (None, Err(e)) => Err(e.into()),
            (Some(Ok(output)), Ok(())) => Ok(output),
            (None, Ok(())) => Err(DbErr::Custom("a write job did not run".into()).into()),
        };
        let _ = self.reply.send(result);
    }
}

fn spawn_thread(
    path: PathBuf,
    gate: Arc<Mutex<()>>,
    commits: Arc<AtomicU64>,
) -> Result<mpsc::Sender<Box<dyn Queued>>, DbErr> {
    let conn = std::sync::Mutex::new(open(&path).map_err(sql_err)?);
    let (jobs, queue) = mpsc::channel::<Box<dyn Queued>>();
    std::thread::Builder::new()
        .name("sqlite-writer".into())
        .spawn(move || {
            while let Ok(first) = queue.recv() {
                let mut batch = vec![first];
                while batch.len() < MOST_JOBS_PER_COMMIT {
                    match queue.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let _turn = gate.blocking_lock();
                if run_batch(&conn, batch) {
                    commits.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
        .map_err(|e| DbErr::Custom(format!("starting the database's writing thread: {e}")))?;
    Ok(jobs)
}

/// The writing thread's connection: the pool's settings (foreign keys, WAL's `NORMAL`
/// synchronisation, a busy timeout for writers outside the gate), and the journals of its
/// savepoints kept in memory: on disk each was a file created and deleted within the
/// transaction (a profile showed the thread in `openat`, `unlink` and the page cache's
/// eviction at `close`).
fn open(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// One transaction for the whole batch, a savepoint for each job; whether it committed.
fn run_batch(shared: &std::sync::Mutex<rusqlite::Connection>, batch: Vec<Box<dyn Queued>>) -> bool {
    let sync = SyncConn(shared);
    let run = |sql: &str| {
        let conn = shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        conn.execute_batch(sql)
    };
    if let Err(e) = run("BEGIN IMMEDIATE") {
        let e = sql_err(e);
        for job in batch {
            job.answer(Err(e.clone()));
        }
        return false;
    }
    let mut ran: Vec<Box<dyn Queued>> = Vec::with_capacity(batch.len());
    for mut job in batch {
        let kept = run("SAVEPOINT job").is_ok()
            && std::panic::catch_unwind(AssertUnwindSafe(|| job.run(&sync))).unwrap_or(false);
        let ended = match kept {
            true => run("RELEASE job"),
            false => run("ROLLBACK TO job; RELEASE job"),
        };
        if let Err(e) = ended {
            // The savepoint is in an unknown state: nothing of this batch is kept.
            tracing::error!(error = %e, "ending a write job's savepoint");
            let _ = run("ROLLBACK");
            let e = sql_err(e);
            job.answer(Err(e.clone()));
            for job in ran {
                job.answer(Err(e.clone()));
            }
            return false;
        }
        ran.push(job);
    }
    let committed = run("COMMIT").map_err(sql_err);
    if committed.is_err() {
        let _ = run("ROLLBACK");
    }
    let done = committed.is_ok();
    for job in ran {
        job.answer(committed.clone());
    }
    done
}

fn sql_err(e: rusqlite::Error) -> DbErr {
    DbErr::Custom(format!("sqlite: {e}"))
}

/// The writing thread's synchronous connection: each call runs to its end before it returns,
/// so a job's futures never wait. (The mutex is only ever taken on the writing thread; it makes
/// the connection `Sync`, as a job's futures being `Send` asks.)
pub struct SyncConn<'a>(&'a std::sync::Mutex<rusqlite::Connection>);

impl SyncConn<'_> {
    fn with<T>(
        &self,
        stmt: &Statement,
        then: impl FnOnce(&mut rusqlite::CachedStatement<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, DbErr> {
        let conn = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut prepared = conn.prepare_cached(&stmt.sql).map_err(sql_err)?;
        if let Some(values) = &stmt.values {
            for (at, value) in values.0.iter().enumerate() {
                prepared
                    .raw_bind_parameter(at + 1, to_sql(value)?)
                    .map_err(sql_err)?;
            }
        }
        then(&mut prepared).map_err(sql_err)
    }

    /// The first column of the first row, if there is a row.
    fn first<T>(
        &self,
        stmt: &Statement,
        read: impl FnOnce(ValueRef<'_>) -> Result<T, String>,
    ) -> Result<Option<T>, DbErr> {
        let mut value = None;
        self.with(stmt, |prepared| {
            let mut rows = prepared.raw_query();
            if let Some(row) = rows.next()? {
                value = Some(read(row.get_ref(0)?));
            }
            Ok(())
        })?;
        value
            .transpose()
            .map_err(|e| DbErr::Custom(format!("reading {}: {e}", stmt.sql)))
    }
}

impl WriteConn for SyncConn<'_> {
    fn backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute(&self, stmt: Statement) -> Result<u64, DbErr> {
        self.with(&stmt, |prepared| prepared.raw_execute())
            .map(|changed| changed as u64)
    }

    async fn read_i64(&self, stmt: Statement) -> Result<Option<i64>, DbErr> {
        let value = self.first(&stmt, |value| match value {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(i) => Ok(Some(i)),
            other => Err(format!(
                "an integer expected, {:?} found",
                other.data_type()
            )),
        })?;
        Ok(value.flatten())
    }

    async fn read_uuid(&self, stmt: Statement) -> Result<Option<Option<Uuid>>, DbErr> {
        self.first(&stmt, uuid_of)
    }

    async fn read_uuids(&self, stmt: Statement) -> Result<Vec<Uuid>, DbErr> {
        let mut ids = Vec::new();
        self.with(&stmt, |prepared| {
            let mut rows = prepared.raw_query();
            while let Some(row) = rows.next()? {
                ids.push(uuid_of(row.get_ref(0)?).and_then(|id| id.ok_or_else(|| "NULL".into())));
            }
            Ok(())
        })?;
        ids.into_iter()
            .collect::<Result<_, _>>()
            .map_err(|e| DbErr::Custom(format!("reading {}: a uuid expected: {e}", stmt.sql)))
    }
}

/// A uuid as sqlx writes and reads them on SQLite: 16 bytes.
fn uuid_of(value: ValueRef<'_>) -> Result<Option<Uuid>, String> {
    match value {
        ValueRef::Null => Ok(None),
        ValueRef::Blob(bytes) => Uuid::from_slice(bytes).map(Some).map_err(|e| e.to_string()),
        other => Err(format!("a uuid expected, {:?} found", other.data_type())),
    }
}

/// A value bound as sqlx binds it on SQLite (`sea-query-sqlx`, sqlx's encoders), so rows
/// written on either path read the same: uuids as 16-byte blobs, timestamps as RFC 3339 text,
/// JSON as its compact text, booleans as 0 and 1.
fn to_sql(value: &Value) -> Result<Sql, DbErr> {
    fn or_null<T>(value: &Option<T>, f: impl FnOnce(&T) -> Sql) -> Sql {
        value.as_ref().map_or(Sql::Null, f)
    }
    Ok(match value {
        Value::Bool(v) => or_null(v, |v| Sql::Integer(i64::from(*v))),
        Value::TinyInt(v) => or_null(v, |v| Sql::Integer(i64::from(*v))),
        Value::SmallInt(v) => or_null(v, |v| Sql::Integer(i64::from(*v))),
        Value::Int(v) => or_null(v, |v| Sql::Integer(i64::from(*v))),
        Value::BigInt(v) => or_null(v, |v| Sql::Integer(*v)),
        Value::TinyUnsigned(v) => or_null(v, |v| Sql::Integer(i64::from(*v))),
        Value::SmallUnsigned(v) => or_null(v, |v| Sql::Integer(i64::from(*v))),
        Value::Unsigned(v) => or_null(v, |v| Sql::Integer(i64::from(*v))),
        Value::BigUnsigned(v) => match v {
            Some(v) => Sql::Integer(
                i64::try_from(*v).map_err(|_| DbErr::Custom(format!("{v} is past i64")))?,
            ),
            None => Sql::Null,
        },
        Value::Float(v) => or_null(v, |v| Sql::Real(f64::from(*v))),
        Value::Double(v) => or_null(v, |v| Sql::Real(*v)),
        Value::String(v) => or_null(v, |v| Sql::Text(v.clone())),
        Value::Char(v) => or_null(v, |v| Sql::Text(v.to_string())),
        Value::Enum(e) => match e {
            sea_orm::sea_query::OptionEnum::Some(v) => Sql::Text(v.value.to_string()),
            sea_orm::sea_query::OptionEnum::None(_) => Sql::Null,
        },
        Value::Bytes(v) => or_null(v, |v| Sql::Blob(v.clone())),
        Value::Uuid(v) => or_null(v, |v| Sql::Blob(v.as_bytes().to_vec())),
        Value::Json(v) => or_null(v, |v| Sql::Text(v.to_string())),
        Value::ChronoDateTimeUtc(v) => or_null(v, |v| {
            Sql::Text(v.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
        }),
        Value::ChronoDateTimeWithTimeZone(v) => or_null(v, |v| {
            Sql::Text(v.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
        }),
        Value::ChronoDateTime(v) => or_null(v, |v| Sql::Text(v.format("%F %T%.f").to_string())),
        Value::ChronoDate(v) => or_null(v, |v| Sql::Text(v.format("%F").to_string())),
        other => {
            return Err(DbErr::Custom(format!(
                "the writing thread cannot bind {other:?}"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use futures::{stream::FuturesUnordered, StreamExt as _};
    use sea_orm::{
        ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, IntoActiveModel as _,
        QueryFilter as _, QuerySelect as _,
    };

    use super::*;
    use crate::db::entities::{messages, users};

    async fn database() -> (tempfile::TempDir, DatabaseConnection, Writer) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display());
        let db = crate::db::connect_and_migrate(&url).await.unwrap();
        let writer = Writer::for_database(&db).unwrap();
        assert!(
            writer.thread.is_some(),
            "a SQLite file gets a writing thread"
        );
        (dir, db, writer)
    }

    fn user(email: &str) -> users::Model {
        let at = crate::db::now();
        users::Model {
            id: uuid::Uuid::now_v7(),
            email: email.into(),
            name: "Ada \u{1F600} O'Brien".into(),
            password_hash: "$argon2id$x".into(),
            role: app::wire::UserRole::User,
            status: app::wire::UserStatus::Active,
            monthly_budget_micros: None,
            created_at: at,
            updated_at: at + chrono::Duration::microseconds(1),
        }
    }

    /// Inserts a user, then fails if told to.
    struct AddUser {
        user: users::Model,
        then_fail: bool,
    }

    impl WriteJob for AddUser {
        type Output = uuid::Uuid;
        type Error = DbErr;

        async fn run(&self, conn: &impl WriteConn) -> Result<uuid::Uuid, DbErr> {
            let insert = users::Entity::insert(self.user.clone().into_active_model());
            conn.execute(conn.build(&insert)).await?;
            match self.then_fail {
                true => Err(DbErr::Custom("refused after writing".into())),
                false => Ok(self.user.id),
            }
        }
    }

    /// Inserts a message, then reads back its parent and its prompt tokens.
    struct AddMessage(messages::Model);

    impl WriteJob for AddMessage {
        type Output = (Option<Option<uuid::Uuid>>, Option<i64>);
        type Error = DbErr;

        async fn run(&self, conn: &impl WriteConn) -> Result<Self::Output, DbErr> {
            let insert = messages::Entity::insert(self.0.clone().into_active_model());
            conn.execute(conn.build(&insert)).await?;
            let of_it = || messages::Entity::find_by_id(self.0.id).select_only();
            let parent = of_it().column(messages::Column::ParentId);
            let tokens = of_it().column(messages::Column::PromptTokens);
            Ok((
                conn.read_uuid(conn.build(&parent)).await?,
                conn.read_i64(conn.build(&tokens)).await?,
            ))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rows_written_on_the_thread_read_the_same_through_sqlx_and_back() {
        let (_dir, db, writer) = database().await;
        // Written on the thread, read through sqlx: every kind of column sqlx reads back.
        let written = user("thread@example.com");
        writer
            .write(
                &db,
                AddUser {
                    user: written.clone(),
                    then_fail: false,
                },
            )
            .await
            .unwrap();
        let read = users::Entity::find_by_id(written.id)
            .one(&db)
            .await
            .unwrap();
        assert_eq!(read, Some(written.clone()));

        // A message: uuids, null and set options, JSON, text with quotes, booleans, enums,
        // timestamps, the extremes of i64.
        let at = crate::db::now();
        let conversation = crate::db::entities::conversations::Model {
            id: uuid::Uuid::now_v7(),
            user_id: written.id,
            title: "t".into(),
            provider: app::wire::ProviderId::Demo,
            model: "demo".into(),
            temperature: 0.5,
            max_tokens: 100,
            system_prompt: None,
            current_leaf_id: None,
            thinking_budget_tokens: None,
            message_count: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            total_tokens: 0,
            cost_micros: 0,
            content_bytes: 0,
            created_at: at,
            updated_at: at,
            pinned: false,
            archived: false,
            imported_from: None,
            source_id: None,
        }
        .into_active_model()
        .insert(&db)
        .await
        .unwrap();
        let message = messages::Model {
            id: uuid::Uuid::now_v7(),
            conversation_id: conversation.id,
            user_id: written.id,
            parent_id: None,
            role: app::wire::Role::Assistant,
            content: "it's \"quoted\" and ünïcode".into(),
            reasoning: Some("thought".into()),
            status: app::wire::MessageStatus::Streaming,
            stream_chunks: Some(serde_json::json!([3, -2, 5])),
            prompt_tokens: i64::MAX,
            completion_tokens: -1,
            total_tokens: 0,
            cached_tokens: 7,
            reasoning_tokens: 8,
            cost_micros: 9,
            input_micros_per_mtok: Some(1),
            cached_input_micros_per_mtok: None,
            output_micros_per_mtok: Some(3),
            provider: Some(app::wire::ProviderId::Demo),
            model: Some("demo".into()),
            error: None,
            content_html: Some("<p>x</p>".into()),
            created_at: at,
            updated_at: at,
            imported: true,
            content_tokens: Some(4),
        };
        let answer = writer
            .write(&db, AddMessage(message.clone()))
            .await
            .unwrap();
        assert_eq!(answer, (Some(None), Some(i64::MAX)));
        let read = messages::Entity::find_by_id(message.id)
            .one(&db)
            .await
            .unwrap();
        assert_eq!(read, Some(message.clone()));

        // Read on the thread what sqlx wrote: a set uuid, and no row at all.
        let mut child = message.clone();
        child.id = uuid::Uuid::now_v7();
        child.parent_id = Some(message.id);
        child.prompt_tokens = i64::MIN;
        struct ReadParent(uuid::Uuid);
        impl WriteJob for ReadParent {
            type Output = (Option<Option<uuid::Uuid>>, Option<i64>);
            type Error = DbErr;
            async fn run(&self, conn: &impl WriteConn) -> Result<Self::Output, DbErr> {
                let parent = messages::Entity::find()
                    .select_only()
                    .column(messages::Column::ParentId)
                    .filter(messages::Column::Id.eq(self.0));
                let tokens = messages::Entity::find()
                    .select_only()
                    .column(messages::Column::PromptTokens)
                    .filter(messages::Column::Id.eq(self.0));
                Ok((
                    conn.read_uuid(conn.build(&parent)).await?,
                    conn.read_i64(conn.build(&tokens)).await?,
                ))
            }
        }
        messages::Entity::insert(child.clone().into_active_model())
            .exec_without_returning(&db)
            .await
            .unwrap();
        let read = writer.write(&db, ReadParent(child.id)).await.unwrap();
        assert_eq!(read, (Some(Some(message.id)), Some(i64::MIN)));
        let none = writer
            .write(&db, ReadParent(uuid::Uuid::now_v7()))
            .await
            .unwrap();
        assert_eq!(none, (None, None));

        // A column of ids (a message's siblings), in order, read alike on the thread and
        // through sqlx.
        let mut second = child.clone();
        second.id = uuid::Uuid::now_v7();
        messages::Entity::insert(second.clone().into_active_model())
            .exec_without_returning(&db)
            .await
            .unwrap();
        struct Siblings(messages::Model);
        impl WriteJob for Siblings {
            type Output = crate::chat::tree::Siblings;
            type Error = DbErr;
            async fn run(&self, conn: &impl WriteConn) -> Result<Self::Output, DbErr> {
                crate::chat::tree::siblings_of(conn, &self.0).await
            }
        }
        let on_thread = writer.write(&db, Siblings(second.clone())).await.unwrap();
        let through_sqlx = crate::chat::tree::siblings_of(&db, &second).await.unwrap();
        assert_eq!(on_thread, through_sqlx);
        assert_eq!(
            (
                on_thread.index,
                on_thread.count,
                on_thread.prev,
                on_thread.next
            ),
            (2, 2, Some(child.id), None)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_commit_takes_every_job_waiting_and_a_refused_job_rolls_back_alone() {
        let (_dir, db, writer) = database().await;
        let users: Vec<_> = (0..8).map(|i| user(&format!("u{i}@example.com"))).collect();
        let mut waiting = FuturesUnordered::new();
        // Hold SQLite's turn while the jobs queue, so the thread can commit none of them yet.
        let turn = writer.enter().await;
        for (i, user) in users.iter().enumerate() {
            let job = AddUser {
                user: user.clone(),
                then_fail: i == 5,
            };
            waiting.push(writer.write(&db, job));
        }
        // One poll sends every job to the thread (a send's first step).
        assert!(futures::poll!(waiting.next()).is_pending());
        drop(turn);
        let mut answers = Vec::new();
        while let Some(answer) = waiting.next().await {
            answers.push(answer);
        }
        assert_eq!(answers.iter().filter(|a| a.is_ok()).count(), 7);
        let refused: Vec<_> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
        assert_eq!(refused.len(), 1);
        assert!(refused[0].to_string().contains("refused after writing"));
        // At most the job the thread took before the turn was free, then all the others.
        assert!(
            writer.commits() <= 2,
            "{} commits for 8 jobs",
            writer.commits()
        );
        for (i, user) in users.iter().enumerate() {
            let stored = users::Entity::find_by_id(user.id).one(&db).await.unwrap();
            assert_eq!(stored.is_some(), i != 5, "user {i}");
        }
    }

    /// Waits for a timer: work for the pool, not for the thread.
    struct Waits;

    impl WriteJob for Waits {
        type Output = ();
        type Error = DbErr;

        async fn run(&self, conn: &impl WriteConn) -> Result<(), DbErr> {
            let insert = users::Entity::insert(user("waits@example.com").into_active_model());
            conn.execute(conn.build(&insert)).await?;
            tokio::task::yield_now().await;
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_that_waits_for_anything_else_is_refused_and_keeps_nothing() {
        let (_dir, db, writer) = database().await;
        let refused = writer.write(&db, Waits).await.unwrap_err();
        assert!(
            refused.to_string().contains("other than its database"),
            "{refused}"
        );
        use sea_orm::PaginatorTrait as _;
        assert_eq!(users::Entity::find().count(&db).await.unwrap(), 0);
        // The thread goes on.
        let added = user("after@example.com");
        let id = writer
            .write(
                &db,
                AddUser {
                    user: added,
                    then_fail: false,
                },
            )
            .await
            .unwrap();
        assert!(users::Entity::find_by_id(id)
            .one(&db)
            .await
            .unwrap()
            .is_some());
    }

    /// Writes a user, then panics.
    struct Panics(users::Model);

    impl WriteJob for Panics {
        type Output = ();
        type Error = DbErr;

        async fn run(&self, conn: &impl WriteConn) -> Result<(), DbErr> {
            let insert = users::Entity::insert(self.0.clone().into_active_model());
            conn.execute(conn.build(&insert)).await?;
            panic!("a bug in a job");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_that_panics_keeps_nothing_and_the_others_of_its_commit_stand() {
        let (_dir, db, writer) = database().await;
        let (panicking, kept) = (user("panics@example.com"), user("kept@example.com"));
        let turn = writer.enter().await;
        let mut waiting = FuturesUnordered::new();
        waiting.push(writer.write(&db, Panics(panicking.clone())).boxed());
        let job = AddUser {
            user: kept.clone(),
            then_fail: false,
        };
        waiting.push(writer.write(&db, job).map(|r| r.map(|_| ())).boxed());
        assert!(futures::poll!(waiting.next()).is_pending());
        drop(turn);
        let mut answers = Vec::new();
        while let Some(answer) = waiting.next().await {
            answers.push(answer.is_ok());
        }
        answers.sort();
        assert_eq!(answers, [false, true]);
        let stored = |id| users::Entity::find_by_id(id).one(&db);
        assert!(stored(panicking.id).await.unwrap().is_none());
        assert!(stored(kept.id).await.unwrap().is_some());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_whose_caller_went_away_while_it_waited_writes_nothing() {
        let (_dir, db, writer) = database().await;
        let gone = user("gone@example.com");
        let turn = writer.enter().await;
        let mut call = writer
            .write(
                &db,
                AddUser {
                    user: gone.clone(),
                    then_fail: false,
                },
            )
            .boxed();
        // Sent to the thread, then dropped, as a request whose client left.
        assert!(futures::poll!(&mut call).is_pending());
        drop(call);
        drop(turn);
        // A later job on the same thread: once it is answered, the dropped one has been seen.
        let after = user("after@example.com");
        let job = AddUser {
            user: after.clone(),
            then_fail: false,
        };
        writer.write(&db, job).await.unwrap();
        let stored = |id| users::Entity::find_by_id(id).one(&db);
        assert!(stored(gone.id).await.unwrap().is_none());
        assert!(stored(after.id).await.unwrap().is_some());
    }
}
