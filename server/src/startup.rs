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
        let chat = ChatService::new(
            db.clone(),
            providers(&config.providers),
            EngineSettings {
                flush_interval: config.stream_flush_interval,
            },
            config.redis_url.as_ref().map(Secret::expose),
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
            leptos_options: leptos_options(site_addr),
            sockets: config.sockets.clone(),
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

    /// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "listening");
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown_signal())
            .await
    }
}

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

/// The site's layout as cargo-leptos describes it through `LEPTOS_*` variables when it runs the
/// server, with the same defaults as `[workspace.metadata.leptos]` when the binary runs alone.
fn leptos_options(site_addr: SocketAddr) -> LeptosOptions {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let env = match var("LEPTOS_ENV", "DEV").to_uppercase().as_str() {
        "PROD" | "PRODUCTION" => Env::PROD,
        _ => Env::DEV,
    };
    LeptosOptions::builder()
        .output_name(var("LEPTOS_OUTPUT_NAME", "rustchat"))
        .site_root(var("LEPTOS_SITE_ROOT", "target/site"))
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
