//! Settings from the environment (and `.env`, read by `main`). Every variable is listed in
//! README.md and `.env.example`.
//!
//! Reading the settings only parses and validates them: nothing here touches the disk. The data
//! folder and the development signing key are made at start-up ([`crate::startup`]). Secrets
//! are held in [`Secret`], which never prints.

use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use secrecy::{ExposeSecret, SecretString};

use app::wire::ProviderId;

use crate::{
    attachments::{AttachmentSettings, S3Settings, StorageSettings},
    chat::{provider::NetworkSettings, titles::TitleSettings, ChatLimits},
    limits::LimitSettings,
    ws::SocketSettings,
};

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
    /// `LEPTOS_SITE_ROOT` (`scripts/run` and cargo-leptos set it): the site's files, the WASM
    /// among them.
    pub site_root: PathBuf,
    /// May hold a password, hence a secret.
    pub database_url: Secret,
    /// Several processes share one event feed through Redis; `None` keeps it in-process.
    pub redis_url: Option<Secret>,
    pub site_addr: SocketAddr,
    pub jwt_secret: JwtSecret,
    pub jwt_expires_in: Duration,
    /// Mark the session cookie `Secure` (HTTPS only). On by default in production.
    pub cookie_secure: bool,
    /// `REGISTRATION`: who may create an account (the first account of an empty instance
    /// always may, and is the admin).
    pub registration: RegistrationMode,
    /// `PUBLIC_URL`: the address people open the app at. Its host is the one requests may
    /// name (besides loopback names and IP addresses); invite links are built on it, and an
    /// `https` one turns on HSTS.
    pub public_url: Option<PublicUrl>,
    pub providers: ProviderConfig,
    /// How often streamed text is written to the database while a reply streams.
    pub stream_flush_interval: Duration,
    pub sockets: SocketSettings,
    /// What one person can store.
    pub chat_limits: ChatLimits,
    pub connections: ConnectionSettings,
    pub limits: LimitSettings,
    /// Uploads: their size limits and where their bytes are stored.
    pub attachments: AttachmentSettings,
    /// `AUTO_TITLES` and `TITLE_MODEL_*`.
    pub titles: TitleSettings,
}

/// How the server treats connections and requests, so slow or many clients cannot hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// `HEADER_READ_TIMEOUT`: a client must send a request's headers within this.
    pub header_read_timeout: Duration,
    /// `REQUEST_TIMEOUT`: the most a request other than the WebSocket may take, its body
    /// included.
    pub request_timeout: Duration,
    /// `MAX_CONNECTIONS`: connections open at once (open WebSockets included); more wait to be
    /// accepted.
    pub max_connections: usize,
    /// `SHUTDOWN_GRACE`: on shutdown, how long replies still streaming may take to finish
    /// before they are stopped and stored as they are.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            shutdown_grace: Duration::from_secs(20),
        }
    }
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
    #[error(
        "ADMIN_EMAILS is no longer read: an email address is not proof of who registered it. \
         Remove it and make admins on the host with `server admin grant EMAIL`"
    )]
    AdminEmailsRemoved,
}

/// Who may create an account once the instance has its first (admin) account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistrationMode {
    /// Anyone, and the account is active at once.
    Open,
    /// Anyone, but the account waits (`pending`) until an admin approves it. The default.
    Approval,
    /// Only with an invite an admin made.
    Invite,
    /// Nobody (invites still work: an admin made them on purpose).
    Closed,
}

impl RegistrationMode {
    /// The value of `REGISTRATION` that selects it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Approval => "approval",
            Self::Invite => "invite",
            Self::Closed => "closed",
        }
    }

    fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        match vars.text("REGISTRATION").as_deref().map(str::trim) {
            None | Some("approval") => Ok(Self::Approval),
            Some("open") => Ok(Self::Open),
            Some("invite") => Ok(Self::Invite),
            Some("closed") => Ok(Self::Closed),
            Some(other) => Err(ConfigError::Invalid {
                name: "REGISTRATION",
                reason: format!("expected open, approval, invite or closed, got `{other}`"),
            }),
        }
    }
}

/// `PUBLIC_URL`, checked: an http(s) origin such as `https://chat.example.com`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    /// Without a trailing slash.
    pub origin: String,
    /// The `Host` header requests for it carry (host, and port when not the scheme's own).
    pub host: String,
    pub https: bool,
}

impl PublicUrl {
    fn from_vars(vars: &Vars) -> Result<Option<Self>, ConfigError> {
        let Some(raw) = vars.text("PUBLIC_URL") else {
            return Ok(None);
        };
        let invalid = |reason: &str| ConfigError::Invalid {
            name: "PUBLIC_URL",
            reason: format!("{reason} (example: https://chat.example.com)"),
        };
        let url = url::Url::parse(raw.trim()).map_err(|e| invalid(&e.to_string()))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(invalid("the scheme is http or https")),
        };
        let host = url
            .host_str()
            .ok_or_else(|| invalid("it needs a host"))?
            .to_ascii_lowercase();
        if url.path() != "/" || url.query().is_some() {
            return Err(invalid("give the origin only, without a path"));
        }
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        let origin = format!("{}://{host}", url.scheme());
        Ok(Some(Self {
            origin,
            host,
            https,
        }))
    }
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
        if vars.text("ADMIN_EMAILS").is_some() {
            return Err(ConfigError::AdminEmailsRemoved);
        }
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
            registration: RegistrationMode::from_vars(&vars)?,
            public_url: PublicUrl::from_vars(&vars)?,
            providers: ProviderConfig::from_vars(&vars)?,
            stream_flush_interval: vars.duration(
                "STREAM_FLUSH_INTERVAL",
                Duration::from_secs(30),
                Duration::from_millis(10),
            )?,
            sockets: socket_settings(&vars)?,
            chat_limits: chat_limits(&vars)?,
            connections: connection_settings(&vars)?,
            limits: limit_settings(&vars)?,
            attachments: attachment_settings(&vars, &data_dir)?,
            titles: title_settings(&vars)?,
            environment,
            data_dir,
            site_root: PathBuf::from(
                vars.text("LEPTOS_SITE_ROOT")
                    .unwrap_or_else(|| "target/site".into()),
            ),
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
        frames_per_second: vars.whole_number("WS_FRAMES_PER_SECOND", defaults.frames_per_second)?,
        ..defaults
    })
}

fn chat_limits(vars: &Vars) -> Result<ChatLimits, ConfigError> {
    let defaults = ChatLimits::default();
    Ok(ChatLimits {
        max_messages_per_conversation: vars.at_least(
            "MAX_MESSAGES_PER_CONVERSATION",
            defaults.max_messages_per_conversation,
            2,
        )?,
        max_conversations_per_user: vars.at_least(
            "MAX_CONVERSATIONS_PER_USER",
            defaults.max_conversations_per_user,
            1,
        )?,
        max_conversation_bytes: vars
            .byte_count("MAX_CONVERSATION_BYTES", defaults.max_conversation_bytes)?,
        max_user_bytes: vars.byte_count("MAX_STORED_BYTES_PER_USER", defaults.max_user_bytes)?,
        max_import_bytes: vars.byte_count("MAX_IMPORT_BYTES", defaults.max_import_bytes)?,
    })
}

fn attachment_settings(vars: &Vars, data_dir: &Path) -> Result<AttachmentSettings, ConfigError> {
    let defaults = AttachmentSettings::in_data_dir(data_dir);
    let storage = match vars.text("S3_BUCKET") {
        None => defaults.storage,
        Some(bucket) => StorageSettings::S3(S3Settings {
            bucket,
            endpoint: vars.text("S3_ENDPOINT"),
            region: vars.text("S3_REGION").unwrap_or_else(|| "us-east-1".into()),
            access_key_id: vars.secret("S3_ACCESS_KEY_ID"),
            secret_access_key: vars.secret("S3_SECRET_ACCESS_KEY"),
        }),
    };
    Ok(AttachmentSettings {
        max_upload_bytes: vars.byte_count("MAX_UPLOAD_BYTES", defaults.max_upload_bytes)?,
        user_quota_bytes: vars.byte_count("USER_STORAGE_QUOTA_BYTES", defaults.user_quota_bytes)?,
        storage,
        scratch_dir: defaults.scratch_dir,
    })
}

fn connection_settings(vars: &Vars) -> Result<ConnectionSettings, ConfigError> {
    let defaults = ConnectionSettings::default();
    let at_least = Duration::from_millis(1);
    Ok(ConnectionSettings {
        header_read_timeout: vars.duration(
            "HEADER_READ_TIMEOUT",
            defaults.header_read_timeout,
            at_least,
        )?,
        request_timeout: vars.duration("REQUEST_TIMEOUT", defaults.request_timeout, at_least)?,
        max_connections: vars.at_least("MAX_CONNECTIONS", defaults.max_connections as u32, 1)?
            as usize,
        shutdown_grace: vars.duration("SHUTDOWN_GRACE", defaults.shutdown_grace, Duration::ZERO)?,
    })
}

fn title_settings(vars: &Vars) -> Result<TitleSettings, ConfigError> {
    let enabled = match vars.text("AUTO_TITLES").as_deref().map(str::trim) {
        None | Some("on") | Some("true") | Some("1") => true,
        Some("off") | Some("false") | Some("0") => false,
        Some(other) => {
            return Err(ConfigError::Invalid {
                name: "AUTO_TITLES",
                reason: format!("expected on or off, got `{other}`"),
            })
        }
    };
    let mut settings = TitleSettings {
        enabled,
        ..TitleSettings::default()
    };
    // A compatible server has its own model names: its titles come from the conversation's
    // model unless one is named.
    if vars.text("OPENAI_BASE_URL").is_some() {
        settings.models.remove(&ProviderId::OpenAi);
    }
    for (provider, name) in [
        (ProviderId::OpenAi, "TITLE_MODEL_OPENAI"),
        (ProviderId::Anthropic, "TITLE_MODEL_ANTHROPIC"),
        (ProviderId::Google, "TITLE_MODEL_GEMINI"),
    ] {
        if let Some(model) = vars.text(name) {
            settings.models.insert(provider, model.trim().to_owned());
        }
    }
    Ok(settings)
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

    /// A number of bytes, at least one.
    fn byte_count(&self, name: &'static str, default: u64) -> Result<u64, ConfigError> {
        match self.text(name) {
            None => Ok(default),
            Some(n) => match n.trim().parse::<u64>() {
                Ok(bytes) if bytes > 0 => Ok(bytes),
                _ => Err(ConfigError::Invalid {
                    name,
                    reason: format!("expected a number of bytes above 0, got `{n}`"),
                }),
            },
        }
    }

    /// A whole number no smaller than `min`.
    fn at_least(&self, name: &'static str, default: u32, min: u32) -> Result<u32, ConfigError> {
        let n = self.whole_number(name, default)?;
        if n < min {
            return Err(ConfigError::Invalid {
                name,
                reason: format!("must be at least {min}, got {n}"),
            });
        }
        Ok(n)
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
    /// A comma-separated list, each item trimmed and lower-cased; empty items dropped.
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
    fn admin_emails_is_refused_with_the_command_to_use_instead() {
        let err = config(&[("ADMIN_EMAILS", "ann@example.com")]).unwrap_err();
        assert!(err.to_string().contains("server admin grant"), "{err}");
    }

    #[test]
    fn registration_waits_for_approval_unless_told_otherwise() {
        assert_eq!(
            config(&[]).unwrap().registration,
            RegistrationMode::Approval
        );
        for (raw, mode) in [
            ("open", RegistrationMode::Open),
            ("invite", RegistrationMode::Invite),
            ("closed", RegistrationMode::Closed),
        ] {
            assert_eq!(config(&[("REGISTRATION", raw)]).unwrap().registration, mode);
        }
        let err = config(&[("REGISTRATION", "everyone")]).unwrap_err();
        assert!(err.to_string().contains("REGISTRATION"), "{err}");
    }

    #[test]
    fn the_public_url_is_an_origin() {
        let c = config(&[("PUBLIC_URL", "https://Chat.Example.com/")]).unwrap();
        let url = c.public_url.unwrap();
        assert_eq!(url.origin, "https://chat.example.com");
        assert_eq!(url.host, "chat.example.com");
        assert!(url.https);
        let c = config(&[("PUBLIC_URL", "http://10.0.0.5:8080")]).unwrap();
        assert_eq!(c.public_url.unwrap().host, "10.0.0.5:8080");
        for bad in ["chat.example.com", "ftp://x.org", "https://x.org/chat"] {
            let err = config(&[("PUBLIC_URL", bad)]).unwrap_err();
            assert!(err.to_string().contains("PUBLIC_URL"), "{bad}: {err}");
        }
    }

    #[test]
    fn connection_and_storage_limits_have_defaults_and_refuse_nonsense() {
        let c = config(&[]).unwrap();
        assert_eq!(c.connections, ConnectionSettings::default());
        assert_eq!(c.chat_limits, ChatLimits::default());
        assert_eq!(c.chat_limits.max_messages_per_conversation, 10_000);
        let c = config(&[
            ("HEADER_READ_TIMEOUT", "5s"),
            ("REQUEST_TIMEOUT", "2m"),
            ("MAX_CONNECTIONS", "500"),
            ("SHUTDOWN_GRACE", "0s"),
            ("MAX_MESSAGES_PER_CONVERSATION", "100"),
            ("MAX_CONVERSATIONS_PER_USER", "7"),
            ("MAX_CONVERSATION_BYTES", "5000000000"),
            ("MAX_STORED_BYTES_PER_USER", "1000"),
        ])
        .unwrap();
        assert_eq!(c.connections.header_read_timeout, Duration::from_secs(5));
        assert_eq!(c.connections.request_timeout, Duration::from_secs(120));
        assert_eq!(c.connections.max_connections, 500);
        assert_eq!(c.connections.shutdown_grace, Duration::ZERO);
        assert_eq!(c.chat_limits.max_messages_per_conversation, 100);
        assert_eq!(c.chat_limits.max_conversations_per_user, 7);
        assert_eq!(c.chat_limits.max_conversation_bytes, 5_000_000_000);
        assert_eq!(c.chat_limits.max_user_bytes, 1_000);
        for (name, bad) in [
            ("MAX_CONNECTIONS", "0"),
            ("MAX_MESSAGES_PER_CONVERSATION", "1"),
            ("MAX_CONVERSATIONS_PER_USER", "many"),
            ("MAX_CONVERSATION_BYTES", "0"),
            ("MAX_STORED_BYTES_PER_USER", "1GB"),
            ("HEADER_READ_TIMEOUT", "0s"),
            ("REQUEST_TIMEOUT", "soon"),
        ] {
            let err = config(&[(name, bad)]).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn limits_have_defaults_read_whole_numbers_and_trusted_proxy_addresses() {
        let c = config(&[]).unwrap();
        assert_eq!(c.limits.auth_attempts_per_minute, 10);
        assert_eq!(c.limits.sends_per_minute, 0);
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
