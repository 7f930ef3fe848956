//! Desk actions on cases, through the same rules and push judgement as a phone's.
