//! The server binary's operator commands, run on the host against the same database as the
//! server (which may be running): `server admin grant EMAIL`, `server admin revoke EMAIL`,
//! `server admin list`. Being able to run them is the proof of authority: an email address
//! alone never makes anyone an admin.

use crate::{
    auth::{service::AuthService, token::TokenKeys, AuthError},
    config::Config,
    db, startup,
};

pub const USAGE: &str =
    "usage: server admin grant EMAIL | server admin revoke EMAIL | server admin list";

/// Runs `args` (after the program name) if they are an operator command: `None` when they are
/// not one (the server then starts), else what to print, or the error.
pub async fn run(config: &Config, args: &[String]) -> Option<Result<String, String>> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let command = match args.as_slice() {
        [] => return None,
        ["admin", "grant", email] => Command::Grant(email),
        ["admin", "revoke", email] => Command::Revoke(email),
        ["admin", "list"] => Command::List,
        _ => return Some(Err(USAGE.to_owned())),
    };
    Some(execute(config, command).await)
}

enum Command<'a> {
    Grant(&'a str),
    Revoke(&'a str),
    List,
}

async fn execute(config: &Config, command: Command<'_>) -> Result<String, String> {
    let secret = startup::prepare_data_dir(config).map_err(|e| e.to_string())?;
    let db = db::connect_and_migrate(config.database_url.expose())
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let keys = TokenKeys::new(&secret, config.jwt_expires_in);
    let auth = AuthService::new(db, keys, config.registration);
    let explain = |e: AuthError| match e {
        AuthError::NotFound => "no account has that email: register it first".to_owned(),
        other => other.to_string(),
    };
    match command {
        Command::Grant(email) => {
            let user = auth.grant_admin(email).await.map_err(explain)?;
            Ok(format!("{} is an admin", user.email))
        }
        Command::Revoke(email) => {
            let user = auth.revoke_admin(email).await.map_err(explain)?;
            Ok(format!("{} is no longer an admin", user.email))
        }
        Command::List => {
            let admins = auth.admins().await.map_err(explain)?;
            if admins.is_empty() {
                return Ok("no admins yet: the first account registered becomes one".to_owned());
            }
            Ok(admins
                .iter()
                .map(|u| {
                    format!(
                        "{}\t{}\t{}",
                        u.email,
                        u.status,
                        u.created_at.format("%Y-%m-%d")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
    }
}
