//! Building and running the application. [`Application::build`] binds the listener first, so
//! tests can ask for port 0 and read the port they got.

use std::{net::SocketAddr, sync::Arc};

use leptos::config::{Env, LeptosOptions};
use tokio::net::TcpListener;

use crate::{
    auth::{service::AuthService, token::TokenKeys},
    config::Config,
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
        let db = db::connect_and_migrate(&config.database_url).await?;
        let keys = TokenKeys::new(&config.jwt_secret, config.jwt_expires_in);
        let auth = AuthService::new(db.clone(), keys)
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
            config: Arc::new(config),
            db,
            auth,
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
