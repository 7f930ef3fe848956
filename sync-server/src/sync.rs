//! The sync logic, over any storage backend: push (judge, void, number, store) and pull (the
//! scoped change feed after a cursor), for both kinds of synced document: cases and patrols.

use crate::error::ServerError;
use crate::state::Limits;
use crate::storage::{CaseMeta, DeviceRow, FeedScope, NewChange, Result, Tx};
use automerge::ActorId;
use std::collections::BTreeMap;
use xiangying_model::case::chunks;
use xiangying_model::case::{Action, Author, CaseDoc, Claim, DocError, Event, Facts, fold};
use xiangying_model::org::Roster;
use xiangying_model::patrol::{
    PATROL_KIND, PatrolAction, PatrolDoc, PatrolEvent, PatrolPlace, fold_patrol_doc,
};
use xiangying_model::report::RankingRow;
use xiangying_model::sync::intake::{self, IntakeError, Tally};
use xiangying_model::sync::judge::{Judging, Tamper, judge};
use xiangying_model::sync::keys::AccessKey;
use xiangying_model::sync::patrol_judge::judge_patrol;
use xiangying_model::sync::scope::{
    ReadScope, access_keys, may_see, patrol_access_keys, read_scope,
};
use xiangying_model::sync::synced::SyncedDoc;
use xiangying_model::sync::version::LAYOUT;
use xiangying_model::sync::wire;
use xiangying_model::sync::wire::{FeedItem, PushedChange};

/// What a request runs with.
pub struct Ctx<'a> {
    /// The server's roster.
    pub roster: &'a Roster,
    /// The calling device.
    pub device: &'a DeviceRow,
    /// This server instance's automerge actor id (never shared with another writer).
    pub actor: &'a ActorId,
    /// This server instance's name, recorded on its events.
    pub instance: &'a str,
    /// Server clock, ms since the epoch.
    pub now: i64,
    /// The document layout the device writes, from its protocol header (1 without one):
    /// above this build's, the judge lets through what it cannot judge.
    pub layout: u32,
    /// The push re-delivers what a restored store lost, within the recovery window
    /// (docs/decisions/0021-recovery-after-a-restore.md).
    pub redelivery: bool,
}

impl Ctx<'_> {
    /// How this request's pushes are judged.
    pub fn judging(&self) -> Judging<'_> {
        Judging {
            pusher: &self.device.person,
            newer: self.layout > LAYOUT,
            redelivery: self.redelivery,
        }
    }
}

/// The person's current claim from the server's roster.
pub fn claim_of(roster: &Roster, person: &str) -> Option<Claim> {
    roster.person(person).map(|p| Claim {
        person: p.id.clone(),
        role: p.role,
        scope: p.scope.clone(),
    })
}

/// What the caller reads with; a person missing from the roster sees only their own cases.
pub fn scope_of(roster: &Roster, person: &str) -> ReadScope {
    match claim_of(roster, person) {
        Some(c) => read_scope(&c),
        None => ReadScope {
            all: false,
            keys: vec![AccessKey::Person(person.to_string())],
        },
    }
}

/// A push whose bytes were sized up and parsed before any lock was taken.
pub struct CheckedPush<'a> {
    /// The pushed bytes by document id, in push order.
    by_case: BTreeMap<String, Vec<&'a [u8]>>,
    /// The highest outbox sequence number pushed.
    max_seq: Option<i64>,
    /// The bounds on a document's lists.
    limits: DocLimits,
}

/// The bounds on a document's lists, from [`Limits`].
#[derive(Debug, Clone, Copy)]
struct DocLimits {
    events: usize,
    photos: usize,
    chunks: usize,
}

/// Sizes up every pushed byte against the limits ([`intake::scan`]) and parses it strictly,
/// outside any transaction: a bomb or damaged bytes are refused before anything is locked.
pub fn check_push<'a>(limits: &Limits, changes: &'a [PushedChange]) -> Result<CheckedPush<'a>> {
    let bounds = limits.intake();
    let mut tally = Tally::default();
    let mut by_case: BTreeMap<String, Vec<&[u8]>> = BTreeMap::new();
    for c in changes {
        let case_id = c.case_id.to_string();
        intake::scan(&c.bytes, &bounds, &mut tally).map_err(|e| match e {
            IntakeError::OverLimit { limit, max } => ServerError::OverLimit { limit, max },
            IntakeError::Malformed(m) => bad(&case_id, m),
        })?;
        chunks::check(&c.bytes).map_err(|e| bad(&case_id, e))?;
        by_case.entry(case_id).or_default().push(&c.bytes);
    }
    Ok(CheckedPush {
        by_case,
        max_seq: changes.iter().map(|c| c.seq).max(),
        limits: DocLimits {
            events: limits.max_doc_events,
            photos: limits.max_doc_photos,
            chunks: limits.max_doc_track_chunks,
        },
    })
}

/// Applies a device's checked push, all or nothing, and returns the highest outbox sequence
/// number stored. Tampering gives [`ServerError::Tamper`] (the caller quarantines the device
/// outside this transaction, which rolls back).
pub fn push(tx: &mut dyn Tx, ctx: &Ctx<'_>, push: &CheckedPush<'_>) -> Result<Option<i64>> {
    // Cases are locked in id order, so two pushes never wait on each other in a cycle.
    for (case_id, parts) in &push.by_case {
        push_case(tx, ctx, case_id, parts, push.limits)?;
    }
    Ok(push.max_seq)
}

fn bad(case_id: &str, e: impl std::fmt::Display) -> ServerError {
    ServerError::BadRequest(format!("case {case_id}: {e}"))
}

/// Refuses a document whose lists have grown past the limits.
fn check_lengths(doc: &SyncedDoc, limits: DocLimits) -> Result<()> {
    let over = |limit: &'static str, max: usize| ServerError::OverLimit {
        limit,
        max: max as u64,
    };
    match doc {
        SyncedDoc::Case(c) => {
            let (events, photos) = c.list_lengths();
            if events > limits.events {
                return Err(over("max_doc_events", limits.events));
            }
            if photos > limits.photos {
                return Err(over("max_doc_photos", limits.photos));
            }
        }
        SyncedDoc::Patrol(p) => {
            let (chunks, log) = p.list_lengths();
            if chunks > limits.chunks {
                return Err(over("max_doc_track_chunks", limits.chunks));
            }
            if log > limits.events {
                return Err(over("max_doc_events", limits.events));
            }
        }
    }
    Ok(())
}

fn push_case(
    tx: &mut dyn Tx,
    ctx: &Ctx<'_>,
    case_id: &str,
    parts: &[&[u8]],
    limits: DocLimits,
) -> Result<()> {
    let row = tx.lock_case(case_id)?;
    if row.is_some() && !may_write(tx, ctx, case_id)? {
        return Err(ServerError::Forbidden(format!(
            "case {case_id} is outside the scope of {}",
            ctx.device.person
        )));
    }
    let stored = |e: DocError| ServerError::Internal(format!("stored case {case_id}: {e}"));
    let mut before = row
        .as_ref()
        .map(|r| SyncedDoc::load(&r.snapshot, ctx.actor).map_err(stored))
        .transpose()?;
    let heads_before = before.as_mut().map(|b| b.heads()).unwrap_or_default();
    let (mut after, rest) = match before.as_mut() {
        Some(b) => (b.fork(ctx.actor).map_err(stored)?, parts),
        None => {
            let (first, rest) = parts
                .split_first()
                .ok_or_else(|| bad(case_id, "no bytes"))?;
            let doc = SyncedDoc::from_checked(first, ctx.actor).map_err(|e| bad(case_id, e))?;
            (doc, rest)
        }
    };
    for p in rest {
        after.apply_checked(p).map_err(|e| bad(case_id, e))?;
    }
    check_lengths(&after, limits)?;
    if !after.missing_deps().is_empty() {
        return Err(ServerError::Conflict(format!(
            "case {case_id}: the changes depend on changes the server does not hold; push the whole document"
        )));
    }
    let incoming = after.changes_since(&heads_before);
    if incoming.is_empty() {
        // A retry of changes the server already holds.
        tx.set_device_case(&ctx.device.id, case_id, 0)?;
        return Ok(());
    }
    let id = after.id().map_err(|e| bad(case_id, e))?;
    if id != case_id {
        return Err(bad(case_id, format!("the document is of case {id}")));
    }
    let tamper = |reason: String| ServerError::Tamper {
        case_id: case_id.to_string(),
        reason,
    };
    for c in &incoming {
        let actor = c.actor.to_hex_string();
        match tx.actor_owner(&actor)? {
            // A re-delivery brings back other devices' changes: their actors stay theirs.
            Some(owner) if owner != ctx.device.id && !ctx.redelivery => {
                return Err(tamper(format!(
                    "writes with actor {actor}, which belongs to another device"
                )));
            }
            Some(_) => {}
            // An actor the restored store does not know may be somebody else's: it is claimed
            // by the first ordinary push that writes with it.
            None if ctx.redelivery => {}
            None => tx.set_actor_owner(&actor, &ctx.device.id)?,
        }
    }
    let kind_changed = || tamper(Tamper::FactChanged("kind").to_string());
    let indexed = match &mut after {
        SyncedDoc::Case(a) => {
            let b = match before.as_mut() {
                None => None,
                Some(SyncedDoc::Case(b)) => Some(b),
                Some(SyncedDoc::Patrol(_)) => return Err(kind_changed()),
            };
            accept_case(tx, ctx, case_id, b, a)?
        }
        SyncedDoc::Patrol(a) => {
            let b = match before.as_mut() {
                None => None,
                Some(SyncedDoc::Patrol(b)) => Some(b),
                Some(SyncedDoc::Case(_)) => return Err(kind_changed()),
            };
            accept_patrol(ctx, case_id, b, a)?
        }
    };

    let all_new = after.changes_since(&heads_before);
    if all_new.iter().any(|c| c.actor == *ctx.actor) {
        // Once this instance has written with its actor, that actor is taken: a device that
        // read it in a document and pushes with it is refused like any other actor thief.
        let actor = ctx.actor.to_hex_string();
        if tx.actor_owner(&actor)?.is_none() {
            tx.set_actor_owner(&actor, &format!("server:{}", ctx.instance))?;
        }
    }
    let changes: Vec<NewChange> = all_new
        .into_iter()
        .map(|c| NewChange {
            device: (c.actor != *ctx.actor).then(|| ctx.device.id.clone()),
            bytes: c.bytes,
        })
        .collect();
    let snapshot = after.save();
    let first = tx.allocate_positions(changes.len() as u64)?;
    tx.save_case(
        &indexed.meta,
        &snapshot,
        &changes,
        first,
        &indexed.access,
        &indexed.photos,
    )?;
    tx.set_device_case(&ctx.device.id, case_id, 0)?;
    Ok(())
}

/// What the server indexes of an accepted document.
struct Indexed {
    meta: CaseMeta,
    access: Vec<AccessKey>,
    photos: Vec<String>,
}

/// A ranking row as the storage keeps it.
fn ranking_bytes(row: Option<RankingRow>) -> Result<Option<Vec<u8>>> {
    row.map(|r| wire::encode(&r).map_err(|e| ServerError::Internal(format!("ranking row: {e}"))))
        .transpose()
}

/// The reason for voiding an event whose claim the roster does not back now, if it does not.
fn stale_claim(ctx: &Ctx<'_>, claim: &Claim) -> Option<String> {
    let current = claim_of(ctx.roster, &claim.person);
    if current.as_ref() == Some(claim) {
        return None;
    }
    Some(match &current {
        Some(c) => format!(
            "{} acted as {} of {:?}, but the roster has them as {} of {:?}",
            claim.person,
            claim.role.as_str(),
            claim.scope,
            c.role.as_str(),
            c.scope
        ),
        None => format!("{} is not in the roster", claim.person),
    })
}

fn server_author(ctx: &Ctx<'_>) -> Author {
    Author::Server {
        instance: ctx.instance.to_string(),
    }
}

/// Judges a push to a case, voids events the roster does not back, numbers a new case.
fn accept_case(
    tx: &mut dyn Tx,
    ctx: &Ctx<'_>,
    case_id: &str,
    before: Option<&mut CaseDoc>,
    after: &mut CaseDoc,
) -> Result<Indexed> {
    let is_new = before.is_none();
    let added = judge(before, after, &ctx.judging()).map_err(|t| ServerError::Tamper {
        case_id: case_id.to_string(),
        reason: t.to_string(),
    })?;
    // Honest but stale claims (the person moved while offline) are voided, not refused; an
    // event a re-delivered document already voids is not voided twice.
    let voided = already_voided(after, ctx.redelivery).map_err(|e| bad(case_id, e))?;
    for e in &added.events {
        if let Author::Person(claim) = &e.by
            && !voided.contains(&e.id)
            && let Some(reason) = stale_claim(ctx, claim)
        {
            let void = Event {
                id: uuid::Uuid::now_v7().to_string(),
                at: ctx.now,
                by: server_author(ctx),
                action: Action::ServerVoid {
                    event: e.id.clone(),
                    reason,
                },
            };
            after
                .append_event(&void)
                .map_err(|e| ServerError::Internal(e.to_string()))?;
        }
    }
    let facts = after.facts().map_err(|e| bad(case_id, e))?;
    let mut number = after.number();
    if is_new && let Some(n) = &number {
        // A re-delivered case numbered before a restore keeps its number; later cases of its
        // day are numbered after it.
        if let Some((key, seq)) = n.rsplit_once('-')
            && let Ok(seq) = seq.parse::<u64>()
        {
            tx.number_taken(&format!("number:{key}"), seq)?;
        }
    }
    if is_new && number.is_none() {
        let n = case_number(tx, ctx.roster, &facts)?;
        after
            .set_number(&n)
            .map_err(|e| ServerError::Internal(e.to_string()))?;
        number = Some(n);
    }
    let events = after.events().map_err(|e| bad(case_id, e))?;
    let state = fold(&facts, &events);
    let photos: Vec<String> = after
        .photos()
        .map_err(|e| bad(case_id, e))?
        .into_iter()
        .flat_map(|p| [p.hash, p.thumb])
        .collect();
    Ok(Indexed {
        meta: CaseMeta {
            case_id: case_id.to_string(),
            number,
            status: state.status.as_str().to_string(),
            level: state.level.as_str().to_string(),
            grid: facts.grid.clone(),
            community: facts.community.clone(),
            reporter: facts.reporter.clone(),
            category: facts.category.clone(),
            created_at: facts.created_at,
            received_at: ctx.now,
            ranking: ranking_bytes(RankingRow::of_case(&facts, &state))?,
        },
        access: access_keys(&facts, &state),
        photos,
    })
}

/// Judges a push to a patrol and voids what the roster does not back: the whole patrol when
/// the walker's claim at its start is stale, an entry when its author's claim is (a
/// companion's confirmation included), an accompaniment when the companion is not who the
/// walker's roster copy said. The judge lets a companion append only their own confirmation.
fn accept_patrol(
    ctx: &Ctx<'_>,
    patrol_id: &str,
    before: Option<&mut PatrolDoc>,
    after: &mut PatrolDoc,
) -> Result<Indexed> {
    let is_new = before.is_none();
    let added = judge_patrol(before, after, &ctx.judging()).map_err(|t| ServerError::Tamper {
        case_id: patrol_id.to_string(),
        reason: t.to_string(),
    })?;
    let facts = after.facts().map_err(|e| bad(patrol_id, e))?;
    let mut voids = Vec::new();
    if is_new && let Some(reason) = stale_claim(ctx, &facts.walker) {
        voids.push((facts.id.clone(), reason));
    }
    for e in &added.events {
        let author = match &e.by {
            Author::Person(claim) => stale_claim(ctx, claim),
            Author::Server { .. } => None,
        };
        // Every entry that names a person's claim has it checked against the roster.
        let companion = match &e.action {
            PatrolAction::Accompanied { companion } => stale_claim(ctx, companion),
            PatrolAction::Ended
            | PatrolAction::Confirmed { .. }
            | PatrolAction::ServerVoid { .. }
            | PatrolAction::Unknown { .. } => None,
        };
        if let Some(reason) = author.or(companion) {
            voids.push((e.id.clone(), reason));
        }
    }
    for (event, reason) in voids {
        let void = PatrolEvent {
            id: uuid::Uuid::now_v7().to_string(),
            at: ctx.now,
            by: server_author(ctx),
            action: PatrolAction::ServerVoid { event, reason },
        };
        after
            .append_event(&void)
            .map_err(|e| ServerError::Internal(e.to_string()))?;
    }
    let (facts, state) = fold_patrol_doc(after).map_err(|e| bad(patrol_id, e))?;
    let status = if state.voided.is_some() {
        "voided"
    } else if state.is_ended() {
        "ended"
    } else {
        "walking"
    };
    let grid = match &facts.place {
        PatrolPlace::Grid(g) => g.clone(),
        PatrolPlace::Segment(_) => String::new(),
    };
    Ok(Indexed {
        meta: CaseMeta {
            case_id: patrol_id.to_string(),
            number: None,
            status: status.to_string(),
            level: PATROL_KIND.to_string(),
            grid,
            community: facts.community.clone(),
            reporter: facts.walker.person.clone(),
            category: PATROL_KIND.to_string(),
            created_at: facts.started_at,
            received_at: ctx.now,
            ranking: ranking_bytes(RankingRow::of_patrol(&facts, &state))?,
        },
        access: patrol_access_keys(&facts, &state),
        photos: Vec::new(),
    })
}

/// The events a case's server voids already name, when re-delivered (otherwise none: an
/// ordinary push never brings server voids).
fn already_voided(
    doc: &CaseDoc,
    redelivery: bool,
) -> std::result::Result<std::collections::HashSet<String>, DocError> {
    if !redelivery {
        return Ok(Default::default());
    }
    Ok(doc
        .events()?
        .into_iter()
        .filter_map(|e| {
            if let Action::ServerVoid { event, .. } = e.action {
                Some(event)
            } else {
                None
            }
        })
        .collect())
}

/// A device may write to a case its person may see now, or to one it held before (an honest
/// change made before a scope change is voided, not refused).
fn may_write(tx: &mut dyn Tx, ctx: &Ctx<'_>, case_id: &str) -> Result<bool> {
    if tx.device_case(&ctx.device.id, case_id)?.is_some() {
        return Ok(true);
    }
    let scope = scope_of(ctx.roster, &ctx.device.person);
    Ok(scope.all || may_see(&scope, &tx.access(case_id)?))
}

/// Street prefix, the report's date in the street's zone (UTC+8) and a per-day sequence:
/// `ZX-20261129-0001`.
fn case_number(tx: &mut dyn Tx, roster: &Roster, facts: &Facts) -> Result<String> {
    let zone = chrono::FixedOffset::east_opt(8 * 3600)
        .ok_or_else(|| ServerError::Internal("time zone".into()))?;
    let day = chrono::DateTime::from_timestamp_millis(facts.created_at)
        .ok_or_else(|| ServerError::BadRequest("created_at is out of range".into()))?
        .with_timezone(&zone)
        .format("%Y%m%d");
    let key = format!("{}-{day}", roster.street.case_prefix);
    let seq = tx.next_number(&format!("number:{key}"))?;
    Ok(format!("{key}-{seq:04}"))
}

/// One page of the feed.
pub struct Page {
    /// The items.
    pub items: Vec<FeedItem>,
    /// The cursor after them.
    pub cursor: u64,
    /// More is waiting.
    pub more: bool,
}

/// Reads the feed after `cursor` for the device: changes to cases it holds, whole documents
/// for cases new to it. Stops after about `max_bytes` or `max_cases`, at a cursor below which
/// everything was delivered (what lies above it in a delivered case comes again next time:
/// applying known changes changes nothing).
pub fn pull(
    tx: &mut dyn Tx,
    ctx: &Ctx<'_>,
    cursor: u64,
    max_bytes: usize,
    max_cases: u32,
) -> Result<Page> {
    let scope = scope_of(ctx.roster, &ctx.device.person);
    let upto = tx.max_position()?;
    if cursor >= upto {
        return Ok(Page {
            items: Vec::new(),
            cursor: cursor.max(upto),
            more: false,
        });
    }
    let feed_scope = if scope.all {
        FeedScope::All
    } else {
        FeedScope::Keys(&scope.keys)
    };
    let cases = tx.feed_cases(feed_scope, cursor, upto, max_cases)?;
    let (mut next, mut more) = match cases.last() {
        // Every change up to the last listed first position belongs to a listed case.
        Some((_, first)) if cases.len() as u32 == max_cases => (*first, true),
        _ => (upto, false),
    };
    let mut items = Vec::new();
    let mut whole = Vec::new();
    let mut bytes = 0usize;
    for (case_id, first) in &cases {
        if bytes > 0 && bytes >= max_bytes {
            // Everything below this case's first change belongs to the cases already sent.
            next = first - 1;
            more = true;
            break;
        }
        let id = uuid::Uuid::parse_str(case_id)
            .map_err(|e| ServerError::Internal(format!("stored case id {case_id}: {e}")))?;
        let holds = tx
            .device_case(&ctx.device.id, case_id)?
            .is_some_and(|since| since <= cursor);
        if holds {
            let changes = tx.changes_between(case_id, cursor, upto, &ctx.device.id)?;
            if !changes.is_empty() {
                let item = FeedItem {
                    case_id: id,
                    whole: false,
                    bytes: changes.concat(),
                };
                bytes += item.bytes.len();
                items.push(item);
            }
        } else {
            let row = tx.case(case_id)?.ok_or(ServerError::NotFound)?;
            bytes += row.snapshot.len();
            items.push(FeedItem {
                case_id: id,
                whole: true,
                bytes: row.snapshot,
            });
            whole.push(case_id.clone());
        }
    }
    // The device holds these whole once it has applied this page and moved to `next`.
    for case_id in whole {
        tx.set_device_case(&ctx.device.id, &case_id, next)?;
    }
    Ok(Page {
        items,
        cursor: next,
        more,
    })
}
