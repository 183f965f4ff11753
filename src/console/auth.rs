//! Who may use the console, and proof that a form was sent by the console itself.
//!
//! With `BOTSERVER_ADMIN_TOKEN` set, the login form turns the token into a session
//! cookie (`HttpOnly`, `SameSite=Strict`): `v1.<issued unix secs>.<HMAC>`, the HMAC
//! (SHA-256) keyed by the admin token. Nothing is stored on the server, so every
//! instance behind a load balancer accepts the cookie another one issued, and changing
//! the admin token ends every session. A session lasts [`SESSION_SECS`].
//!
//! Every state-changing form carries a CSRF token: the HMAC of the session cookie's
//! value (with the admin token), of `dev` (in development mode, keyed by a secret
//! drawn at start), or of the approval's id and decision token (the approver's page).
//! A page of another site can make a browser post a form here, but it cannot read
//! the token this server put into its own page.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::workflow::same_secret;

/// How long a session cookie is good for.
pub const SESSION_SECS: u64 = 12 * 3600;

/// The session cookie's name.
pub const COOKIE: &str = "botserver_session";

/// The key of the console's MACs, and whether an admin token guards the console.
#[derive(Clone)]
pub struct Keys {
    key: Vec<u8>,
    guarded: bool,
}

impl Keys {
    /// Keys from the admin token; without one, a random key for this process.
    pub fn new(admin_token: Option<&str>) -> Keys {
        match admin_token {
            Some(t) => Keys {
                key: t.as_bytes().to_vec(),
                guarded: true,
            },
            None => {
                use rand::RngCore;
                let mut key = vec![0u8; 32];
                rand::thread_rng().fill_bytes(&mut key);
                Keys {
                    key,
                    guarded: false,
                }
            }
        }
    }

    /// True when an admin token guards the console (else it is open, as the API is).
    pub fn guarded(&self) -> bool {
        self.guarded
    }

    fn mac(&self, parts: &[&str]) -> String {
        // HMAC takes a key of any length, so `new_from_slice` cannot fail; an empty
        // string would still be a refusal below, never an acceptance.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                mac.update(b"\x1f");
            }
            mac.update(p.as_bytes());
        }
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A new session cookie value.
    pub fn new_session(&self) -> String {
        self.session_at(now_secs())
    }

    fn session_at(&self, issued: u64) -> String {
        let issued = issued.to_string();
        let mac = self.mac(&["session", &issued]);
        format!("v1.{issued}.{mac}")
    }

    /// True when `value` is a session this key issued less than [`SESSION_SECS`] ago.
    pub fn valid_session(&self, value: &str) -> bool {
        let mut parts = value.splitn(3, '.');
        let (Some("v1"), Some(issued), Some(mac)) = (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let Ok(at) = issued.parse::<u64>() else {
            return false;
        };
        let now = now_secs();
        if at > now + 60 || now.saturating_sub(at) > SESSION_SECS {
            return false;
        }
        let expected = self.mac(&["session", issued]);
        !expected.is_empty() && same_secret(&expected, mac)
    }

    /// The CSRF token of the forms of a page seen with `session` (the cookie's value;
    /// none in development mode).
    pub fn csrf(&self, session: Option<&str>) -> String {
        match session {
            Some(s) if self.guarded => self.mac(&["csrf", s]),
            _ => self.mac(&["csrf", "dev"]),
        }
    }

    /// The CSRF token of the login form (there is no session yet).
    pub fn login_csrf(&self) -> String {
        self.mac(&["csrf", "login"])
    }

    /// The CSRF token of an approver's page: bound to the request and its token.
    pub fn approval_csrf(&self, approval: &str, token: &str) -> String {
        self.mac(&["csrf", "approval", approval, token])
    }

    /// True when the login password is the admin token.
    pub fn is_admin_token(&self, token: &str) -> bool {
        self.guarded && same_secret(std::str::from_utf8(&self.key).unwrap_or(""), token)
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The value of the session cookie in the request, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_string())
}

/// The `Set-Cookie` header of a new session.
pub fn set_cookie(value: &str) -> String {
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECS}")
}

/// The `Set-Cookie` header that ends the session in the browser.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_accepted_by_its_key_only() {
        let k = Keys::new(Some("admin-secret"));
        let s = k.new_session();
        assert!(k.valid_session(&s));
        assert!(!Keys::new(Some("other")).valid_session(&s));
        let mut forged = s.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == '0' { '1' } else { '0' });
        assert!(!k.valid_session(&forged));
        assert!(!k.valid_session("v1.1.abc"));
        assert!(!k.valid_session(""));
    }

    #[test]
    fn an_old_session_has_expired() {
        let k = Keys::new(Some("admin-secret"));
        let old = k.session_at(now_secs() - SESSION_SECS - 10);
        assert!(!k.valid_session(&old));
        let recent = k.session_at(now_secs() - 10);
        assert!(k.valid_session(&recent));
    }

    #[test]
    fn csrf_tokens_differ_by_session_and_purpose() {
        let k = Keys::new(Some("admin-secret"));
        let a = k.csrf(Some("v1.1.a"));
        assert_ne!(a, k.csrf(Some("v1.1.b")));
        assert_ne!(a, k.login_csrf());
        assert_ne!(k.approval_csrf("x", "t"), k.approval_csrf("y", "t"));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            "a=1; botserver_session=v1.2.ff; b=2".parse().unwrap(),
        );
        assert_eq!(session_cookie(&h).as_deref(), Some("v1.2.ff"));
    }
}
