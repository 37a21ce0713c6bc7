pub mod account_card;
pub mod chat_settings_form;
pub mod created_token;
pub mod data_card;
pub mod password_form;
pub mod presets_card;
pub mod sessions_list;
pub mod tokens_card;
