pub mod chat_settings_form;
