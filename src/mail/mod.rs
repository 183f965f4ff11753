//! Mail over SMTP for `SEND MAIL` (see `basic/keywords/mail.rs`), with `lettre`.
//!
//! Where mail goes is the server's setting, `BOTSERVER_SMTP_URL`
//! (`smtp://[user:pass@]host[:port]`, `smtp://…?tls=required` for STARTTLS, `smtps://…`
//! for TLS from the start) and `BOTSERVER_SMTP_FROM` (the sender), each overridable by a
//! bot's config.csv (`smtp-url`, or `email-server`, `email-port`, `email-user`,
//! `email-pass`; and `email-from`). Each message carries the `Message-ID` it is given, which
//! the durable host derives from the execution and the journal key: a message sent again
//! after a crash has the same id, so a receiving system can tell the repeat.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};

pub use crate::basic::context::MailCall as Mail;

/// Where and as whom to send.
#[derive(Debug, Clone, PartialEq)]
pub struct MailConfig {
    pub url: String,
    pub from: String,
}

/// The settings for `bot`: its config.csv rows (`lookup`) over the server's environment.
pub fn config(lookup: impl Fn(&str) -> Option<String>) -> Result<MailConfig, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let row = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
    let url = match row("smtp-url") {
        Some(u) => Some(u),
        None => match row("email-server") {
            Some(host) => {
                let port = row("email-port").unwrap_or_else(|| "25".to_string());
                let auth = match (row("email-user"), row("email-pass")) {
                    (Some(u), Some(p)) => format!("{}:{}@", encode(&u), encode(&p)),
                    _ => String::new(),
                };
                Some(format!("smtp://{auth}{}:{}", host.trim(), port.trim()))
            }
            None => env("BOTSERVER_SMTP_URL"),
        },
    };
    let Some(url) = url else {
        return Err(
            "SEND MAIL: no mail server is configured (set BOTSERVER_SMTP_URL, \
                    or the bot's smtp-url in config.csv)"
                .to_string(),
        );
    };
    let Some(from) = row("email-from").or_else(|| env("BOTSERVER_SMTP_FROM")) else {
        return Err(
            "SEND MAIL: no sender is configured (set BOTSERVER_SMTP_FROM, or \
                    the bot's email-from in config.csv)"
                .to_string(),
        );
    };
    Ok(MailConfig { url, from })
}

/// Percent-encodes a user name or password for the URL.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The URL with its password hidden, for messages.
fn shown(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// The recipients of `to`: addresses separated by `,` or `;`.
fn recipients(to: &str) -> Result<Vec<Mailbox>, String> {
    let list: Vec<&str> = to
        .split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if list.is_empty() {
        return Err("SEND MAIL: no recipient".to_string());
    }
    list.iter()
        .map(|a| {
            a.parse::<Mailbox>()
                .map_err(|e| format!("SEND MAIL: '{a}' is not a mail address ({e})"))
        })
        .collect()
}

/// Builds the message (what would be sent), with its `Message-ID`.
pub fn message(cfg: &MailConfig, mail: &Mail, message_id: &str) -> Result<Message, String> {
    let from = cfg.from.parse::<Mailbox>().map_err(|e| {
        format!(
            "SEND MAIL: the sender '{}' is not a mail address ({e})",
            cfg.from
        )
    })?;
    let mut b = Message::builder()
        .from(from)
        .subject(mail.subject.clone())
        .message_id(Some(message_id.to_string()))
        .header(ContentType::TEXT_PLAIN);
    for r in recipients(&mail.to)? {
        b = b.to(r);
    }
    b.body(mail.body.clone())
        .map_err(|e| format!("SEND MAIL: cannot build the message: {e}"))
}

/// How long each step of the SMTP dialogue may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Sends `mail` with the given `Message-ID`, waiting at most `timeout` for each step of
/// the SMTP dialogue.
pub fn send(
    cfg: &MailConfig,
    mail: &Mail,
    message_id: &str,
    timeout: Duration,
) -> Result<(), String> {
    let msg = message(cfg, mail, message_id)?;
    let transport = SmtpTransport::from_url(&cfg.url)
        .map_err(|e| format!("SEND MAIL: bad mail server URL {}: {e}", shown(&cfg.url)))?
        .timeout(Some(timeout))
        .build();
    transport.send(&msg).map(|_| ()).map_err(|e| {
        format!(
            "SEND MAIL to {}: {} refused or failed: {e}",
            mail.to,
            shown(&cfg.url)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_the_bot_then_the_environment() {
        let cfg = config(|k| match k {
            "email-server" => Some("mail.example.com".into()),
            "email-port" => Some("587".into()),
            "email-user" => Some("bot@example.com".into()),
            "email-pass" => Some("p@ss word".into()),
            "email-from" => Some("Bot <bot@example.com>".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            cfg.url,
            "smtp://bot%40example.com:p%40ss%20word@mail.example.com:587"
        );
        assert_eq!(shown(&cfg.url), "smtp://…@mail.example.com:587");
        let msg = message(
            &cfg,
            &Mail {
                to: "a@example.com; b@example.com".into(),
                subject: "Hi".into(),
                body: "Body".into(),
            },
            "<x.1@botserver>",
        )
        .unwrap();
        let text = String::from_utf8(msg.formatted()).unwrap();
        assert!(text.contains("Message-ID: <x.1@botserver>"), "{text}");
        assert!(text.contains("To: a@example.com, b@example.com"), "{text}");
        let err = recipients("not an address").unwrap_err();
        assert!(
            err.contains("'not an address' is not a mail address"),
            "{err}"
        );
    }
}
