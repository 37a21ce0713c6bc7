//! Choosing who answers: the provider, then one of its models.

pub mod model_selector;
pub mod provider_selector;
