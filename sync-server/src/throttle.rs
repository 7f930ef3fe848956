//! Enrolment and desk sign-in attempt limits, and the client's address.
//!
//! Guessing enrolment codes must be slow: every failed attempt costs a cell of a GCRA rate
//! limiter ([`governor`]) keyed by the client's IP address, and one of an overall limiter
//! shared by all clients. Once a limiter has no cell left, the client (or, for the overall
//! one, everyone) is refused with 429 and `Retry-After` until a cell frees up, before the code
//! is even looked at. Honest enrolments do not fail, so a whole office enrolling its phones
//! behind one address is never slowed down. The per-client limit is the tighter one, so one
//! guessing client is stopped long before it could lock honest clients out through the
//! overall limit.
//!
//! The client's address is the TCP peer address ([`ClientIp`]): no forwarding header is
//! trusted, since any client could forge one (see `docs/decisions/0014-photo-scope-and-enrolment-limits.md`).

use crate::error::ServerError;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The client's IP address from the connection, `None` when the server was not served with
/// connection info (then the client is treated as remote and unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// True for a loopback address (127.0.0.0/8, ::1, or IPv4 loopback mapped into IPv6).
    pub fn is_loopback(&self) -> bool {
        match self.0 {
            Some(IpAddr::V4(a)) => a.is_loopback(),
            Some(IpAddr::V6(a)) => {
                a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
            None => false,
        }
    }
}

impl std::fmt::Display for ClientIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => write!(f, "{ip}"),
            None => f.write_str("unknown"),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Keyed limiters forget idle clients once they hold this many.
const MAX_TRACKED_CLIENTS: usize = 100_000;

/// The enrolment failure limits.
pub struct EnrolThrottle {
    per_client: DefaultKeyedRateLimiter<Option<IpAddr>>,
    overall: DefaultDirectRateLimiter,
    per_client_per_minute: u32,
    overall_per_minute: u32,
    /// Until when a client (or, under `None`… every client: the overall limit) is refused.
    blocked: Mutex<Blocked>,
}

#[derive(Default)]
struct Blocked {
    clients: HashMap<Option<IpAddr>, Instant>,
    overall: Option<Instant>,
}

fn quota(per_minute: u32) -> Quota {
    let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(n).allow_burst(n)
}

/// The limit a client crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Client,
    Overall,
}

impl EnrolThrottle {
    /// Limits of `per_client` failed attempts per minute per client address and `overall`
    /// per minute in all (each also the burst allowed at once).
    pub fn new(per_client: u32, overall: u32) -> EnrolThrottle {
        EnrolThrottle {
            per_client: RateLimiter::keyed(quota(per_client)),
            overall: RateLimiter::direct(quota(overall)),
            per_client_per_minute: per_client.max(1),
            overall_per_minute: overall.max(1),
            blocked: Mutex::new(Blocked::default()),
        }
    }

    fn refusal(&self, which: Which, until: Instant, now: Instant) -> ServerError {
        let what = match which {
            Which::Client => format!(
                "too many failed enrolment attempts from this address (limit \
                 enrol_client_per_minute = {})",
                self.per_client_per_minute
            ),
            Which::Overall => format!(
                "too many failed enrolment attempts on this server (limit \
                 enrol_overall_per_minute = {})",
                self.overall_per_minute
            ),
        };
        ServerError::TooManyRequests {
            what,
            retry_after_secs: until.saturating_duration_since(now).as_secs() + 1,
        }
    }

    /// Refuses an attempt from `client` while it (or the server as a whole) is over its
    /// failure limit; call before looking at the code.
    pub fn check(&self, client: ClientIp) -> Result<(), ServerError> {
        let now = Instant::now();
        let mut b = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = b.overall.filter(|u| *u > now) {
            return Err(self.refusal(Which::Overall, until, now));
        }
        if let Some(until) = b.clients.get(&client.0).copied() {
            if until > now {
                return Err(self.refusal(Which::Client, until, now));
            }
            b.clients.remove(&client.0);
        }
        Ok(())
    }

    /// Counts a failed attempt from `client`. When it crosses a limit, the client (or every
    /// client, for the overall limit) is refused until a cell frees up, and the refusal is
    /// returned for this attempt too.
    pub fn failed(&self, client: ClientIp) -> Result<(), ServerError> {
        if self.per_client.len() > MAX_TRACKED_CLIENTS {
            self.per_client.retain_recent();
        }
        let clock = DefaultClock::default();
        let crossed = if let Err(nu) = self.per_client.check_key(&client.0) {
            Some((Which::Client, nu.wait_time_from(clock.now())))
        } else if let Err(nu) = self.overall.check() {
            Some((Which::Overall, nu.wait_time_from(clock.now())))
        } else {
            None
        };
        let Some((which, wait)) = crossed else {
            return Ok(());
        };
        let now = Instant::now();
        let until = now + wait;
        let mut b = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        match which {
            Which::Client => {
                if b.clients.len() > MAX_TRACKED_CLIENTS {
                    b.clients.retain(|_, u| *u > now);
                }
                b.clients.insert(client.0, until);
            }
            Which::Overall => b.overall = Some(until),
        }
        Err(self.refusal(which, until, now))
    }
}

/// Desk sign-in attempts per client address: every attempt counts, right or wrong (one
/// office's browsers share an address, so the limit is per minute and generous; the
/// per-person lockout of `desk::password` is what stops guessing one person's password).
pub struct SignInThrottle {
    per_client: DefaultKeyedRateLimiter<Option<IpAddr>>,
}

impl SignInThrottle {
    /// A limit of `per_minute` attempts per minute per client address (also the burst).
    pub fn new(per_minute: u32) -> SignInThrottle {
        SignInThrottle {
            per_client: RateLimiter::keyed(quota(per_minute)),
        }
    }

    /// Counts an attempt from `client`; over the limit, the seconds to wait instead.
    pub fn attempt(&self, client: ClientIp) -> Result<(), u64> {
        if self.per_client.len() > MAX_TRACKED_CLIENTS {
            self.per_client.retain_recent();
        }
        let clock = DefaultClock::default();
        self.per_client
            .check_key(&client.0)
            .map_err(|nu| nu.wait_time_from(clock.now()).as_secs() + 1)
    }
}

/// Password hashes computed at once, at most (each takes 19 MiB and a core for a while); more
/// sign-ins wait for a slot, so a flood cannot take every blocking thread.
pub const HASHING_SLOTS: usize = 2;

/// What bounds sign-in work on one server: attempts per client address, and password hashes
/// computed at once.
pub struct SignInGuard {
    throttle: SignInThrottle,
    hashing: Arc<Semaphore>,
}

impl SignInGuard {
    /// The guard for `per_minute` attempts a client address (`desk.sign_in_per_minute`).
    pub fn new(per_minute: u32) -> SignInGuard {
        SignInGuard {
            throttle: SignInThrottle::new(per_minute),
            hashing: Arc::new(Semaphore::new(HASHING_SLOTS)),
        }
    }

    /// Counts an attempt from `client`; over the limit, the refusal (429) naming the wait.
    pub fn attempt(&self, client: ClientIp) -> Result<(), ServerError> {
        self.throttle
            .attempt(client)
            .map_err(|secs| ServerError::TooManyRequests {
                what: "登录尝试过于频繁（desk.sign_in_per_minute）".into(),
                retry_after_secs: secs,
            })
    }

    /// Waits for a hashing slot; hold it while hashing.
    pub async fn hashing_slot(&self) -> Result<OwnedSemaphorePermit, ServerError> {
        self.hashing
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ServerError::Internal(format!("hashing slots: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_is_bounded_to_its_slots() {
        let guard = SignInGuard::new(10);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let held: Vec<_> = (0..HASHING_SLOTS)
            .map(|_| rt.block_on(guard.hashing_slot()).unwrap())
            .collect();
        assert!(
            guard.hashing.clone().try_acquire_owned().is_err(),
            "a further sign-in waits for a slot"
        );
        drop(held);
        assert!(guard.hashing.clone().try_acquire_owned().is_ok());
    }

    fn ip(s: &str) -> ClientIp {
        ClientIp(Some(s.parse().unwrap()))
    }

    #[test]
    fn failures_are_limited_per_client_before_overall_and_successes_are_free() {
        let t = EnrolThrottle::new(3, 5);
        let a = ip("10.0.0.1");
        for _ in 0..3 {
            t.check(a).unwrap();
            t.failed(a).unwrap();
        }
        match t.failed(a) {
            Err(ServerError::TooManyRequests {
                what,
                retry_after_secs,
            }) => {
                assert!(what.contains("enrol_client_per_minute = 3"), "{what}");
                assert!((1..=61).contains(&retry_after_secs));
            }
            other => panic!("{other:?}"),
        }
        assert!(t.check(a).is_err());
        // Checks without failures (honest enrolments) cost nothing.
        for _ in 0..100 {
            t.check(ip("10.0.0.9")).unwrap();
        }
        t.failed(ip("10.0.0.2")).unwrap();
        t.failed(ip("10.0.0.3")).unwrap();
        match t.failed(ip("10.0.0.4")) {
            Err(ServerError::TooManyRequests { what, .. }) => {
                assert!(what.contains("enrol_overall_per_minute = 5"), "{what}")
            }
            other => panic!("{other:?}"),
        }
        assert!(t.check(ip("10.0.0.9")).is_err());
    }

    #[test]
    fn sign_in_attempts_are_limited_per_client_address() {
        let t = SignInThrottle::new(3);
        let a = ip("10.0.0.1");
        for _ in 0..3 {
            t.attempt(a).unwrap();
        }
        let wait = t.attempt(a).unwrap_err();
        assert!((1..=61).contains(&wait), "{wait}");
        // Another address is not slowed down.
        t.attempt(ip("10.0.0.2")).unwrap();
    }

    #[test]
    fn loopback_is_recognised_in_every_form() {
        assert!(ip("127.0.0.1").is_loopback());
        assert!(ip("127.0.0.2").is_loopback());
        assert!(ip("::1").is_loopback());
        assert!(ip("::ffff:127.0.0.1").is_loopback());
        assert!(!ip("192.168.1.5").is_loopback());
        assert!(!ClientIp(None).is_loopback());
    }
}
