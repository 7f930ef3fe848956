//! Reports over cases and the roster: the evaluation rankings of grids, communities,
//! departments and people ([`rankings`]), and the street chiefs' public notice boards
//! (街长公示栏, [`notice`]).
//!
//! Both are pure functions of their inputs, so a device (over its own store) and the server
//! (over every case) compute the same figures from the same data.

mod figures;
pub mod notice;
mod ranking_row;
pub mod rankings;

pub use notice::{NoticeBoard, NoticeEntry, SegmentBoard};
pub use ranking_row::{CaseRow, PatrolRow};
pub use rankings::{
    Figures, RankedUnit, RankingRow, Rankings, RankingsBuilder, UnitKind, rankings,
};

#[cfg(test)]
mod notice_tests;
#[cfg(test)]
mod rankings_tests;
