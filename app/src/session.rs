//! Who is looking at the page. The server's auth layer resolves the session cookie once per
//! request and stores a [`SessionUser`] in the request's extensions; pages read it here.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The signed-in user as pages need them: identity plus the settings that shape the document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: crate::wire::UserRole,
    pub theme: String,
    pub font_size: i32,
}

impl SessionUser {
    /// One or two letters for the avatar in the user menu.
    pub fn initials(&self) -> String {
        let source = if self.name.trim().is_empty() {
            &self.email
        } else {
            &self.name
        };
        source
            .split_whitespace()
            .filter_map(|word| word.chars().next())
            .take(2)
            .flat_map(char::to_uppercase)
            .collect()
    }
}

/// The user of the current request, when rendering on the server; `None` in the browser.
pub fn session_user() -> Option<SessionUser> {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<SessionUser>().cloned())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> SessionUser {
        SessionUser {
            id: Uuid::nil(),
            email: "ada@example.com".into(),
            name: name.into(),
            role: crate::wire::UserRole::User,
            theme: "system".into(),
            font_size: 16,
        }
    }

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(user("ada lovelace").initials(), "AL");
        assert_eq!(user("Grace").initials(), "G");
        assert_eq!(user("  ").initials(), "A");
    }
}
