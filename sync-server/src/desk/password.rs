//! Desk passwords and the sign-in judgement: argon2id hashing (PHC strings), who may sign in
//! at a desk, the per-person lockout with backoff, and the guard that bounds sign-in work
//! (decision 0039).
//!
//! A sign-in names a person by roster id or phone number. Whether or not that names anyone
//! who may sign in, the password is verified against a hash (a dummy one for nobody), the
//! answer is the same refusal, and failures are counted under a *subject*: the person's id,
//! or the name as typed when it names nobody. So neither the answer, nor its time, nor the
//! lockout tells an outsider whether a person exists.

use crate::error::ServerError;
use crate::storage::{DeskAuthTx, Storage, with_tx};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;
use xiangying_model::ids::PersonId;
use xiangying_model::org::{Person, Role, Roster};

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The longest password accepted, in bytes (hashing cost does not depend on it, but a
/// request's size should be bounded everywhere).
pub const MAX_PASSWORD_BYTES: usize = 256;

/// The longest sign-in name (roster id or phone number) looked at, in characters.
pub const MAX_LOGIN_CHARS: usize = 64;

/// Failures in a row allowed before the first lock.
pub const FREE_FAILURES: u32 = 5;

/// The first lock, ms (then doubling with each further failure).
pub const FIRST_LOCK_MS: i64 = 60_000;

/// The longest lock, ms.
pub const MAX_LOCK_MS: i64 = 3_600_000;

/// Whether a role works at a desk (and so may have a desk password and sign in).
pub fn works_at_desk(role: Role) -> bool {
    matches!(
        role,
        Role::StreetCenter | Role::StreetOfficial | Role::DepartmentStaff | Role::CommunityChief
    )
}

/// The hasher: argon2id v19 with the crate's defaults, which are OWASP's recommendation
/// (19 MiB, 2 passes, 1 lane).
fn hasher() -> Argon2<'static> {
    Argon2::default()
}

/// Hashes a password into a PHC string with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, ServerError> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ServerError::Internal(format!("hashing a password: {e}")))
}

/// A hash of a random password, made once: verified against when the name names nobody, so
/// that takes the same work as a real check.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&crate::auth::new_token()).unwrap_or_default())
}

/// Verifies a password against a stored PHC string; with none (or an unreadable one), does
/// the same work against a dummy hash and answers false.
pub fn verify_password(password: &str, phc: Option<&str>) -> bool {
    let stored = phc.and_then(|s| PasswordHash::new(s).ok());
    let real = stored.is_some();
    let hash = match stored {
        Some(h) => h,
        None => match PasswordHash::new(dummy_hash()) {
            Ok(h) => h,
            Err(_) => return false,
        },
    };
    let ok = hasher().verify_password(password.as_bytes(), &hash).is_ok();
    ok && real
}

/// Checks a new password against the rules, naming the one it breaks.
pub fn check_new_password(password: &str) -> Result<(), ServerError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ServerError::BadRequest(format!(
            "a desk password needs at least {MIN_PASSWORD_CHARS} characters \
             (密码至少 {MIN_PASSWORD_CHARS} 个字符)"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ServerError::BadRequest(format!(
            "a desk password may have at most {MAX_PASSWORD_BYTES} bytes \
             (密码最长 {MAX_PASSWORD_BYTES} 字节)"
        )));
    }
    if password.chars().any(char::is_control) {
        return Err(ServerError::BadRequest(
            "a desk password may not hold control characters (密码不能含控制字符)".into(),
        ));
    }
    Ok(())
}

/// Sets a person's desk password (argon2id), refusing a person not in the published roster,
/// one whose role does not work at a desk, and a password against the rules. Every session
/// of the person ends and their failure count is forgotten.
pub fn set_password(
    storage: &dyn Storage,
    person: &str,
    password: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    desk_person(&crate::reports::roster(storage)?, person)?;
    check_new_password(password)?;
    let phc = hash_password(password)?;
    let id = PersonId::from(person);
    with_tx(storage, |tx| {
        tx.set_desk_password(&id, &phc, now_ms)?;
        tx.delete_desk_sessions_of(&id)?;
        tx.clear_desk_lockout(person)
    })
}

/// The roster's person `id` if their role works at a desk; a refusal naming why otherwise.
pub fn desk_person<'r>(roster: &'r Roster, id: &str) -> Result<&'r Person, ServerError> {
    let p = roster
        .person(id)
        .ok_or_else(|| ServerError::BadRequest(format!("{id:?} is not in the published roster")))?;
    if !works_at_desk(p.role) {
        return Err(ServerError::BadRequest(format!(
            "{id:?} is {} ({}), a role that does not work at a desk: only street centre \
             staff, street officials, department staff and community chiefs sign in there",
            p.role.as_str(),
            p.role.label_zh()
        )));
    }
    Ok(p)
}

/// The person a sign-in name names: a roster id, else a phone number (digits compared, any
/// spaces or dashes ignored) held by exactly one person. Only people who work at a desk.
pub fn resolve_login<'r>(roster: &'r Roster, login: &str) -> Option<&'r Person> {
    let login = login.trim();
    if login.is_empty() || login.chars().count() > MAX_LOGIN_CHARS {
        return None;
    }
    let found = roster.person(login).or_else(|| {
        let digits = phone_digits(login)?;
        let mut holders = roster
            .people
            .iter()
            .filter(|p| phone_digits(&p.phone).as_deref() == Some(digits.as_str()));
        let one = holders.next()?;
        holders.next().is_none().then_some(one)
    })?;
    works_at_desk(found.role).then_some(found)
}

/// The digits of something that looks like a phone number (digits, spaces, dashes, a leading
/// `+`; at least 5 digits), else `None`.
fn phone_digits(s: &str) -> Option<String> {
    let s = s.trim();
    if !s
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+'))
    {
        return None;
    }
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 5).then_some(digits)
}

/// Under what failures are counted: the person's id, or (naming nobody) the name as typed,
/// trimmed, lower-cased and cut to [`MAX_LOGIN_CHARS`], behind a `?` no roster id starts
/// with in practice.
pub fn subject_of(person: Option<&Person>, login: &str) -> String {
    match person {
        Some(p) => p.id.clone(),
        None => {
            let typed: String = login
                .trim()
                .chars()
                .take(MAX_LOGIN_CHARS)
                .flat_map(char::to_lowercase)
                .collect();
            format!("?{typed}")
        }
    }
}

/// How long the `failures`-th failure in a row locks its subject, ms: nothing for the first
/// [`FREE_FAILURES`] − 1, then [`FIRST_LOCK_MS`] doubling per further failure, at most
/// [`MAX_LOCK_MS`].
pub fn lock_for_ms(failures: u32) -> Option<i64> {
    let beyond = failures.checked_sub(FREE_FAILURES)?;
    let factor = 1i64 << beyond.min(20);
    Some(FIRST_LOCK_MS.saturating_mul(factor).min(MAX_LOCK_MS))
}

/// What a sign-in attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// The right password of a person who works at a desk.
    Person(PersonId),
    /// Refused; `wait_ms` is set while the subject is locked (a right password too).
    Refused {
        /// How long until the lock ends, ms.
        wait_ms: Option<i64>,
    },
}

/// Judges a sign-in attempt (blocking: it hashes). The same work and the same answer for a
/// name that names nobody; a locked subject is refused whatever the password (the failure is
/// then not counted again); a success forgets the subject's failures.
pub fn sign_in(
    storage: &dyn Storage,
    roster: &Roster,
    login: &str,
    password: &str,
    now: i64,
) -> Result<SignIn, ServerError> {
    let person = resolve_login(roster, login);
    let subject = subject_of(person, login);
    let id = person.map(|p| PersonId::from(p.id.as_str()));
    // The same look-up for a name naming nobody (the empty id has no password), so the
    // store's work does not tell them apart either.
    let nobody = PersonId::from("");
    let phc = with_tx(storage, |tx| {
        tx.desk_password(id.as_ref().unwrap_or(&nobody))
    })?;
    let bounded = password.len() <= MAX_PASSWORD_BYTES;
    let matched = verify_password(if bounded { password } else { "" }, phc.as_deref()) && bounded;
    with_tx(storage, |tx| judge(tx, &subject, id.as_ref(), matched, now))
}

/// The bookkeeping half of [`sign_in`], once the password was checked.
fn judge(
    tx: &mut dyn DeskAuthTx,
    subject: &str,
    person: Option<&PersonId>,
    matched: bool,
    now: i64,
) -> Result<SignIn, ServerError> {
    let lock = tx.desk_lockout(subject)?;
    if lock.locked_until > now {
        return Ok(SignIn::Refused {
            wait_ms: Some(lock.locked_until - now),
        });
    }
    if let (true, Some(p)) = (matched, person) {
        tx.clear_desk_lockout(subject)?;
        return Ok(SignIn::Person(p.clone()));
    }
    let failures = tx.add_desk_failure(subject)?;
    let wait_ms = lock_for_ms(failures);
    if let Some(ms) = wait_ms {
        tx.lock_desk_subject(subject, now.saturating_add(ms))?;
    }
    Ok(SignIn::Refused { wait_ms })
}

/// The refusal shown for a [`SignIn::Refused`], in Chinese: the same words whether the name
/// or the password was wrong, plus the wait while locked.
pub fn refusal_message(wait_ms: Option<i64>) -> String {
    let base = "登录名或密码不正确";
    match wait_ms {
        None => format!("{base}。"),
        Some(ms) => {
            let minutes = (ms + 59_999) / 60_000;
            format!("{base}。连续失败次数过多，已暂时锁定，请 {minutes} 分钟后再试。")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteStorage;
    use xiangying_model::org::sample;

    fn street() -> (tempfile::TempDir, SqliteStorage, Roster) {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        crate::admin::publish(
            &storage,
            &sample::roster_json().unwrap(),
            &sample::catalogue_json().unwrap(),
        )
        .unwrap();
        (dir, storage, sample::roster().unwrap())
    }

    #[test]
    fn a_hash_verifies_its_password_only_and_is_argon2id() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse", Some(&phc)));
        assert!(!verify_password("correct hors", Some(&phc)));
        assert!(!verify_password("correct horse", None));
        assert!(!verify_password("correct horse", Some("not a hash")));
    }

    #[test]
    fn only_desk_roles_get_passwords_and_short_ones_are_refused_naming_the_rule() {
        let (_d, s, _) = street();
        set_password(&s, "center", "long enough", 1).unwrap();
        let e = set_password(&s, "gw1", "long enough", 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not work at a desk"), "{e}");
        let e = set_password(&s, "nobody", "long enough", 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not in the published roster"), "{e}");
        let e = set_password(&s, "cc1", "1234567", 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 8 characters"), "{e}");
        // Eight characters (not bytes) is enough.
        set_password(&s, "cc1", "八个字的中文密码", 1).unwrap();
        let stored = with_tx(&s, |tx| tx.desk_password(&"gw1".into())).unwrap();
        assert_eq!(stored, None, "a refused person has no password stored");
    }

    #[test]
    fn sign_in_by_id_or_unique_phone_only_for_desk_roles() {
        let mut roster = sample::roster().unwrap();
        assert_eq!(resolve_login(&roster, " center ").unwrap().id, "center");
        assert!(resolve_login(&roster, "gw1").is_none(), "not a desk role");
        // Every sample person shares one phone: ambiguous, so nobody.
        assert!(resolve_login(&roster, "138-0000-0000").is_none());
        for (i, p) in roster.people.iter_mut().enumerate() {
            p.phone = format!("139-0000-{i:04}");
        }
        let i = roster
            .people
            .iter()
            .position(|p| p.id == "official")
            .unwrap();
        let typed = format!("1390000{i:04}");
        assert_eq!(resolve_login(&roster, &typed).unwrap().id, "official");
        assert!(
            resolve_login(&roster, "139-0000-0003").is_none(),
            "gw1: not a desk role"
        );
        assert!(resolve_login(&roster, &"x".repeat(65)).is_none());
    }

    #[test]
    fn backoff_starts_at_the_fifth_failure_and_doubles_to_an_hour() {
        assert_eq!(lock_for_ms(4), None);
        assert_eq!(lock_for_ms(5), Some(60_000));
        assert_eq!(lock_for_ms(6), Some(120_000));
        assert_eq!(lock_for_ms(7), Some(240_000));
        assert_eq!(lock_for_ms(10), Some(1_920_000));
        assert_eq!(lock_for_ms(11), Some(3_600_000));
        assert_eq!(lock_for_ms(500), Some(3_600_000));
    }

    #[test]
    fn lockout_refuses_even_the_right_password_and_success_resets() {
        let (_d, s, roster) = street();
        set_password(&s, "center", "the right one", 0).unwrap();
        let t0 = 1_000_000;
        for i in 0..4 {
            assert_eq!(
                sign_in(&s, &roster, "center", "wrong", t0 + i).unwrap(),
                SignIn::Refused { wait_ms: None }
            );
        }
        assert_eq!(
            sign_in(&s, &roster, "center", "wrong", t0 + 4).unwrap(),
            SignIn::Refused {
                wait_ms: Some(60_000)
            }
        );
        // Locked: the right password is refused too, with the wait, and not counted again.
        assert_eq!(
            sign_in(&s, &roster, "center", "the right one", t0 + 5).unwrap(),
            SignIn::Refused {
                wait_ms: Some(59_999)
            }
        );
        // After the lock, one more failure locks for twice as long.
        let t1 = t0 + 4 + 60_000;
        assert_eq!(
            sign_in(&s, &roster, "center", "wrong", t1).unwrap(),
            SignIn::Refused {
                wait_ms: Some(120_000)
            }
        );
        let t2 = t1 + 120_000;
        assert_eq!(
            sign_in(&s, &roster, "center", "the right one", t2).unwrap(),
            SignIn::Person("center".into())
        );
        // The count starts again from nothing.
        assert_eq!(
            sign_in(&s, &roster, "center", "wrong", t2 + 1).unwrap(),
            SignIn::Refused { wait_ms: None }
        );
        let lock = with_tx(&s, |tx| tx.desk_lockout("center")).unwrap();
        assert_eq!(lock.failures, 1);
    }

    #[test]
    fn a_name_naming_nobody_is_locked_out_the_same_way() {
        let (_d, s, roster) = street();
        for (i, login) in ["nobody", "gw1", "NOBODY"].iter().enumerate() {
            let i = i as i64;
            let r = sign_in(&s, &roster, login, "whatever1", 10 + i).unwrap();
            assert_eq!(r, SignIn::Refused { wait_ms: None });
        }
        for i in 0..2 {
            sign_in(&s, &roster, "nobody", "whatever1", 20 + i).unwrap();
        }
        // The fifth failure under "nobody" (any case): locked, as a real person would be.
        assert_eq!(
            sign_in(&s, &roster, "Nobody", "whatever1", 30).unwrap(),
            SignIn::Refused {
                wait_ms: Some(60_000)
            }
        );
    }

    #[test]
    fn refusals_read_the_same_and_name_the_wait() {
        assert_eq!(refusal_message(None), "登录名或密码不正确。");
        let m = refusal_message(Some(61_000));
        assert!(
            m.starts_with("登录名或密码不正确。") && m.contains("2 分钟"),
            "{m}"
        );
    }
}
