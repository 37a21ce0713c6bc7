//! The chat domain's values, typed once for the server, the database and the browser: each
//! enum is stored and sent as the same lower-case string it always was (the database keeps
//! `TEXT`), so the API's JSON and the rows do not change. On the server they are also
//! sea-orm `ActiveEnum`s, so an entity's column holds the enum itself.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares a string-valued enum: serde names, sea-orm string values, the OpenAPI schema,
/// `as_str`, `ALL` and `FromStr` from one list, so a variant's string is written exactly once.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
        #[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $value)]
                #[cfg_attr(feature = "ssr", sea_orm(string_value = $value))]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The string stored in the database and sent in JSON.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value),+
                }
            }
        }

        /// In the API's OpenAPI document: a string, one of the values.
        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($value),+]))
                    .into()
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {}

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;

            fn from_str(raw: &str) -> Result<Self, UnknownValue> {
                match raw {
                    $($value => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        what: stringify!($name),
                        value: raw.chars().take(64).collect(),
                    }),
                }
            }
        }
    };
}

/// A string that names no value of the enum it was parsed as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a known {}", self.value, self.what)
    }
}

impl std::error::Error for UnknownValue {}

string_enum! {
    /// Where a message is in its life. Only an assistant reply is ever `Streaming`; it leaves
    /// that state exactly once, for one of the other four.
    pub enum MessageStatus {
        Streaming = "streaming",
        Complete = "complete",
        Stopped = "stopped",
        Error = "error",
        Interrupted = "interrupted",
    }
}

impl MessageStatus {
    pub fn is_streaming(self) -> bool {
        self == MessageStatus::Streaming
    }

    /// A reply that can be sent back to a provider as context: it finished, or the person
    /// stopped it and kept what it said.
    pub fn is_usable_context(self) -> bool {
        matches!(self, MessageStatus::Complete | MessageStatus::Stopped)
    }
}

string_enum! {
    /// Who wrote a message.
    pub enum Role {
        User = "user",
        Assistant = "assistant",
    }
}

string_enum! {
    /// What an account may do.
    pub enum UserRole {
        User = "user",
        Admin = "admin",
    }
}

impl UserRole {
    pub fn is_admin(self) -> bool {
        self == UserRole::Admin
    }
}

string_enum! {
    /// Whether an account may use the app: `Pending` accounts wait for an admin's approval
    /// (they can log in and see that they wait), `Disabled` ones cannot log in at all.
    pub enum UserStatus {
        Active = "active",
        Pending = "pending",
        Disabled = "disabled",
    }
}

string_enum! {
    /// The AI providers the server can talk to. OpenAI-compatible servers (Ollama, vLLM, …)
    /// are reached as `openai` with `OPENAI_BASE_URL`.
    pub enum ProviderId {
        OpenAi = "openai",
        Anthropic = "anthropic",
        Google = "google",
        Demo = "demo",
    }
}

impl ProviderId {
    /// The provider's name on a label or in a menu.
    pub const fn display_name(self) -> &'static str {
        match self {
            ProviderId::OpenAi => "OpenAI",
            ProviderId::Anthropic => "Anthropic",
            ProviderId::Google => "Google Gemini",
            ProviderId::Demo => "Offline demo",
        }
    }

    /// How a sentence names it: "Could not connect to {}.".
    pub const fn in_sentence(self) -> &'static str {
        match self {
            ProviderId::OpenAi => "OpenAI",
            ProviderId::Anthropic => "Anthropic",
            ProviderId::Google => "Gemini",
            ProviderId::Demo => "the offline demo",
        }
    }
}

/// An amount of money in integer micro-dollars (1 $ = 1,000,000), the one unit every price,
/// cost and budget is kept in. Sent in JSON as the bare integer. Every way money is shown or
/// typed goes through here, with integer arithmetic only: no `f64` ever rounds a cent.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Micros(pub i64);

/// Typed dollars that are not an exact amount of micro-dollars.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidDollars;

impl fmt::Display for InvalidDollars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Amounts are dollars with at most six decimals, like 5 or 2.50.")
    }
}

impl std::error::Error for InvalidDollars {}

impl Micros {
    pub const fn get(self) -> i64 {
        self.0
    }

    fn split(self) -> (&'static str, u64, u64) {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        (sign, abs / 1_000_000, abs % 1_000_000)
    }

    /// Dollars exactly, without trailing zeros, as typed into a form: `2500000` → `2.5`,
    /// `1` → `0.000001`, `10000000` → `10`.
    pub fn dollars_exact(self) -> String {
        let (sign, whole, fraction) = self.split();
        let fraction = format!("{fraction:06}");
        let fraction = fraction.trim_end_matches('0');
        if fraction.is_empty() {
            format!("{sign}{whole}")
        } else {
            format!("{sign}{whole}.{fraction}")
        }
    }

    /// Dollars with all six decimals, for fixed-width columns (CSV): `1500` → `0.001500`.
    pub fn dollars_fixed(self) -> String {
        let (sign, whole, fraction) = self.split();
        format!("{sign}{whole}.{fraction:06}")
    }

    /// `$` and the exact amount: `2` → `$0.000002`, `0` → `$0`.
    pub fn cost_exact(self) -> String {
        format!("${}", self.dollars_exact())
    }

    /// Rounded (half up) to `decimals` places: `$0.0088`.
    fn rounded(self, decimals: u32) -> String {
        let step = 10u64.pow(6 - decimals);
        let (sign, _, _) = self.split();
        let abs = self.0.unsigned_abs();
        let units = (abs + step / 2) / step;
        let scale = 10u64.pow(decimals);
        let (whole, fraction) = (units / scale, units % scale);
        format!(
            "{sign}${whole}.{fraction:0width$}",
            width = decimals as usize
        )
    }

    /// A cost as the chat shows it: four decimals under a dollar (API costs are small), two
    /// from a dollar up; zero is `$0.00`.
    pub fn cost(self) -> String {
        if self.0 == 0 {
            "$0.00".into()
        } else if self.0.unsigned_abs() < 1_000_000 {
            self.rounded(4)
        } else {
            self.rounded(2)
        }
    }

    /// A price per million tokens: `free`, `$0.075`, `$2.50`.
    pub fn price(self) -> String {
        if self.0 == 0 {
            "free".into()
        } else if self.0.unsigned_abs() < 100_000 {
            self.rounded(3)
        } else {
            self.rounded(2)
        }
    }

    /// Dollars as typed into a form (`5`, `0.25`, `$1,000`), exactly: never negative, at most
    /// seven digits before the point and six after.
    pub fn parse_dollars(raw: &str) -> Result<Micros, InvalidDollars> {
        let cleaned: String = raw
            .trim()
            .trim_start_matches('$')
            .chars()
            .filter(|c| *c != ',' && *c != '_')
            .collect();
        let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty())
            || !digits(whole)
            || !digits(fraction)
            || fraction.len() > 6
            || whole.len() > 7
        {
            return Err(InvalidDollars);
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| InvalidDollars)?
        };
        let fraction: i64 = format!("{fraction:0<6}")
            .parse()
            .map_err(|_| InvalidDollars)?;
        Ok(Micros(whole * 1_000_000 + fraction))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_are_their_stored_strings_in_json() {
        assert_eq!(
            serde_json::to_string(&MessageStatus::Streaming).unwrap(),
            r#""streaming""#
        );
        assert_eq!(
            serde_json::from_str::<ProviderId>(r#""google""#).unwrap(),
            ProviderId::Google
        );
        for status in MessageStatus::ALL {
            assert_eq!(status.as_str().parse::<MessageStatus>(), Ok(*status));
        }
        assert!("gpt".parse::<ProviderId>().is_err());
    }

    #[test]
    fn money_formats_exactly() {
        assert_eq!(Micros(2).cost_exact(), "$0.000002");
        assert_eq!(Micros(1_500).cost_exact(), "$0.0015");
        assert_eq!(Micros(0).cost_exact(), "$0");
        assert_eq!(Micros(2_000_000).cost_exact(), "$2");
        assert_eq!(Micros(2_500_000).dollars_exact(), "2.5");
        assert_eq!(Micros(150_000).dollars_exact(), "0.15");
        assert_eq!(Micros(-5).dollars_exact(), "-0.000005");
        assert_eq!(Micros(1_500).dollars_fixed(), "0.001500");
        assert_eq!(Micros(-1_234_567).dollars_fixed(), "-1.234567");
        assert_eq!(Micros(0).cost(), "$0.00");
        assert_eq!(Micros(8_750).cost(), "$0.0088");
        assert_eq!(Micros(8_749).cost(), "$0.0087");
        assert_eq!(Micros(12_340_000).cost(), "$12.34");
        assert_eq!(Micros(999_999).cost(), "$1.0000");
        assert_eq!(Micros(2_500_000).price(), "$2.50");
        assert_eq!(Micros(75_000).price(), "$0.075");
        assert_eq!(Micros(0).price(), "free");
    }

    #[test]
    fn dollars_parse_exactly_or_not_at_all() {
        assert_eq!(Micros::parse_dollars("5"), Ok(Micros(5_000_000)));
        assert_eq!(Micros::parse_dollars(" $0.25 "), Ok(Micros(250_000)));
        assert_eq!(Micros::parse_dollars("1,000"), Ok(Micros(1_000_000_000)));
        assert_eq!(Micros::parse_dollars(".5"), Ok(Micros(500_000)));
        assert_eq!(Micros::parse_dollars("0.000001"), Ok(Micros(1)));
        for bad in ["", "-1", "0.0000001", "abc", "1e3", "99999999", "."] {
            assert_eq!(Micros::parse_dollars(bad), Err(InvalidDollars), "{bad}");
        }
    }
}
