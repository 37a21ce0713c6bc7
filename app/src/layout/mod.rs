//! The frame around the signed-in pages: sidebar, top bar, user menu.

pub mod page_shell;
pub mod sidebar;
pub mod sidebar_toggle;
pub mod user_menu;
