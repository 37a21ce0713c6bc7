//! Settings from the environment (and `.env`, read by `main`). Every variable is listed in
//! README.md and `.env.example`. Secrets are held in [`Secret`], which never prints.

use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

use rand::RngCore;

use crate::{chat::provider::NetworkSettings, ws::SocketSettings};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// A value that must never reach a log line or the browser.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub environment: Environment,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub site_addr: SocketAddr,
    pub jwt_secret: Secret,
    pub jwt_expires_in: Duration,
    /// Mark the session cookie `Secure` (HTTPS only). On by default in production.
    pub cookie_secure: bool,
    pub redis_url: Option<String>,
    /// `ADMIN_EMAILS`: accounts with these emails (comma-separated, any case) are admins, as is
    /// the first account ever registered.
    pub admin_emails: Vec<String>,
    pub providers: ProviderConfig,
    /// How often streamed text is written to the database while a reply streams.
    pub stream_flush_interval: Duration,
    pub sockets: SocketSettings,
}

/// Provider keys and endpoints. A provider is offered only when configured; the offline demo
/// always is.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    pub openai_api_key: Option<Secret>,
    pub openai_org_id: Option<String>,
    /// An OpenAI-compatible server (Ollama, vLLM, llama.cpp, OpenRouter); enough on its own to
    /// offer the OpenAI provider, since local servers need no key.
    pub openai_base_url: Option<String>,
    pub anthropic_api_key: Option<Secret>,
    pub anthropic_base_url: Option<String>,
    pub gemini_api_key: Option<Secret>,
    pub gemini_base_url: Option<String>,
    pub network: NetworkSettings,
    /// The demo's pause before each word.
    pub demo_word_delay: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error(
        "JWT_SECRET is required when APP_ENV=production: set it to a long random string, \
         e.g. the output of `openssl rand -hex 32`"
    )]
    MissingJwtSecretInProduction,
    #[error("JWT_SECRET must be at least 32 characters long in production")]
    WeakJwtSecret,
    #[error("cannot use the data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads settings through `lookup`, so tests can configure a server without touching the
    /// process environment. Creates the data folder, and in development the JWT secret file.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let environment = match lookup("APP_ENV").as_deref() {
            None | Some("development") | Some("dev") => Environment::Development,
            Some("production") | Some("prod") => Environment::Production,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "APP_ENV",
                    reason: format!("expected `development` or `production`, got `{other}`"),
                })
            }
        };
        let data_dir = PathBuf::from(lookup("DATA_DIR").unwrap_or_else(|| "data".into()));
        std::fs::create_dir_all(&data_dir).map_err(|source| ConfigError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let database_url = lookup("DATABASE_URL").unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("rustchat.db").display()
            )
        });
        let site_addr = lookup("LEPTOS_SITE_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .map_err(|e| ConfigError::Invalid {
                name: "LEPTOS_SITE_ADDR",
                reason: format!("{e} (expected host:port, e.g. 127.0.0.1:3000)"),
            })?;
        let duration = |name: &'static str,
                        default: Duration,
                        min: Duration|
         -> Result<Duration, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(text) => parse_duration(&text, min)
                    .map_err(|reason| ConfigError::Invalid { name, reason }),
            }
        };
        let jwt_expires_in = duration(
            "JWT_EXPIRES_IN",
            Duration::from_secs(7 * 24 * 3600),
            Duration::from_secs(60),
        )?;
        let defaults = NetworkSettings::default();
        let network = NetworkSettings {
            connect_timeout: duration(
                "PROVIDER_CONNECT_TIMEOUT",
                defaults.connect_timeout,
                Duration::ZERO,
            )?,
            first_byte_timeout: duration(
                "PROVIDER_FIRST_BYTE_TIMEOUT",
                defaults.first_byte_timeout,
                Duration::ZERO,
            )?,
            idle_timeout: duration(
                "PROVIDER_IDLE_TIMEOUT",
                defaults.idle_timeout,
                Duration::ZERO,
            )?,
            max_retries: match lookup("PROVIDER_MAX_RETRIES") {
                None => defaults.max_retries,
                Some(n) => n.trim().parse().map_err(|_| ConfigError::Invalid {
                    name: "PROVIDER_MAX_RETRIES",
                    reason: format!("expected a whole number, got `{n}`"),
                })?,
            },
            retry_base_delay: duration(
                "PROVIDER_RETRY_DELAY",
                defaults.retry_base_delay,
                Duration::ZERO,
            )?,
        };
        let providers = ProviderConfig {
            openai_api_key: lookup("OPENAI_API_KEY").map(Secret::new),
            openai_org_id: lookup("OPENAI_ORG_ID"),
            openai_base_url: lookup("OPENAI_BASE_URL"),
            anthropic_api_key: lookup("ANTHROPIC_API_KEY").map(Secret::new),
            anthropic_base_url: lookup("ANTHROPIC_BASE_URL"),
            gemini_api_key: lookup("GEMINI_API_KEY").map(Secret::new),
            gemini_base_url: lookup("GEMINI_BASE_URL"),
            network,
            demo_word_delay: duration(
                "DEMO_WORD_DELAY",
                Duration::from_millis(30),
                Duration::ZERO,
            )?,
        };
        let socket_defaults = SocketSettings::default();
        let sockets = SocketSettings {
            ping_interval: duration(
                "WS_PING_INTERVAL",
                socket_defaults.ping_interval,
                Duration::from_millis(50),
            )?,
            idle_timeout: duration(
                "WS_IDLE_TIMEOUT",
                socket_defaults.idle_timeout,
                Duration::from_millis(100),
            )?,
            ..socket_defaults
        };
        let stream_flush_interval = duration(
            "STREAM_FLUSH_INTERVAL",
            Duration::from_secs(30),
            Duration::from_millis(10),
        )?;
        let jwt_secret = match (lookup("JWT_SECRET"), environment) {
            (Some(secret), Environment::Production) if secret.len() < 32 => {
                return Err(ConfigError::WeakJwtSecret)
            }
            (Some(secret), _) => Secret::new(secret),
            (None, Environment::Production) => {
                return Err(ConfigError::MissingJwtSecretInProduction)
            }
            (None, Environment::Development) => development_secret(&data_dir)?,
        };
        let cookie_secure = match lookup("COOKIE_SECURE").as_deref() {
            None => environment == Environment::Production,
            Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "COOKIE_SECURE",
                    reason: format!("expected true or false, got `{other}`"),
                })
            }
        };
        Ok(Self {
            environment,
            data_dir,
            database_url,
            site_addr,
            jwt_secret,
            jwt_expires_in,
            cookie_secure,
            redis_url: lookup("REDIS_URL"),
            admin_emails: lookup("ADMIN_EMAILS")
                .map(|list| {
                    list.split(',')
                        .map(|e| e.trim().to_lowercase())
                        .filter(|e| !e.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            providers,
            stream_flush_interval,
            sockets,
        })
    }
}

/// `7d`, `12h`, `30m`, `250ms`, or anything humantime reads (`1week 2days`).
fn parse_duration(text: &str, min: Duration) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{e} (examples: 7d, 12h, 30s, 250ms)"))?;
    if duration < min {
        return Err(format!(
            "must be at least {}",
            humantime::format_duration(min)
        ));
    }
    Ok(duration)
}

/// In development a random secret is made once and kept in the data folder, so restarting
/// the server keeps everyone logged in.
fn development_secret(data_dir: &std::path::Path) -> Result<Secret, ConfigError> {
    let path = data_dir.join("jwt_secret");
    let io_error = |source| ConfigError::DataDir {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing.trim().len() >= 32 => return Ok(Secret::new(existing.trim())),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(e)),
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    write_private(&path, &secret).map_err(io_error)?;
    Ok(Secret::new(secret))
}

fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)], dir: &std::path::Path) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("DATA_DIR".into(), dir.display().to_string());
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn production_refuses_to_start_without_a_jwt_secret() {
        let dir = tempfile::tempdir().unwrap();
        let err = config(&[("APP_ENV", "production")], dir.path()).unwrap_err();
        assert!(err.to_string().contains("JWT_SECRET is required"), "{err}");
    }

    #[test]
    fn development_keeps_its_generated_secret_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = config(&[], dir.path()).unwrap().jwt_secret;
        let second = config(&[], dir.path()).unwrap().jwt_secret;
        assert_eq!(first, second);
        assert_eq!(first.expose().len(), 64);
    }

    #[test]
    fn jwt_expiry_reads_days_and_rejects_nonsense() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(&[("JWT_EXPIRES_IN", "7d")], dir.path()).unwrap();
        assert_eq!(c.jwt_expires_in, Duration::from_secs(7 * 86400));
        let err = config(&[("JWT_EXPIRES_IN", "soon")], dir.path()).unwrap_err();
        assert!(err.to_string().contains("JWT_EXPIRES_IN"));
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret::new("sk-very-secret");
        assert!(!format!("{secret:?}").contains("very"));
    }
}
