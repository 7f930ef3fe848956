//! Cases as a synced kind: the server judges a push ([`crate::sync::judge`]), voids the events
//! whose claim its roster does not back now (honest but stale: the person moved while offline),
//! numbers a new case, and indexes it by its folded state.

use crate::case::{Action, Author, CaseDoc, CaseKind, Event, Facts, fold};
use crate::document::DocError;
use crate::ids::PhotoHash;
use crate::org::Roster;
use crate::report::RankingRow;
use crate::sync::judge::judge;
use crate::sync::kind::{
    Accepted, Host, IndexRow, ListBound, Refused, SyncedKind, server_author, stale_claim,
};
use crate::sync::scope::access_keys;
use std::collections::HashSet;

impl SyncedKind for CaseDoc {
    fn recognises(kind: Option<&str>) -> bool {
        kind.is_some_and(|k| CaseKind::parse(k).is_some())
    }

    fn list_lengths(&self) -> Vec<(ListBound, usize)> {
        let (events, photos) = CaseDoc::list_lengths(self);
        vec![(ListBound::Entries, events), (ListBound::Photos, photos)]
    }

    fn accept(
        before: Option<&mut CaseDoc>,
        after: &mut CaseDoc,
        host: &mut dyn Host,
    ) -> Result<Accepted, Refused> {
        let is_new = before.is_none();
        let judging = host.judging();
        let redelivery = judging.redelivery;
        let added = judge(before, after, &judging)?;
        // An event a re-delivered document already voids is not voided twice.
        let voided = already_voided(after, redelivery).map_err(Refused::malformed)?;
        for e in &added.events {
            if let Author::Person(claim) = &e.by
                && !voided.contains(&e.id)
                && let Some(reason) = stale_claim(host, claim)
            {
                let void = Event {
                    id: uuid::Uuid::now_v7().to_string(),
                    at: host.now(),
                    by: server_author(host),
                    action: Action::ServerVoid {
                        event: e.id.clone(),
                        reason,
                    },
                };
                after.append_event(&void).map_err(Refused::internal)?;
            }
        }
        let facts = after.facts().map_err(Refused::malformed)?;
        let mut number = after.number();
        if is_new && let Some(n) = &number {
            // A re-delivered case numbered before a restore keeps its number; later cases of
            // its day are numbered after it.
            if let Some((key, seq)) = n.rsplit_once('-')
                && let Ok(seq) = seq.parse::<u64>()
            {
                host.number_taken(&format!("number:{key}"), seq)
                    .map_err(Refused::Host)?;
            }
        }
        if is_new && number.is_none() {
            let n = case_number(host, &facts)?;
            after.set_number(&n).map_err(Refused::internal)?;
            number = Some(n);
        }
        let events = after.events().map_err(Refused::malformed)?;
        let state = fold(&facts, &events);
        let photos: Vec<PhotoHash> = after
            .photos()
            .map_err(Refused::malformed)?
            .into_iter()
            .flat_map(|p| [p.hash, p.thumb])
            .map(PhotoHash::from)
            .collect();
        Ok(Accepted {
            index: IndexRow {
                number,
                status: state.status.as_str().to_string(),
                level: state.level.as_str().to_string(),
                grid: facts.grid.clone(),
                community: facts.community.clone(),
                reporter: facts.reporter.clone(),
                category: facts.category.clone(),
                created_at: facts.created_at,
                ranking: RankingRow::of_case(&facts, &state),
            },
            access: access_keys(&facts, &state),
            photos,
            case: Some(Box::new((facts, state))),
        })
    }
}

/// The events a case's server voids already name, when re-delivered (otherwise none: an
/// ordinary push never brings server voids).
fn already_voided(doc: &CaseDoc, redelivery: bool) -> Result<HashSet<String>, DocError> {
    if !redelivery {
        return Ok(HashSet::new());
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

/// Street prefix, the report's date in the street's zone (UTC+8) and a per-day sequence:
/// `ZX-20261129-0001`.
fn case_number(host: &mut dyn Host, facts: &Facts) -> Result<String, Refused> {
    let key = number_key(host.roster(), facts.created_at)?;
    let seq = host
        .next_number(&format!("number:{key}"))
        .map_err(Refused::Host)?;
    Ok(format!("{key}-{seq:04}"))
}

/// The sequence key of a case raised at `created_at`: street prefix and date, `ZX-20261129`.
fn number_key(roster: &Roster, created_at: i64) -> Result<String, Refused> {
    let zone = chrono::FixedOffset::east_opt(8 * 3600)
        .ok_or_else(|| Refused::Host("the street's time zone".into()))?;
    let day = chrono::DateTime::from_timestamp_millis(created_at)
        .ok_or_else(|| Refused::malformed(DocError::Field("created_at")))?
        .with_timezone(&zone)
        .format("%Y%m%d");
    Ok(format!("{}-{day}", roster.street.case_prefix))
}
