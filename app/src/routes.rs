//! The pages of the app, described once. [`crate::App`] declares its Leptos routes from these
//! segments, and the server decides from [`AppRoute::parse`] who may see a page and which data
//! to load for it; no other code matches page paths.

use uuid::Uuid;

/// Path segments, each written once.
pub mod segment {
    pub const LOGIN: &str = "login";
    pub const REGISTER: &str = "register";
    pub const CONVERSATION: &str = "c";
    pub const SETTINGS: &str = "settings";
    pub const USAGE: &str = "usage";
    pub const ADMIN: &str = "admin";
    pub const WAITING: &str = "waiting";
}

/// A page, parsed from a request path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppRoute {
    Login,
    Register,
    /// `/`: the chat with no conversation open.
    Home,
    /// `/c/{id}`; `None` when the id is not a UUID (the page then says it was not found).
    Conversation(Option<Uuid>),
    Settings,
    Usage,
    Admin,
    /// `/waiting`: where an account that waits for an admin's approval is sent.
    Waiting,
}

impl AppRoute {
    /// The page a path shows, or `None` for anything that is not a page of ours.
    pub fn parse(path: &str) -> Option<Self> {
        let path = path.strip_prefix('/')?;
        let path = path.strip_suffix('/').unwrap_or(path);
        let mut parts = path.split('/');
        let route = match (parts.next()?, parts.next()) {
            ("", None) => AppRoute::Home,
            (segment::LOGIN, None) => AppRoute::Login,
            (segment::REGISTER, None) => AppRoute::Register,
            (segment::SETTINGS, None) => AppRoute::Settings,
            (segment::USAGE, None) => AppRoute::Usage,
            (segment::ADMIN, None) => AppRoute::Admin,
            (segment::WAITING, None) => AppRoute::Waiting,
            (segment::CONVERSATION, Some(id)) => AppRoute::Conversation(Uuid::parse_str(id).ok()),
            _ => return None,
        };
        parts.next().is_none().then_some(route)
    }

    /// Pages for signed-in people; visitors are sent to the log-in page.
    pub fn needs_login(self) -> bool {
        !self.is_for_visitors()
    }

    /// The log-in and register pages; signed-in people are sent to the chat.
    pub fn is_for_visitors(self) -> bool {
        matches!(self, AppRoute::Login | AppRoute::Register)
    }

    /// The address of the page.
    pub fn href(self) -> String {
        match self {
            AppRoute::Home => "/".into(),
            AppRoute::Login => format!("/{}", segment::LOGIN),
            AppRoute::Register => format!("/{}", segment::REGISTER),
            AppRoute::Settings => format!("/{}", segment::SETTINGS),
            AppRoute::Usage => format!("/{}", segment::USAGE),
            AppRoute::Admin => format!("/{}", segment::ADMIN),
            AppRoute::Waiting => format!("/{}", segment::WAITING),
            AppRoute::Conversation(Some(id)) => format!("/{}/{id}", segment::CONVERSATION),
            AppRoute::Conversation(None) => "/".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_to_their_pages() {
        let id = Uuid::now_v7();
        assert_eq!(AppRoute::parse("/"), Some(AppRoute::Home));
        assert_eq!(AppRoute::parse("/login"), Some(AppRoute::Login));
        assert_eq!(AppRoute::parse("/admin/"), Some(AppRoute::Admin));
        assert_eq!(AppRoute::parse("/waiting"), Some(AppRoute::Waiting));
        assert!(AppRoute::Waiting.needs_login());
        assert_eq!(
            AppRoute::parse(&format!("/c/{id}")),
            Some(AppRoute::Conversation(Some(id)))
        );
        assert_eq!(
            AppRoute::parse("/c/not-a-uuid"),
            Some(AppRoute::Conversation(None))
        );
        assert_eq!(AppRoute::parse("/c"), None);
        assert_eq!(AppRoute::parse("/pkg/rustchat.js"), None);
        assert_eq!(AppRoute::parse("/settings/extra"), None);
        assert!(AppRoute::Usage.needs_login() && !AppRoute::Register.needs_login());
        assert_eq!(
            AppRoute::parse(&AppRoute::Conversation(Some(id)).href()),
            Some(AppRoute::Conversation(Some(id)))
        );
    }
}
