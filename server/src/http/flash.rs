//! A secret shown once after a no-JS form: the form's handler cannot show the new API token or
//! invite link itself (it answers with a redirect), so it leaves it in a short-lived HttpOnly
//! cookie that the next page render reads and clears. Only the digest is in the database; this
//! cookie is the one place the text exists until the page shows it.

use axum::http::{header, HeaderMap, HeaderValue};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use uuid::Uuid;

const FLASH_COOKIE: &str = "rustchat_flash";
/// Long enough for the redirect, short enough not to linger if the page is never opened.
const FLASH_SECONDS: i64 = 120;

/// What a form just made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flash {
    ApiToken { id: Uuid, token: String },
    Invite { id: Uuid, code: String },
}

impl Flash {
    fn encode(&self) -> String {
        match self {
            Flash::ApiToken { id, token } => format!("token.{id}.{token}"),
            Flash::Invite { id, code } => format!("invite.{id}.{code}"),
        }
    }

    fn decode(raw: &str) -> Option<Self> {
        let mut parts = raw.splitn(3, '.');
        let (kind, id, secret) = (parts.next()?, parts.next()?, parts.next()?);
        let id = Uuid::parse_str(id).ok()?;
        let secret_ok = !secret.is_empty()
            && secret.len() <= 100
            && secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !secret_ok {
            return None;
        }
        match kind {
            "token" => Some(Flash::ApiToken {
                id,
                token: secret.to_owned(),
            }),
            "invite" => Some(Flash::Invite {
                id,
                code: secret.to_owned(),
            }),
            _ => None,
        }
    }
}

fn cookie(value: String, max_age: i64, secure: bool) -> Cookie<'static> {
    Cookie::build((FLASH_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/")
        .max_age(time::Duration::seconds(max_age))
        .build()
}

/// Leaves `flash` for the next page.
pub fn set(jar: CookieJar, flash: &Flash, secure: bool) -> CookieJar {
    jar.add(cookie(flash.encode(), FLASH_SECONDS, secure))
}

/// The flash the request carries, if any.
pub fn read(headers: &HeaderMap) -> Option<Flash> {
    CookieJar::from_headers(headers)
        .get(FLASH_COOKIE)
        .and_then(|c| Flash::decode(c.value()))
}

/// The `Set-Cookie` header that clears the flash once a page has shown it.
pub fn clearing_header(secure: bool) -> HeaderValue {
    let cleared = cookie(String::new(), 0, secure).to_string();
    HeaderValue::from_str(&cleared).expect("a cookie of fixed ASCII text is a valid header")
}

/// Whether the request carries a flash cookie at all (then the response clears it).
pub fn present(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(FLASH_COOKIE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_survives_its_cookie_and_junk_does_not() {
        let id = Uuid::now_v7();
        for flash in [
            Flash::ApiToken {
                id,
                token: "rc_0123abcd".into(),
            },
            Flash::Invite {
                id,
                code: "fe12".into(),
            },
        ] {
            assert_eq!(Flash::decode(&flash.encode()), Some(flash));
        }
        for junk in [
            "",
            "token",
            "token.nope.rc_1",
            &format!("other.{id}.x"),
            &format!("token.{id}.<b>"),
        ] {
            assert_eq!(Flash::decode(junk), None, "{junk}");
        }
    }
}
