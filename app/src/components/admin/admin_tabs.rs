//! The admin page's tabs: plain links to `/admin?tab=…`, the current one marked with
//! `aria-current`, so switching needs no script and every tab has its own address.

use leptos::prelude::*;

use crate::routes::AppRoute;

/// A tab of the admin page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminTab {
    Users,
    Invites,
    Audit,
    Models,
}

impl AdminTab {
    pub const ALL: [AdminTab; 4] = [Self::Users, Self::Invites, Self::Audit, Self::Models];

    /// The value of `?tab=`.
    pub const fn key(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Invites => "invites",
            Self::Audit => "audit",
            Self::Models => "models",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Self::Users => "Users",
            Self::Invites => "Invites",
            Self::Audit => "Audit log",
            Self::Models => "Models",
        }
    }

    pub fn href(self) -> String {
        format!("{}?tab={}", AppRoute::Admin.href(), self.key())
    }

    /// The tab the address asks for. Without `?tab=`, the tab whose form the `?saved=` or
    /// `?error=` code came from (a model form's redirect lands on the models), else users.
    pub fn from_query(tab: Option<&str>, saved: Option<&str>, error: Option<&str>) -> Self {
        if let Some(tab) = tab.and_then(|t| Self::ALL.into_iter().find(|x| x.key() == t)) {
            return tab;
        }
        match (saved, error) {
            (Some("model" | "new_model"), _) | (_, Some("invalid_model" | "model_exists")) => {
                Self::Models
            }
            (Some("invite_created" | "invite_revoked"), _)
            | (_, Some("invalid_invite_days" | "invalid_email")) => Self::Invites,
            _ => Self::Users,
        }
    }
}

#[component]
pub fn AdminTabs(
    current: AdminTab,
    /// Accounts waiting for approval, counted on the users tab.
    waiting: usize,
) -> impl IntoView {
    let links = AdminTab::ALL
        .into_iter()
        .map(|tab| {
            let count = (tab == AdminTab::Users && waiting > 0).then(|| {
                view! {
                    <span class="admin-tab-count" title="Waiting for approval">
                        {waiting}
                        <span class="visually-hidden">" waiting for approval"</span>
                    </span>
                }
            });
            view! {
                <a
                    class="admin-tab"
                    href=tab.href()
                    aria-current=(tab == current).then_some("page")
                >
                    {tab.label()}
                    {count}
                </a>
            }
        })
        .collect_view();
    view! { <nav class="admin-tabs" aria-label="Admin sections">{links}</nav> }
}

#[cfg(test)]
mod tests {
    use super::AdminTab;

    #[test]
    fn the_tab_comes_from_the_address_or_the_form_that_led_here() {
        assert_eq!(
            AdminTab::from_query(Some("audit"), None, None),
            AdminTab::Audit
        );
        assert_eq!(
            AdminTab::from_query(Some("nope"), None, None),
            AdminTab::Users
        );
        assert_eq!(
            AdminTab::from_query(None, Some("model"), None),
            AdminTab::Models
        );
        assert_eq!(
            AdminTab::from_query(None, None, Some("model_exists")),
            AdminTab::Models
        );
        assert_eq!(
            AdminTab::from_query(None, Some("invite_revoked"), None),
            AdminTab::Invites
        );
        assert_eq!(
            AdminTab::from_query(Some("users"), Some("model"), None),
            AdminTab::Users
        );
        assert_eq!(
            AdminTab::from_query(None, Some("budget"), None),
            AdminTab::Users
        );
    }
}
