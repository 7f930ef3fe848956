//! People search as Chinese users look a colleague up: by name (张三), by pinyin initials
//! (`zs`), by full pinyin (`zhangsan`) and its prefixes (`zhangs`), case-insensitively, with
//! every reading of a character that has several (多音字: 曾 zeng/ceng, 单 shan/dan, 解
//! xie/jie, 仇 qiu/chou), since a surname is often read the rarer way.
//!
//! [`PeopleIndex`] is built once per roster (the pinyin of every name, from the `pinyin`
//! crate's tables) and answers each keystroke without touching the pinyin data again: a
//! search is a scan of the index with a first-letter filter and a small matcher per name.
//!
//! A name is a row of *units*, one per character (spaces and marks such as the middle dot of
//! 买买提·艾力 are left out). Each unit has *spellings*: the character itself, lower-cased, and
//! for a hanzi each of its plain pinyin readings (`ü` spelt both `v` and `u`, as keyboards
//! type it: 吕 is `lv` and `lu`). A query (lower-cased, full-width letters and digits made
//! ASCII, spaces and apostrophes dropped) matches a name when it splits into pieces, one per
//! unit in a row, each a prefix of one of that unit's spellings. How it splits ranks the
//! match ([`MatchKind`], best first):
//!
//! 1. [`MatchKind::Name`]: the whole name (`张三`);
//! 2. [`MatchKind::Initials`]: the initials of the whole name (`zs`);
//! 3. [`MatchKind::Pinyin`]: the full pinyin of the whole name (`zhangsan`);
//! 4. [`MatchKind::Typed`]: the start of the name as it is typed, whole spellings then a
//!    prefix (`张`, `zhang`, `zhangs`, `zhangsanf` for 张三丰);
//! 5. [`MatchKind::InitialsPrefix`]: the initials of the start of the name (`zs` for 张三丰);
//! 6. [`MatchKind::Mixed`]: any other split from the start (`zhs`, `zsanf`);
//! 7. [`MatchKind::Inside`]: a split that starts after the first character (the given name:
//!    `san`, `三`, `sf`).
//!
//! Results are ordered by that rank, then by roster order (stable), and cut to the limit.

use super::{Person, Roster};
use pinyin::{Pinyin, ToPinyinMulti};

/// How a query matched a name, best first (the order of results).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchKind {
    /// The whole name, as written (case-insensitive).
    Name,
    /// The initials of every character (`zs` for 张三).
    Initials,
    /// The full pinyin of every character (`zhangsan`).
    Pinyin,
    /// The start of the name as typed: whole characters or syllables, the last perhaps cut
    /// short (`张`, `zhang`, `zhangs`).
    Typed,
    /// The initials of the first characters (`zs` for 张三丰).
    InitialsPrefix,
    /// Another split from the start, mixing initials and syllables (`zhs`, `zsanf`).
    Mixed,
    /// A match that starts after the first character (`san` for 张三).
    Inside,
}

/// One person found: their index in [`Roster::people`] and how they matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// The index of the person in the roster's `people`.
    pub index: usize,
    /// How the query matched their name.
    pub kind: MatchKind,
}

/// One character of a name: its spellings (the character itself first, then its readings).
#[derive(Debug, Clone)]
struct Unit {
    spellings: Vec<Box<[char]>>,
}

/// One person's name, ready to match.
#[derive(Debug, Clone)]
struct Entry {
    /// The name lower-cased, without spaces (compared whole for [`MatchKind::Name`]).
    name: Box<[char]>,
    units: Box<[Unit]>,
    /// Bit `c - 'a'` set when some spelling of the first unit starts with the letter `c`.
    first_letters: u32,
    /// The same for every unit.
    any_letters: u32,
}

/// The search index of one roster's people, built once ([`PeopleIndex::new`]) and queried
/// per keystroke ([`PeopleIndex::search`]).
#[derive(Debug, Clone, Default)]
pub struct PeopleIndex {
    entries: Vec<Entry>,
}

/// How the pieces of a split may use a unit's spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pieces {
    /// Each piece is a whole spelling.
    Whole,
    /// Each piece is one letter or character.
    First,
    /// Whole spellings, the last piece perhaps a prefix.
    Typed,
    /// Any non-empty prefix of a spelling.
    Any,
}

impl PeopleIndex {
    /// Indexes the names of `roster`'s people (a few milliseconds for a street of thousands).
    pub fn new(roster: &Roster) -> PeopleIndex {
        PeopleIndex {
            entries: roster.people.iter().map(|p| entry(&p.name)).collect(),
        }
    }

    /// The number of people indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no one is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The people whose name matches `query`, best match first, then in roster order, at most
    /// `limit` of them. An empty query (or one of spaces and apostrophes) finds nobody.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Found> {
        let q = normalise(query);
        if q.is_empty() || limit == 0 {
            return Vec::new();
        }
        let bit = letter_bit(q[0]);
        let mut found: Vec<Found> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(index, e)| {
                // A query starting with a letter that no spelling of the name starts with
                // cannot match; most names of a street are dropped here.
                if bit != 0 && e.any_letters & bit == 0 {
                    return None;
                }
                rank(e, &q, bit).map(|kind| Found { index, kind })
            })
            .collect();
        // Stable: equal kinds keep roster order.
        found.sort_by_key(|f| f.kind);
        found.truncate(limit);
        found
    }

    /// [`PeopleIndex::search`], answered with the people of `roster` (the roster this index
    /// was built from).
    pub fn search_people<'a>(
        &self,
        roster: &'a Roster,
        query: &str,
        limit: usize,
    ) -> Vec<&'a Person> {
        self.search(query, limit)
            .into_iter()
            .filter_map(|f| roster.people.get(f.index))
            .collect()
    }
}

/// How `q` matches the entry, if it does.
fn rank(e: &Entry, q: &[char], bit: u32) -> Option<MatchKind> {
    let n = e.units.len();
    if *q == *e.name {
        return Some(MatchKind::Name);
    }
    let from_start = bit == 0 || e.first_letters & bit != 0;
    if from_start {
        if q.len() == n && splits(&e.units, q, Pieces::First, true) {
            return Some(MatchKind::Initials);
        }
        if splits(&e.units, q, Pieces::Whole, true) {
            return Some(MatchKind::Pinyin);
        }
        if splits(&e.units, q, Pieces::Typed, false) {
            return Some(MatchKind::Typed);
        }
        if q.len() < n && splits(&e.units, q, Pieces::First, false) {
            return Some(MatchKind::InitialsPrefix);
        }
        if splits(&e.units, q, Pieces::Any, false) {
            return Some(MatchKind::Mixed);
        }
    }
    (1..n)
        .any(|start| splits(&e.units[start..], q, Pieces::Any, false))
        .then_some(MatchKind::Inside)
}

/// True when `q` splits into pieces over `units` from the first one, each piece allowed by
/// `pieces`; with `whole`, the pieces must use every unit.
fn splits(units: &[Unit], q: &[char], pieces: Pieces, whole: bool) -> bool {
    let Some((unit, rest)) = units.split_first() else {
        return false;
    };
    unit.spellings.iter().any(|s| {
        let common = s.iter().zip(q).take_while(|(a, b)| a == b).count();
        // The piece takes the first `k` characters of the query.
        let take = |k: usize| {
            let left = &q[k..];
            if left.is_empty() {
                !whole || rest.is_empty()
            } else {
                splits(rest, left, pieces, whole)
            }
        };
        match pieces {
            Pieces::Whole => common == s.len() && take(common),
            Pieces::First => common >= 1 && take(1),
            // A whole spelling, or the rest of the query when it ends inside this spelling.
            Pieces::Typed => {
                (common == s.len() && take(common)) || (common == q.len() && take(common))
            }
            // Longest first: whole syllables are the likelier split.
            Pieces::Any => (1..=common).rev().any(take),
        }
    })
}

/// The query as it is matched: lower-case, full-width ASCII made half-width, without spaces
/// and apostrophes (`Zhang San`, `xi'an`, `ＺＳ`).
fn normalise(query: &str) -> Vec<char> {
    query
        .chars()
        .map(|c| match c {
            // Full-width forms of the ASCII letters and digits (U+FF01..U+FF5E).
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace() && !matches!(c, '\'' | '’' | '‘'))
        .collect()
}

/// The bit of a lower-case ASCII letter, 0 for anything else.
fn letter_bit(c: char) -> u32 {
    if c.is_ascii_lowercase() {
        1 << (c as u32 - 'a' as u32)
    } else {
        0
    }
}

/// A name's entry: its units and their spellings.
fn entry(name: &str) -> Entry {
    let units: Vec<Unit> = name
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .map(unit)
        .collect();
    let letters = |u: &Unit| {
        u.spellings
            .iter()
            .filter_map(|s| s.first())
            .fold(0, |acc, &c| acc | letter_bit(c))
    };
    Entry {
        name: normalise(name).into_boxed_slice(),
        first_letters: units.first().map_or(0, letters),
        any_letters: units.iter().fold(0, |acc, u| acc | letters(u)),
        units: units.into_boxed_slice(),
    }
}

/// One character's spellings: itself, then each plain reading (without repeats).
fn unit(c: char) -> Unit {
    let mut spellings: Vec<Box<[char]>> = vec![Box::new([c])];
    if let Some(multi) = c.to_pinyin_multi() {
        for reading in multi.into_iter().map(Pinyin::plain) {
            for spelling in spellings_of(reading) {
                if !spellings.contains(&spelling) {
                    spellings.push(spelling);
                }
            }
        }
    }
    Unit { spellings }
}

/// A plain reading as it may be typed: `ü` as `v` (the IME convention) and as `u`.
fn spellings_of(reading: &str) -> Vec<Box<[char]>> {
    if reading.contains('ü') {
        ['v', 'u']
            .into_iter()
            .map(|u| {
                reading
                    .chars()
                    .map(|c| if c == 'ü' { u } else { c })
                    .collect()
            })
            .collect()
    } else {
        vec![reading.chars().collect()]
    }
}

#[cfg(test)]
mod tests;
