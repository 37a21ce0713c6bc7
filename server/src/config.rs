//! Settings from the environment (and `.env`, read by `main`). Every variable is listed in
//! README.md and `.env.example`.
//!
//! Reading the settings only parses and validates them: nothing here touches the disk. The data
//! folder and the development signing key are made at start-up ([`crate::startup`]). Secrets
//! are held in [`Secret`], which never prints.

use std::{fmt, net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use secrecy::{ExposeSecret, SecretString};

use crate::{chat::provider::NetworkSettings, limits::LimitSettings, ws::SocketSettings};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// A value that must never reach a log line or the browser: a `secrecy` string, redacted when
/// printed and wiped from memory when dropped.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub environment: Environment,
    /// `DATA_DIR`: the SQLite database and the development signing key live here.
    pub data_dir: PathBuf,
    /// May hold a password, hence a secret.
    pub database_url: Secret,
    /// Several processes share one event feed through Redis; `None` keeps it in-process.
    pub redis_url: Option<Secret>,
    pub site_addr: SocketAddr,
    pub jwt_secret: JwtSecret,
    pub jwt_expires_in: Duration,
    /// Mark the session cookie `Secure` (HTTPS only). On by default in production.
    pub cookie_secure: bool,
    /// `ADMIN_EMAILS`: accounts with these emails (comma-separated, any case) are admins, as is
    /// the first account ever registered.
    pub admin_emails: Vec<String>,
    pub providers: ProviderConfig,
    /// How often streamed text is written to the database while a reply streams.
    pub stream_flush_interval: Duration,
    pub sockets: SocketSettings,
    pub limits: LimitSettings,
}

/// Where the key that signs session tokens comes from.
#[derive(Clone, Debug)]
pub enum JwtSecret {
    /// `JWT_SECRET`.
    Given(Secret),
    /// Development without `JWT_SECRET`: a random key made on the first start and kept in
    /// `DATA_DIR/jwt_secret`, so restarting the server keeps everyone logged in.
    KeptInDataDir,
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
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads settings through `lookup`, so tests can configure a server without touching the
    /// process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(&lookup);
        let environment = Environment::from_vars(&vars)?;
        let data_dir = PathBuf::from(vars.text("DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = vars.secret("DATABASE_URL").unwrap_or_else(|| {
            let path = data_dir.join("rustchat.db");
            Secret::new(format!("sqlite://{}?mode=rwc", path.display()))
        });
        Ok(Self {
            database_url,
            redis_url: vars.secret("REDIS_URL"),
            site_addr: vars.parsed("LEPTOS_SITE_ADDR", "127.0.0.1:3000", "host:port")?,
            jwt_secret: JwtSecret::from_vars(&vars, environment)?,
            jwt_expires_in: vars.duration(
                "JWT_EXPIRES_IN",
                Duration::from_secs(7 * 24 * 3600),
                Duration::from_secs(60),
            )?,
            cookie_secure: vars
                .flag("COOKIE_SECURE")?
                .unwrap_or(environment == Environment::Production),
            admin_emails: vars.list("ADMIN_EMAILS"),
            providers: ProviderConfig::from_vars(&vars)?,
            stream_flush_interval: vars.duration(
                "STREAM_FLUSH_INTERVAL",
                Duration::from_secs(30),
                Duration::from_millis(10),
            )?,
            sockets: socket_settings(&vars)?,
            limits: limit_settings(&vars)?,
            environment,
            data_dir,
        })
    }
}

impl Environment {
    fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        match vars.text("APP_ENV").as_deref() {
            None | Some("development") | Some("dev") => Ok(Self::Development),
            Some("production") | Some("prod") => Ok(Self::Production),
            Some(other) => Err(ConfigError::Invalid {
                name: "APP_ENV",
                reason: format!("expected `development` or `production`, got `{other}`"),
            }),
        }
    }
}

impl JwtSecret {
    fn from_vars(vars: &Vars, environment: Environment) -> Result<Self, ConfigError> {
        match (vars.secret("JWT_SECRET"), environment) {
            (Some(secret), Environment::Production) if secret.expose().len() < 32 => {
                Err(ConfigError::WeakJwtSecret)
            }
            (Some(secret), _) => Ok(Self::Given(secret)),
            (None, Environment::Production) => Err(ConfigError::MissingJwtSecretInProduction),
            (None, Environment::Development) => Ok(Self::KeptInDataDir),
        }
    }
}

impl ProviderConfig {
    fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            openai_api_key: vars.secret("OPENAI_API_KEY"),
            openai_org_id: vars.text("OPENAI_ORG_ID"),
            openai_base_url: vars.text("OPENAI_BASE_URL"),
            anthropic_api_key: vars.secret("ANTHROPIC_API_KEY"),
            anthropic_base_url: vars.text("ANTHROPIC_BASE_URL"),
            gemini_api_key: vars.secret("GEMINI_API_KEY"),
            gemini_base_url: vars.text("GEMINI_BASE_URL"),
            network: network_settings(vars)?,
            demo_word_delay: vars.duration(
                "DEMO_WORD_DELAY",
                Duration::from_millis(30),
                Duration::ZERO,
            )?,
        })
    }
}

fn network_settings(vars: &Vars) -> Result<NetworkSettings, ConfigError> {
    let defaults = NetworkSettings::default();
    let timeout = |name, default| vars.duration(name, default, Duration::ZERO);
    Ok(NetworkSettings {
        connect_timeout: timeout("PROVIDER_CONNECT_TIMEOUT", defaults.connect_timeout)?,
        first_byte_timeout: timeout("PROVIDER_FIRST_BYTE_TIMEOUT", defaults.first_byte_timeout)?,
        idle_timeout: timeout("PROVIDER_IDLE_TIMEOUT", defaults.idle_timeout)?,
        max_retries: vars.whole_number("PROVIDER_MAX_RETRIES", defaults.max_retries)?,
        retry_base_delay: timeout("PROVIDER_RETRY_DELAY", defaults.retry_base_delay)?,
    })
}

fn socket_settings(vars: &Vars) -> Result<SocketSettings, ConfigError> {
    let defaults = SocketSettings::default();
    Ok(SocketSettings {
        ping_interval: vars.duration(
            "WS_PING_INTERVAL",
            defaults.ping_interval,
            Duration::from_millis(50),
        )?,
        idle_timeout: vars.duration(
            "WS_IDLE_TIMEOUT",
            defaults.idle_timeout,
            Duration::from_millis(100),
        )?,
        ..defaults
    })
}

fn limit_settings(vars: &Vars) -> Result<LimitSettings, ConfigError> {
    let defaults = LimitSettings::default();
    let trusted_proxies = vars
        .list("TRUSTED_PROXIES")
        .iter()
        .map(|proxy| {
            proxy.parse().map_err(|_| ConfigError::Invalid {
                name: "TRUSTED_PROXIES",
                reason: format!("expected IP addresses separated by commas, got `{proxy}`"),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(LimitSettings {
        auth_attempts_per_minute: vars.whole_number(
            "AUTH_ATTEMPTS_PER_MINUTE",
            defaults.auth_attempts_per_minute,
        )?,
        sends_per_minute: vars.whole_number("SENDS_PER_MINUTE", defaults.sends_per_minute)?,
        max_active_replies_per_user: vars.whole_number(
            "MAX_ACTIVE_REPLIES_PER_USER",
            defaults.max_active_replies_per_user,
        )?,
        max_sockets_per_user: vars
            .whole_number("MAX_SOCKETS_PER_USER", defaults.max_sockets_per_user)?,
        trusted_proxies,
    })
}

/// The variables, read through a lookup, with one reader per kind of value; each error names
/// its variable.
struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    fn text(&self, name: &str) -> Option<String> {
        (self.0)(name)
    }

    fn secret(&self, name: &str) -> Option<Secret> {
        self.text(name).map(Secret::new)
    }

    /// `7d`, `12h`, `30m`, `250ms`, or anything humantime reads (`1week 2days`).
    fn duration(
        &self,
        name: &'static str,
        default: Duration,
        min: Duration,
    ) -> Result<Duration, ConfigError> {
        let Some(text) = self.text(name) else {
            return Ok(default);
        };
        let invalid = |reason| ConfigError::Invalid { name, reason };
        let duration = humantime::parse_duration(text.trim())
            .map_err(|e| invalid(format!("{e} (examples: 7d, 12h, 30s, 250ms)")))?;
        if duration < min {
            let min = humantime::format_duration(min);
            return Err(invalid(format!("must be at least {min}")));
        }
        Ok(duration)
    }

    fn whole_number(&self, name: &'static str, default: u32) -> Result<u32, ConfigError> {
        match self.text(name) {
            None => Ok(default),
            Some(n) => n.trim().parse().map_err(|_| ConfigError::Invalid {
                name,
                reason: format!("expected a whole number, got `{n}`"),
            }),
        }
    }

    fn flag(&self, name: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.text(name).as_deref() {
            None => Ok(None),
            Some("true") | Some("1") => Ok(Some(true)),
            Some("false") | Some("0") => Ok(Some(false)),
            Some(other) => Err(ConfigError::Invalid {
                name,
                reason: format!("expected true or false, got `{other}`"),
            }),
        }
    }

    /// Comma-separated, trimmed and lower-cased; empty items are dropped.
    fn list(&self, name: &str) -> Vec<String> {
        self.text(name)
            .map(|list| {
                list.split(',')
                    .map(|item| item.trim().to_lowercase())
                    .filter(|item| !item.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn parsed<T: FromStr>(
        &self,
        name: &'static str,
        default: &str,
        expected: &str,
    ) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        let text = self.text(name).unwrap_or_else(|| default.into());
        text.parse().map_err(|e| ConfigError::Invalid {
            name,
            reason: format!("{e} (expected {expected}, e.g. {default})"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        Config::from_lookup(|name| map.get(name).map(|v| v.to_string()))
    }

    #[test]
    fn production_refuses_to_start_without_a_jwt_secret() {
        let err = config(&[("APP_ENV", "production")]).unwrap_err();
        assert!(err.to_string().contains("JWT_SECRET is required"), "{err}");
    }

    #[test]
    fn production_refuses_a_short_jwt_secret() {
        let err = config(&[("APP_ENV", "production"), ("JWT_SECRET", "short")]).unwrap_err();
        assert!(matches!(err, ConfigError::WeakJwtSecret), "{err}");
    }

    #[test]
    fn development_without_a_jwt_secret_keeps_one_in_the_data_folder() {
        let c = config(&[]).unwrap();
        assert!(matches!(c.jwt_secret, JwtSecret::KeptInDataDir));
        let given = "x".repeat(40);
        let c = config(&[("JWT_SECRET", &given)]).unwrap();
        assert!(matches!(&c.jwt_secret, JwtSecret::Given(s) if s.expose() == given));
    }

    #[test]
    fn parsing_makes_no_files_or_folders() {
        let parent = tempfile::tempdir().unwrap();
        let data_dir = parent.path().join("data");
        let c = config(&[("DATA_DIR", &data_dir.display().to_string())]).unwrap();
        assert_eq!(c.data_dir, data_dir);
        assert!(matches!(c.jwt_secret, JwtSecret::KeptInDataDir));
        assert!(!data_dir.exists());
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
    }

    #[test]
    fn the_default_database_is_sqlite_in_the_data_folder() {
        let c = config(&[("DATA_DIR", "/srv/chat")]).unwrap();
        assert_eq!(
            c.database_url.expose(),
            "sqlite:///srv/chat/rustchat.db?mode=rwc"
        );
    }

    #[test]
    fn jwt_expiry_reads_days_and_rejects_nonsense() {
        let c = config(&[("JWT_EXPIRES_IN", "7d")]).unwrap();
        assert_eq!(c.jwt_expires_in, Duration::from_secs(7 * 86400));
        let err = config(&[("JWT_EXPIRES_IN", "soon")]).unwrap_err();
        assert!(err.to_string().contains("JWT_EXPIRES_IN"));
    }

    #[test]
    fn the_cookie_is_secure_by_default_only_in_production() {
        let secret = "s".repeat(32);
        let production = [("APP_ENV", "production"), ("JWT_SECRET", secret.as_str())];
        assert!(config(&production).unwrap().cookie_secure);
        assert!(!config(&[]).unwrap().cookie_secure);
        assert!(config(&[("COOKIE_SECURE", "1")]).unwrap().cookie_secure);
        let err = config(&[("COOKIE_SECURE", "maybe")]).unwrap_err();
        assert!(err.to_string().contains("COOKIE_SECURE"), "{err}");
    }

    #[test]
    fn admin_emails_are_trimmed_and_lower_cased() {
        let c = config(&[("ADMIN_EMAILS", " Ann@Example.com, ,bob@example.com ")]).unwrap();
        assert_eq!(c.admin_emails, ["ann@example.com", "bob@example.com"]);
    }

    #[test]
    fn limits_have_defaults_read_whole_numbers_and_trusted_proxy_addresses() {
        let c = config(&[]).unwrap();
        assert_eq!(c.limits.auth_attempts_per_minute, 10);
        assert_eq!(c.limits.sends_per_minute, 30);
        assert_eq!(c.limits.max_active_replies_per_user, 4);
        assert_eq!(c.limits.max_sockets_per_user, 20);
        assert!(c.limits.trusted_proxies.is_empty());
        let c = config(&[
            ("AUTH_ATTEMPTS_PER_MINUTE", "0"),
            ("SENDS_PER_MINUTE", "5"),
            ("MAX_ACTIVE_REPLIES_PER_USER", "1000"),
            ("MAX_SOCKETS_PER_USER", "3"),
            ("TRUSTED_PROXIES", "10.0.0.1, ::1"),
        ])
        .unwrap();
        assert_eq!(c.limits.auth_attempts_per_minute, 0);
        assert_eq!(c.limits.sends_per_minute, 5);
        assert_eq!(c.limits.max_active_replies_per_user, 1000);
        assert_eq!(c.limits.max_sockets_per_user, 3);
        assert_eq!(
            c.limits.trusted_proxies,
            [
                "10.0.0.1".parse::<std::net::IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        for (name, value) in [
            ("AUTH_ATTEMPTS_PER_MINUTE", "ten"),
            ("MAX_ACTIVE_REPLIES_PER_USER", "-1"),
            ("TRUSTED_PROXIES", "proxy.internal"),
        ] {
            let err = config(&[(name, value)]).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let c = config(&[
            ("DATABASE_URL", "postgres://chat:hunter2@db/chat"),
            ("JWT_SECRET", "jwt-very-secret"),
            ("OPENAI_API_KEY", "sk-very-secret"),
        ])
        .unwrap();
        let printed = format!("{c:?}");
        for secret in ["hunter2", "jwt-very-secret", "sk-very-secret"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }
}
