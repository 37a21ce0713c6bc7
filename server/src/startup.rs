//! Building and running the application. [`Application::build`] binds the listener first, so
//! tests can ask for port 0 and read the port they got. It is also where the server first
//! touches the disk: `prepare_data_dir` makes the data folder and the development signing key.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use leptos::config::{Env, LeptosOptions};
use rand::RngCore;
use tokio::net::TcpListener;

use crate::{
    attachments::Attachments,
    auth::{service::AuthService, token::TokenKeys},
    chat::{
        provider::{
            anthropic::Anthropic, demo::Demo, gemini::Gemini, openai::OpenAi, ChatProvider,
            Providers,
        },
        recovery, ChatService, EngineSettings,
    },
    config::{Config, JwtSecret, ProviderConfig, Secret},
    db, http,
    limits::Limits,
    state::AppState,
};

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot use the data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Setup(String),
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartError> {
        // reqwest and async-openai use rustls without a built-in crypto provider; ring is the
        // one sqlx already brings. Installing twice (tests start many servers) is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let jwt_secret = prepare_data_dir(&config)?;
        let db = db::connect_and_migrate(config.database_url.expose()).await?;
        // One process alone owns every streaming reply, so all of them died with the last run;
        // with several processes (Redis), only the ones nobody has written to for a while.
        let quiet_for = config
            .redis_url
            .as_ref()
            .map(|_| std::time::Duration::from_secs(90));
        recovery::mark_interrupted(&db, quiet_for).await?;
        let attachments = Attachments::new(db.clone(), &config.attachments)
            .map_err(|e| StartError::Setup(format!("attachment storage: {e}")))?;
        let chat = ChatService::new(
            db.clone(),
            providers(&config.providers),
            EngineSettings {
                flush_interval: config.stream_flush_interval,
                limits: config.chat_limits.clone(),
                max_active_replies_per_user: config.limits.max_active_replies_per_user,
                titles: config.titles.clone(),
            },
            config.redis_url.as_ref().map(Secret::expose),
            attachments,
        )
        .await
        .map_err(|e| StartError::Setup(e.to_string()))?;
        if chat.bus.is_shared() {
            tokio::spawn(recovery::sweep_dead_peers(db.clone()));
        }
        let keys = TokenKeys::new(&jwt_secret, config.jwt_expires_in);
        let auth = AuthService::new(db.clone(), keys, config.registration);
        let listener = TcpListener::bind(config.site_addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.site_addr,
                source,
            })?;
        let mut site_addr = config.site_addr;
        site_addr.set_port(listener.local_addr().map(|a| a.port()).unwrap_or(0));
        let state = AppState {
            leptos_options: leptos_options(site_addr, &config.site_root),
            sockets: config.sockets.clone(),
            limits: Limits::new(config.limits.clone()),
            config: Arc::new(config),
            db,
            auth,
            chat,
        };
        let router = http::router(state.clone());
        Ok(Self {
            listener,
            router,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C or SIGTERM, then shuts down gracefully ([`Self::run_until`]).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` resolves. Then it stops accepting, lets requests in flight
    /// finish, gives streaming replies `SHUTDOWN_GRACE` to complete, and stops those still
    /// going, so each is stored (`stopped`, with its text and usage) instead of left
    /// `streaming` for the next start to mark interrupted.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "listening");
        crate::http::static_files::precompress_in_background(self.state.config.site_root.clone());
        crate::memory::spawn_trimmer();
        let settings = self.state.config.connections.clone();
        let router = self.router.layer(axum::middleware::from_fn_with_state(
            settings.request_timeout,
            serving::request_timeout,
        ));
        serving::serve(self.listener, router, &settings, shutdown).await;
        serving::settle_replies(&self.state.chat, settings.shutdown_grace).await;
        Ok(())
    }
}

/// The accept loop: hyper-util's connection builder serves each connection (HTTP/1 with a
/// header-read timeout, HTTP/2, WebSocket upgrades), and a semaphore bounds how many are open.
mod serving {
    use std::{sync::Arc, time::Duration};

    use axum::{
        extract::{ConnectInfo, Request, State},
        http::StatusCode,
        middleware::Next,
        response::{IntoResponse, Response},
        Router,
    };
    use hyper_util::{
        rt::{TokioExecutor, TokioIo, TokioTimer},
        server::{conn::auto, graceful::GracefulShutdown},
    };
    use tokio::{net::TcpListener, sync::Semaphore};
    use tower::ServiceExt;

    use crate::{chat::ChatService, config::ConnectionSettings};

    /// A connection's place among `MAX_CONNECTIONS`, held as long as the connection is open.
    /// Requests carry it, so an upgraded WebSocket (which outlives its HTTP connection) keeps
    /// holding it (see `ws::upgrade`).
    #[derive(Clone)]
    pub struct ConnectionSlot {
        _permit: Arc<tokio::sync::OwnedSemaphorePermit>,
    }

    pub async fn serve(
        listener: TcpListener,
        router: Router,
        settings: &ConnectionSettings,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) {
        let slots = Arc::new(Semaphore::new(settings.max_connections));
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(settings.header_read_timeout);
        builder.http2().timer(TokioTimer::new());
        let graceful = GracefulShutdown::new();
        tokio::pin!(shutdown);
        loop {
            // At the limit, new connections wait in the listen backlog until one closes.
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => match slot {
                    Ok(slot) => ConnectionSlot { _permit: Arc::new(slot) },
                    Err(_) => break,
                },
                () = &mut shutdown => break,
            };
            let (stream, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!(error = %e, "accepting a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let service = hyper::service::service_fn({
                let router = router.clone();
                let slot = slot.clone();
                move |mut request: Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(remote));
                    request.extensions_mut().insert(slot.clone());
                    router.clone().oneshot(request.map(axum::body::Body::new))
                }
            });
            let builder = builder.clone();
            let watcher = graceful.watcher();
            tokio::spawn(async move {
                let connection =
                    builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                if let Err(e) = watcher.watch(connection.into_owned()).await {
                    tracing::debug!(error = %e, %remote, "a connection ended with an error");
                }
                drop(slot);
            });
        }
        drop(listener);
        tracing::info!("shutting down: finishing the requests in flight");
        // A request that does not finish within the request timeout is cut by it anyway.
        if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("requests still open after 30 s were dropped");
        }
    }

    /// Replies streaming at shutdown get `grace` to complete; then the rest are stopped and
    /// stored as they are.
    pub async fn settle_replies(chat: &ChatService, grace: Duration) {
        let replies = chat.active.all();
        if replies.is_empty() {
            return;
        }
        tracing::info!(
            count = replies.len(),
            ?grace,
            "waiting for streaming replies"
        );
        let all_finished =
            futures::future::join_all(replies.iter().map(|reply| reply.wait_finished()));
        if tokio::time::timeout(grace, all_finished).await.is_ok() {
            return;
        }
        let left = chat.active.all();
        tracing::warn!(count = left.len(), "stopping the replies still streaming");
        for reply in &left {
            reply.cancel.cancel();
        }
        let stored = futures::future::join_all(left.iter().map(|reply| reply.wait_finished()));
        let _ = tokio::time::timeout(Duration::from_secs(10), stored).await;
    }

    /// Every request but the WebSocket's (which lives as long as the socket) must be answered
    /// within `limit`, its body included: a slow client cannot hold a handler.
    pub async fn request_timeout(
        State(limit): State<Duration>,
        request: Request,
        next: Next,
    ) -> Response {
        let limit = match request.uri().path() {
            "/ws" => return next.run(request).await,
            // A whole history in or out: bounded by its size, given ten times as long.
            "/api/import" | "/api/export" => limit * 10,
            _ => limit,
        };
        match tokio::time::timeout(limit, next.run(request)).await {
            Ok(response) => response,
            Err(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"error": {
                    "code": "request_timeout",
                    "message": "The request took too long and was cut off. Try again.",
                }})),
            )
                .into_response(),
        }
    }
}

pub use serving::ConnectionSlot;

/// Makes the data folder (the default SQLite database lives there) and returns the key that
/// signs session tokens: `JWT_SECRET`, or in development one made on the first start and kept
/// in the folder, so restarting the server keeps everyone logged in.
pub(crate) fn prepare_data_dir(config: &Config) -> Result<Secret, StartError> {
    let data_dir = &config.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
        path: data_dir.clone(),
        source,
    })?;
    match &config.jwt_secret {
        JwtSecret::Given(secret) => Ok(secret.clone()),
        JwtSecret::KeptInDataDir => {
            let path = data_dir.join("jwt_secret");
            kept_secret(&path).map_err(|source| StartError::DataDir { path, source })
        }
    }
}

/// The secret in `path`, or a new random one written there (readable by this user only) when
/// the file is missing or too short.
fn kept_secret(path: &Path) -> std::io::Result<Secret> {
    match std::fs::read_to_string(path) {
        Ok(existing) if existing.trim().len() >= 32 => return Ok(Secret::new(existing.trim())),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = Secret::new(hex::encode(bytes));
    write_private(path, secret.expose())?;
    Ok(secret)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

/// The offline demo always; every other provider when its key (or, for OpenAI-compatible
/// servers, its base URL) is set.
fn providers(config: &ProviderConfig) -> Providers {
    let network = config.network.clone();
    let mut list: Vec<Arc<dyn ChatProvider>> = vec![Arc::new(Demo {
        word_delay: config.demo_word_delay,
    })];
    if config.openai_api_key.is_some() || config.openai_base_url.is_some() {
        list.push(Arc::new(OpenAi::new(
            config.openai_api_key.clone(),
            config.openai_org_id.clone(),
            config.openai_base_url.clone(),
            network.clone(),
        )));
    }
    if let Some(key) = &config.anthropic_api_key {
        list.push(Arc::new(Anthropic::new(
            key.clone(),
            config.anthropic_base_url.clone(),
            network.clone(),
        )));
    }
    if let Some(key) = &config.gemini_api_key {
        list.push(Arc::new(Gemini::new(
            key.clone(),
            config.gemini_base_url.clone(),
            network.clone(),
        )));
    }
    Providers::new(list, network)
}

/// The site's layout as `scripts/run` and cargo-leptos describe it through `LEPTOS_*` variables
/// when they run the server, with the same defaults as `[workspace.metadata.leptos]` when the
/// binary runs alone.
fn leptos_options(site_addr: SocketAddr, site_root: &Path) -> LeptosOptions {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let env = match var("LEPTOS_ENV", "DEV").to_uppercase().as_str() {
        "PROD" | "PRODUCTION" => Env::PROD,
        _ => Env::DEV,
    };
    LeptosOptions::builder()
        .output_name(var("LEPTOS_OUTPUT_NAME", "rustchat"))
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR", "pkg"))
        .env(env)
        .site_addr(site_addr)
        .reload_port(var("LEPTOS_RELOAD_PORT", "3001").parse().unwrap_or(3001))
        .build()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(data_dir: &Path, vars: &[(&str, &str)]) -> Config {
        let data_dir = data_dir.display().to_string();
        Config::from_lookup(|name| match name {
            "DATA_DIR" => Some(data_dir.clone()),
            _ => vars
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string()),
        })
        .unwrap()
    }

    #[test]
    fn development_keeps_its_generated_secret_across_restarts() {
        let parent = tempfile::tempdir().unwrap();
        let data_dir = parent.path().join("data");
        let first = prepare_data_dir(&config(&data_dir, &[])).unwrap();
        let second = prepare_data_dir(&config(&data_dir, &[])).unwrap();
        assert_eq!(first.expose(), second.expose());
        assert_eq!(first.expose().len(), 64);
        let kept = std::fs::read_to_string(data_dir.join("jwt_secret")).unwrap();
        assert_eq!(kept, first.expose());
    }

    #[test]
    fn a_given_secret_is_used_and_nothing_is_kept() {
        let data_dir = tempfile::tempdir().unwrap();
        let given = "g".repeat(40);
        let secret = prepare_data_dir(&config(data_dir.path(), &[("JWT_SECRET", &given)]));
        assert_eq!(secret.unwrap().expose(), given);
        assert!(!data_dir.path().join("jwt_secret").exists());
    }
}
