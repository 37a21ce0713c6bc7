//! Building and running the application. [`Application::build`] binds the listener first, so
//! tests can ask for port 0 and read the port they got.

use std::{net::SocketAddr, sync::Arc};

use leptos::config::{Env, LeptosOptions};
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
    config::{Config, ProviderConfig},
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
        let db = db::connect_and_migrate(&config.database_url).await?;
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
            config.redis_url.as_deref(),
        )
        .await
        .map_err(|e| StartError::Setup(e.to_string()))?;
        if chat.bus.is_shared() {
            tokio::spawn(recovery::sweep_dead_peers(db.clone()));
        }
        let keys = TokenKeys::new(&config.jwt_secret, config.jwt_expires_in);
        let auth = AuthService::new(db.clone(), keys, config.admin_emails.clone())
            .await
            .map_err(|e| StartError::Setup(e.to_string()))?;
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
