//! Medians, the best peer, the ratio, and their table and JSON forms.
//!
//! Ratios are taken within a peer group ([`PeerGroup`]): tulip's event loop
//! (`tulip`, and `tulip_protocol`) against the peers it has always had
//! (`best peer`, `ratio`), tulip's multi-thread runtime (`tulip_mt`, 2
//! workers) against the multi-thread peers with 2 threads, tokio_mt and
//! smol_mt (`mt best peer`, `mt ratio`); `loop vs runtime` puts the loop
//! against the runtime.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::rt::{PeerGroup, RuntimeId};
use crate::workloads::{ALL, Entry};

/// One workload's results: the median of each runtime that produced a figure.
#[derive(Debug)]
pub(crate) struct Row {
    /// The workload.
    pub(crate) entry: &'static Entry,
    /// The median per runtime, for the runtimes with at least one figure.
    pub(crate) medians: Vec<(RuntimeId, f64)>,
    /// Every runtime that ran this workload, with or without a figure.
    pub(crate) ran: Vec<RuntimeId>,
    /// The runtimes that could not run here (e.g. uvloop not installed),
    /// with the reason; not failures.
    pub(crate) unavailable: Vec<(RuntimeId, &'static str)>,
    /// What went wrong, one line per failed measurement.
    pub(crate) failures: Vec<String>,
}

impl Row {
    /// The row of `entry` from each runtime's figures.
    pub(crate) fn new(
        entry: &'static Entry,
        samples: &[(RuntimeId, Vec<f64>)],
        unavailable: Vec<(RuntimeId, &'static str)>,
        failures: Vec<String>,
    ) -> Row {
        let medians = samples
            .iter()
            .filter_map(|(runtime, values)| median(values).map(|m| (*runtime, m)))
            .collect();
        let ran = samples.iter().map(|(runtime, _)| *runtime).collect();
        Row {
            entry,
            medians,
            ran,
            unavailable,
            failures,
        }
    }

    /// The median of `runtime`, if it has one.
    pub(crate) fn value(&self, runtime: RuntimeId) -> Option<f64> {
        self.medians
            .iter()
            .find(|(rt, _)| *rt == runtime)
            .map(|&(_, value)| value)
    }

    /// Whether `a` is better than `b` in this workload's unit.
    fn better(&self, a: f64, b: f64) -> bool {
        if self.entry.unit.higher_is_better {
            a > b
        } else {
            a < b
        }
    }

    /// The best of the loop's peers ([`PeerGroup::Loop`]) and its median.
    pub(crate) fn best_peer(&self) -> Option<(RuntimeId, f64)> {
        self.best_peer_in(PeerGroup::Loop)
    }

    /// The best peer of `group` and its median.
    pub(crate) fn best_peer_in(&self, group: PeerGroup) -> Option<(RuntimeId, f64)> {
        self.medians
            .iter()
            .copied()
            .filter(|(runtime, _)| runtime.is_peer_in(group))
            .reduce(|best, next| {
                if self.better(next.1, best.1) {
                    next
                } else {
                    best
                }
            })
    }

    /// tulip against its best peer, oriented so that >= 1 means tulip is at
    /// least as good: tulip / best for higher-is-better units, best / tulip
    /// for lower-is-better ones. tulip is its streams server
    /// ([`RuntimeId::Tulip`]); [`Row::protocol_ratio`] is its protocols'.
    pub(crate) fn ratio(&self) -> Option<f64> {
        self.ratio_in(PeerGroup::Loop)
    }

    /// `group`'s tulip column ([`PeerGroup::tulip`]) against the best peer
    /// of `group`, oriented as [`Row::ratio`].
    pub(crate) fn ratio_in(&self, group: PeerGroup) -> Option<f64> {
        let (_, best) = self.best_peer_in(group)?;
        self.against(group.tulip(), best)
    }

    /// tulip's multi-thread runtime ([`RuntimeId::TulipMt`]) against the
    /// best multi-thread peer (tokio_mt, smol_mt), oriented as
    /// [`Row::ratio`].
    pub(crate) fn mt_ratio(&self) -> Option<f64> {
        self.ratio_in(PeerGroup::MultiThread)
    }

    /// tulip's event loop against its multi-thread runtime, oriented as
    /// [`Row::ratio`]: above 1.00 the loop (one thread) does better than
    /// the runtime (2 workers), below it the runtime does.
    pub(crate) fn loop_vs_runtime(&self) -> Option<f64> {
        self.tulip_against(self.value(RuntimeId::TulipMt)?)
    }

    /// tulip's protocol-based server ([`RuntimeId::TulipProtocol`]) against
    /// the same best peer, oriented as [`Row::ratio`].
    pub(crate) fn protocol_ratio(&self) -> Option<f64> {
        let (_, best) = self.best_peer()?;
        self.against(RuntimeId::TulipProtocol, best)
    }

    /// tulip against the floor (`mio_raw`, the raw mio server), oriented
    /// as [`Row::ratio`]: 1.00 means tulip is as good as the floor, 0.80
    /// that it reaches 80 % of it.
    pub(crate) fn vs_floor(&self) -> Option<f64> {
        self.tulip_against(self.value(RuntimeId::MioRaw)?)
    }

    /// tulip against `other`, oriented so that >= 1 means tulip is at
    /// least as good.
    fn tulip_against(&self, other: f64) -> Option<f64> {
        self.against(RuntimeId::Tulip, other)
    }

    /// `runtime` against `other`, oriented so that >= 1 means `runtime` is
    /// at least as good.
    fn against(&self, runtime: RuntimeId, other: f64) -> Option<f64> {
        let value = self.value(runtime)?;
        let ratio = if self.entry.unit.higher_is_better {
            value / other
        } else {
            other / value
        };
        ratio.is_finite().then_some(ratio)
    }

    /// The table cell of `runtime`: its median, "—" where it does not run
    /// this workload, "n/a (why)" where it cannot run here, "-" where it
    /// has no figure (not selected, or every measurement failed).
    fn cell(&self, runtime: RuntimeId) -> String {
        if !self.entry.applies_to(runtime) {
            return NOT_RUN.to_owned();
        }
        if let Some((_, reason)) = self.unavailable.iter().find(|(rt, _)| *rt == runtime) {
            return format!("n/a ({reason})");
        }
        self.value(runtime)
            .map_or_else(|| "-".to_owned(), format_value)
    }
}

/// The cell of a runtime that does not run a workload at all.
const NOT_RUN: &str = "—";

/// The header of tulip_protocol's ratio to the best peer.
const PROTOCOL_RATIO: &str = "protocol ratio";

/// The header of the best multi-thread peer.
const MT_BEST_PEER: &str = "mt best peer";

/// The header of tulip_mt's ratio to the best multi-thread peer.
const MT_RATIO: &str = "mt ratio";

/// The header of tulip's loop against its multi-thread runtime.
const LOOP_VS_RUNTIME: &str = "loop vs runtime";

/// The median of `values`, `None` if empty.
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// `value` with three or so significant digits.
pub(crate) fn format_value(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// The results table, in Markdown, with the notes of the workloads shown
/// and any failures under it.
///
/// Columns: tulip (its streams server), tulip_mt (its multi-thread
/// runtime, only if it ran), tulip_protocol (its protocols' server, only if
/// it ran) and its peers (smol_mt only if it ran), the best peer and the
/// loop's ratio to it, the protocol ratio (tulip_protocol to the best peer,
/// only if it ran), then, if tulip_mt ran, the best multi-thread peer,
/// tulip_mt's ratio to it and the loop against the runtime; then the floor
/// (`mio_raw`, not a peer) and tulip's ratio to it.
pub(crate) fn table(rows: &[Row], reps: usize) -> String {
    let ran = |runtime: RuntimeId| rows.iter().any(|row| row.ran.contains(&runtime));
    let with_protocol = ran(RuntimeId::TulipProtocol);
    let with_mt = ran(RuntimeId::TulipMt);
    // Columns that only show when their runtime ran, so that a table of
    // the single-thread runtimes is what it was before they existed.
    let optional = [
        RuntimeId::TulipProtocol,
        RuntimeId::TulipMt,
        RuntimeId::SmolMt,
    ];
    let shown: Vec<RuntimeId> = RuntimeId::ALL
        .into_iter()
        .filter(|&runtime| runtime != RuntimeId::MioRaw)
        .filter(|&runtime| !optional.contains(&runtime) || ran(runtime))
        .collect();
    let mut header = vec!["id", "workload", "unit"];
    header.extend(shown.iter().map(|runtime| runtime.name()));
    header.extend(["best peer", "ratio"]);
    if with_protocol {
        header.push(PROTOCOL_RATIO);
    }
    if with_mt {
        header.extend([MT_BEST_PEER, MT_RATIO, LOOP_VS_RUNTIME]);
    }
    header.extend([RuntimeId::MioRaw.name(), "vs floor"]);
    let text_columns = ["id", "workload", "unit", "best peer", MT_BEST_PEER];
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    let ratio_cell =
        |ratio: Option<f64>| ratio.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}"));
    for row in rows {
        let mut cells = vec![
            row.entry.id.to_owned(),
            row.entry.name.to_owned(),
            row.entry.unit.label.to_owned(),
        ];
        cells.extend(shown.iter().map(|&runtime| row.cell(runtime)));
        cells.push(
            row.best_peer()
                .map_or("-", |(runtime, _)| runtime.name())
                .to_owned(),
        );
        cells.push(ratio_cell(row.ratio()));
        if with_protocol {
            cells.push(if row.entry.applies_to(RuntimeId::TulipProtocol) {
                ratio_cell(row.protocol_ratio())
            } else {
                NOT_RUN.to_owned()
            });
        }
        if with_mt {
            cells.push(
                row.best_peer_in(PeerGroup::MultiThread)
                    .map_or("-", |(runtime, _)| runtime.name())
                    .to_owned(),
            );
            cells.push(ratio_cell(row.mt_ratio()));
            cells.push(ratio_cell(row.loop_vs_runtime()));
        }
        cells.push(row.cell(RuntimeId::MioRaw));
        cells.push(if row.entry.applies_to(RuntimeId::MioRaw) {
            ratio_cell(row.vs_floor())
        } else {
            NOT_RUN.to_owned()
        });
        lines.push(cells);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            lines
                .iter()
                .map(|cells| cells[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Text columns to the left, numbers to the right.
    let numeric = |column: usize| !text_columns.contains(&header[column]);
    let mut out = String::new();
    for (index, cells) in lines.iter().enumerate() {
        out.push('|');
        for (column, cell) in cells.iter().enumerate() {
            // `{:>width$}` pads by chars, which "—" is one of.
            let width = widths[column];
            if numeric(column) {
                let _ = write!(out, " {cell:>width$} |");
            } else {
                let _ = write!(out, " {cell:<width$} |");
            }
        }
        out.push('\n');
        if index == 0 {
            out.push('|');
            for (column, &width) in widths.iter().enumerate() {
                let dashes = "-".repeat(width);
                if numeric(column) {
                    let _ = write!(out, " {dashes}:|");
                } else {
                    let _ = write!(out, " {dashes} |");
                }
            }
            out.push('\n');
        }
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "Medians of {reps} interleaved repetitions, each in a fresh process. \
         ratio >= 1.00: tulip is at least as good as its best peer."
    );
    if with_protocol {
        let _ = writeln!(
            out,
            "tulip_protocol is tulip too, never a peer: its protocol-based echo server \
             (tulip_protocol::create_server with asyncio's echo Protocol: data_received writes \
             the bytes back with Transport::write, no drain; eof_received returns false, so \
             the transport closes) on the same event loop, pinned and loaded as the others; \
             network workloads only. Its transport reads up to 256 KiB (asyncio's max_size) \
             into one buffer per thread whatever the workload's read size, so an idle \
             connection (M2) holds no read buffer. The tulip column is its streams-based \
             server. ratio is tulip against the best peer; protocol ratio is tulip_protocol \
             against the same best peer, oriented the same way."
        );
    }
    if with_mt {
        let _ = writeln!(
            out,
            "tulip_mt is tulip too, never a peer: its multi-thread runtime \
             (tulip_executor::Runtime) with 2 workers, compared only with the multi-thread \
             peers with 2 threads, tokio_mt (multi_thread, 2 workers) and smol_mt (one \
             smol::Executor run by 2 threads, each smol::block_on(ex.run(..))). mt ratio is \
             tulip_mt against the best of those (mt best peer), oriented as ratio; best peer \
             and ratio stay the loop's (tulip against tokio_ct, tokio_mt, smol, asyncio, \
             uvloop; never smol_mt). loop vs runtime is tulip (the loop, one thread) against \
             tulip_mt, oriented the same way: above 1.00 the loop does better. The network \
             servers of tulip_mt, tokio_mt and smol_mt run all their threads pinned with the \
             server, on CPU 0, like every server."
        );
    }
    if rows
        .iter()
        .any(|row| row.entry.applies_to(RuntimeId::MioRaw))
    {
        let _ = writeln!(
            out,
            "mio_raw is the floor, not a peer (never the best peer): a hand-written echo server \
             on one mio::Poll with no runtime. vs floor: tulip against it, oriented as ratio \
             (1.00 = as good as the floor). — : the runtime does not run this workload; \
             n/a: it cannot run on this machine."
        );
    }
    for entry in ALL {
        if let Some(note) = entry.note
            && rows.iter().any(|row| row.entry.id == entry.id)
        {
            let _ = writeln!(out, "Note {note}.");
        }
    }
    for failure in rows.iter().flat_map(|row| &row.failures) {
        let _ = writeln!(out, "FAILED {failure}");
    }
    out
}

/// The rows as the JSON list written to `results.json`.
pub(crate) fn json(rows: &[Row]) -> Value {
    let list = rows
        .iter()
        .map(|row| {
            let peers: Map<String, Value> = row
                .medians
                .iter()
                .filter(|(runtime, _)| runtime.is_peer())
                .map(|&(runtime, value)| (runtime.name().to_owned(), json!(value)))
                .collect();
            let unavailable: Map<String, Value> = row
                .unavailable
                .iter()
                .map(|&(runtime, reason)| (runtime.name().to_owned(), json!(reason)))
                .collect();
            json!({
                "id": row.entry.id,
                "workload": row.entry.name,
                "unit": row.entry.unit.label,
                "higher_is_better": row.entry.unit.higher_is_better,
                "tulip": row.value(RuntimeId::Tulip),
                "peers": peers,
                "best_peer": row.best_peer().map(|(runtime, _)| runtime.name()),
                "ratio": row.ratio(),
                "tulip_mt": row.value(RuntimeId::TulipMt),
                "mt_best_peer": row
                    .best_peer_in(PeerGroup::MultiThread)
                    .map(|(runtime, _)| runtime.name()),
                "mt_ratio": row.mt_ratio(),
                "loop_vs_runtime": row.loop_vs_runtime(),
                "tulip_protocol": row.value(RuntimeId::TulipProtocol),
                "protocol_ratio": row.protocol_ratio(),
                "floor": row.value(RuntimeId::MioRaw),
                "vs_floor": row.vs_floor(),
                "unavailable": unavailable,
            })
        })
        .collect();
    Value::Array(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, values: &[(RuntimeId, &[f64])]) -> Row {
        let entry = Entry::find(id).unwrap();
        let samples: Vec<_> = values.iter().map(|(rt, v)| (*rt, v.to_vec())).collect();
        Row::new(entry, &samples, Vec::new(), Vec::new())
    }

    /// `line` with each cell's padding removed: `| a | b |`.
    fn squeezed(line: &str) -> String {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        cells.join(" | ").trim().to_owned()
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn lower_is_better_ratio_is_best_peer_over_tulip() {
        let row = row(
            "E1",
            &[
                (RuntimeId::Tulip, &[50.0, 40.0, 45.0]),
                (RuntimeId::TokioCt, &[30.0]),
                (RuntimeId::TokioMt, &[60.0]),
                (RuntimeId::Smol, &[]),
            ],
        );
        assert_eq!(row.value(RuntimeId::Tulip), Some(45.0));
        assert_eq!(row.value(RuntimeId::Smol), None);
        assert_eq!(row.best_peer(), Some((RuntimeId::TokioCt, 30.0)));
        let ratio = row.ratio().unwrap();
        assert!((ratio - 30.0 / 45.0).abs() < 1e-12);

        let json = json(&[row]);
        assert_eq!(json[0]["id"], "E1");
        assert_eq!(json[0]["tulip"], 45.0);
        assert_eq!(json[0]["peers"]["tokio_mt"], 60.0);
        assert!(json[0]["peers"].get("smol").is_none());
        assert_eq!(json[0]["best_peer"], "tokio_ct");
        assert_eq!(json[0]["higher_is_better"], false);
    }

    #[test]
    fn higher_is_better_ratio_is_tulip_over_best_peer() {
        let row = row(
            "N1",
            &[
                (RuntimeId::Tulip, &[90.0]),
                (RuntimeId::TokioCt, &[100.0]),
                (RuntimeId::TokioMt, &[120.0]),
                (RuntimeId::Smol, &[80.0]),
            ],
        );
        assert_eq!(row.best_peer(), Some((RuntimeId::TokioMt, 120.0)));
        let ratio = row.ratio().unwrap();
        assert!((ratio - 90.0 / 120.0).abs() < 1e-12);
        let json = json(&[row]);
        assert_eq!(json[0]["higher_is_better"], true);
        assert_eq!(json[0]["unit"], "req/s");
    }

    #[test]
    fn missing_tulip_has_no_ratio_and_the_table_says_so() {
        let row = row("T2", &[(RuntimeId::Smol, &[1.0, 2.0])]);
        assert_eq!(row.ratio(), None);
        let table = table(&[row], 2);
        assert!(table.contains("| T2 "), "{table}");
        assert!(table.contains("smol"), "{table}");
    }

    #[test]
    fn the_floor_is_not_a_peer_and_has_its_own_ratio() {
        let mut n1 = row(
            "N1",
            &[
                (RuntimeId::Tulip, &[80.0]),
                (RuntimeId::TokioCt, &[100.0]),
                (RuntimeId::Asyncio, &[40.0]),
                (RuntimeId::MioRaw, &[160.0]),
            ],
        );
        n1.unavailable
            .push((RuntimeId::Uvloop, "uvloop not installed"));
        // The floor is the fastest, but the best peer is tokio_ct.
        assert_eq!(n1.best_peer(), Some((RuntimeId::TokioCt, 100.0)));
        assert!((n1.ratio().unwrap() - 0.8).abs() < 1e-12);
        assert!((n1.vs_floor().unwrap() - 0.5).abs() < 1e-12);
        let table = table(&[n1], 1);
        assert!(table.contains("n/a (uvloop not installed)"), "{table}");
        assert!(table.contains("| vs floor |"), "{table}");
        assert!(table.contains("0.50 |"), "{table}");
        let json = json(&[row(
            "M2",
            &[(RuntimeId::Tulip, &[400.0]), (RuntimeId::MioRaw, &[100.0])],
        )]);
        assert_eq!(json[0]["floor"], 100.0);
        // Lower is better: the floor over tulip.
        assert_eq!(json[0]["vs_floor"], 0.25);
        assert!(json[0]["peers"].get("mio_raw").is_none());
        assert_eq!(json[0]["best_peer"], Value::Null);
    }

    #[test]
    fn tulip_protocol_is_a_tulip_column_with_its_own_ratio() {
        let n1 = row(
            "N1",
            &[
                (RuntimeId::Tulip, &[90.0]),
                (RuntimeId::TulipProtocol, &[110.0, 120.0, 130.0]),
                (RuntimeId::TokioCt, &[100.0]),
                (RuntimeId::MioRaw, &[200.0]),
            ],
        );
        // Faster than every peer, yet never the best peer.
        assert_eq!(n1.best_peer(), Some((RuntimeId::TokioCt, 100.0)));
        assert!((n1.ratio().unwrap() - 0.9).abs() < 1e-12);
        assert!((n1.protocol_ratio().unwrap() - 1.2).abs() < 1e-12);
        // vs floor stays the streams server's.
        assert!((n1.vs_floor().unwrap() - 0.45).abs() < 1e-12);
        let e1 = row("E1", &[(RuntimeId::Tulip, &[1.0])]);
        let table = table(&[n1, e1], 3);
        let header = table.lines().next().unwrap();
        assert!(
            header.contains("| tulip | tulip_protocol | tokio_ct |"),
            "{table}"
        );
        assert!(header.contains("| ratio | protocol ratio |"), "{table}");
        let n1_line = table.lines().find(|line| line.starts_with("| N1")).unwrap();
        assert!(n1_line.contains(" 120 |"), "{table}");
        assert!(n1_line.contains(" 1.20 |"), "{table}");
        // The in-process row: tulip_protocol and its ratio do not run it.
        let e1_line = table.lines().find(|line| line.starts_with("| E1")).unwrap();
        assert_eq!(e1_line.matches('—').count(), 6, "{table}");
        assert!(
            table.contains("protocol ratio is tulip_protocol"),
            "{table}"
        );

        let json = json(&[row(
            "M2",
            &[
                (RuntimeId::Tulip, &[1000.0]),
                (RuntimeId::TulipProtocol, &[800.0]),
                (RuntimeId::Smol, &[1600.0]),
            ],
        )]);
        assert_eq!(json[0]["tulip"], 1000.0);
        assert_eq!(json[0]["tulip_protocol"], 800.0);
        assert!(json[0]["peers"].get("tulip_protocol").is_none());
        assert_eq!(json[0]["best_peer"], "smol");
        // Lower is better: the best peer over tulip_protocol.
        assert_eq!(json[0]["ratio"], 1.6);
        assert_eq!(json[0]["protocol_ratio"], 2.0);
    }

    #[test]
    fn no_protocol_column_unless_tulip_protocol_ran() {
        let n1 = row(
            "N1",
            &[(RuntimeId::Tulip, &[90.0]), (RuntimeId::TokioCt, &[100.0])],
        );
        assert_eq!(n1.protocol_ratio(), None);
        let table = table(&[n1], 1);
        assert!(!table.contains("tulip_protocol"), "{table}");
        assert!(!table.contains("protocol ratio"), "{table}");
        // It ran but every measurement failed: the column shows, with "-".
        let mut failed = row("N2", &[(RuntimeId::Tulip, &[900.0])]);
        failed.ran.push(RuntimeId::TulipProtocol);
        let table = super::table(&[failed], 1);
        assert!(table.contains("| tulip_protocol |"), "{table}");
        let json = json(&[row("N2", &[(RuntimeId::Tulip, &[900.0])])]);
        assert!(json[0]["tulip_protocol"].is_null());
        assert!(json[0]["protocol_ratio"].is_null());
    }

    #[test]
    fn in_process_rows_leave_server_only_columns_empty() {
        let table = table(&[row("E1", &[(RuntimeId::Tulip, &[1.0])])], 1);
        let line = table.lines().find(|line| line.starts_with("| E1")).unwrap();
        // asyncio, uvloop, mio_raw and vs floor.
        assert_eq!(line.matches('—').count(), 4, "{table}");
        assert!(!table.contains("n/a"), "{table}");
    }

    #[test]
    fn process_rows_orient_the_ratio_by_their_units() {
        let values: &[(RuntimeId, &[f64])] = &[
            (RuntimeId::Tulip, &[2.0]),
            (RuntimeId::TokioCt, &[4.0]),
            (RuntimeId::TokioMt, &[3.0]),
            (RuntimeId::Smol, &[1.0]),
        ];
        // P1, processes per second: more is better, tulip / best.
        let p1 = row("P1", values);
        assert!(p1.entry.unit.higher_is_better);
        assert_eq!(p1.best_peer(), Some((RuntimeId::TokioCt, 4.0)));
        assert!((p1.ratio().unwrap() - 0.5).abs() < 1e-12);
        // P2, ms per round: less is better, best / tulip.
        let p2 = row("P2", values);
        assert!(!p2.entry.unit.higher_is_better);
        assert_eq!(p2.best_peer(), Some((RuntimeId::Smol, 1.0)));
        assert!((p2.ratio().unwrap() - 0.5).abs() < 1e-12);
        // In-process: no server-only cells.
        let table = table(&[p1, p2], 1);
        for id in ["| P1", "| P2"] {
            let line = table.lines().find(|line| line.starts_with(id)).unwrap();
            assert_eq!(line.matches('—').count(), 4, "{table}");
        }
    }

    #[test]
    fn tulip_mt_is_compared_with_the_multi_thread_peers_only() {
        // Lower is better. tulip_mt is the fastest of all, tokio_ct the
        // fastest peer, smol_mt the fastest multi-thread peer.
        let e1 = row(
            "E1",
            &[
                (RuntimeId::Tulip, &[45.0]),
                (RuntimeId::TulipMt, &[5.0]),
                (RuntimeId::TokioCt, &[20.0]),
                (RuntimeId::TokioMt, &[40.0]),
                (RuntimeId::Smol, &[25.0]),
                (RuntimeId::SmolMt, &[10.0]),
            ],
        );
        // The loop: as before, against tokio_ct, tokio_mt, smol; never
        // smol_mt, never tulip_mt.
        assert_eq!(e1.best_peer(), Some((RuntimeId::TokioCt, 20.0)));
        assert!((e1.ratio().unwrap() - 20.0 / 45.0).abs() < 1e-12);
        // The runtime: against tokio_mt and smol_mt only.
        assert_eq!(
            e1.best_peer_in(PeerGroup::MultiThread),
            Some((RuntimeId::SmolMt, 10.0))
        );
        assert!((e1.mt_ratio().unwrap() - 10.0 / 5.0).abs() < 1e-12);
        // The loop against the runtime: the runtime over the loop here.
        assert!((e1.loop_vs_runtime().unwrap() - 5.0 / 45.0).abs() < 1e-12);

        // Higher is better; tokio_ct beats both multi-thread peers but is
        // not one of them.
        let n1 = row(
            "N1",
            &[
                (RuntimeId::Tulip, &[90.0]),
                (RuntimeId::TulipMt, &[150.0]),
                (RuntimeId::TokioCt, &[130.0]),
                (RuntimeId::TokioMt, &[120.0]),
                (RuntimeId::SmolMt, &[100.0]),
                (RuntimeId::MioRaw, &[300.0]),
            ],
        );
        assert_eq!(n1.best_peer(), Some((RuntimeId::TokioCt, 130.0)));
        assert_eq!(
            n1.best_peer_in(PeerGroup::MultiThread),
            Some((RuntimeId::TokioMt, 120.0))
        );
        assert!((n1.mt_ratio().unwrap() - 1.25).abs() < 1e-12);
        assert!((n1.loop_vs_runtime().unwrap() - 0.6).abs() < 1e-12);
        // vs floor stays the loop's.
        assert!((n1.vs_floor().unwrap() - 0.3).abs() < 1e-12);
    }

    #[test]
    fn no_multi_thread_peer_no_mt_ratio_and_no_loop_vs_runtime_without_both() {
        let e2 = row(
            "E2",
            &[
                (RuntimeId::TulipMt, &[3.0]),
                (RuntimeId::TokioCt, &[1.0]),
                (RuntimeId::Smol, &[2.0]),
            ],
        );
        assert_eq!(e2.best_peer_in(PeerGroup::MultiThread), None);
        assert_eq!(e2.mt_ratio(), None);
        assert_eq!(e2.loop_vs_runtime(), None);
        // The loop's ratio needs tulip, which did not run.
        assert_eq!(e2.ratio(), None);
        let table = table(&[e2], 1);
        let line = squeezed(table.lines().find(|line| line.starts_with("| E2")).unwrap());
        // mt best peer, mt ratio, loop vs runtime, and the loop's ratio.
        assert!(line.contains("| tokio_ct | - | - | - | - |"), "{table}");
    }

    #[test]
    fn multi_thread_columns_show_only_when_they_ran() {
        let values: &[(RuntimeId, &[f64])] = &[
            (RuntimeId::Tulip, &[2.0]),
            (RuntimeId::TulipMt, &[1.0]),
            (RuntimeId::TokioCt, &[4.0]),
            (RuntimeId::TokioMt, &[3.0]),
            (RuntimeId::Smol, &[5.0]),
            (RuntimeId::SmolMt, &[8.0]),
        ];
        let table = table(&[row("E3", values)], 5);
        let header = squeezed(table.lines().next().unwrap());
        assert!(
            header
                .contains("| tulip | tulip_mt | tokio_ct | tokio_mt | smol | smol_mt | asyncio |"),
            "{table}"
        );
        assert!(
            header.contains(
                "| best peer | ratio | mt best peer | mt ratio | loop vs runtime | mio_raw |"
            ),
            "{table}"
        );
        let line = squeezed(table.lines().find(|line| line.starts_with("| E3")).unwrap());
        // Lower is better: best peer tokio_mt (3) over tulip (2) is 1.50;
        // mt: tokio_mt (3) over tulip_mt (1) is 3.00; tulip_mt (1) over
        // tulip (2) is 0.50.
        assert!(
            line.contains("| tokio_mt | 1.50 | tokio_mt | 3.00 | 0.50 |"),
            "{table}"
        );
        assert!(table.contains("mt ratio is tulip_mt against"), "{table}");

        // smol_mt alone: its column, but no multi-thread ratios.
        let table = super::table(
            &[row(
                "E3",
                &[(RuntimeId::Tulip, &[2.0]), (RuntimeId::SmolMt, &[1.0])],
            )],
            1,
        );
        let header = squeezed(table.lines().next().unwrap());
        assert!(header.contains("| smol | smol_mt | asyncio |"), "{table}");
        assert!(!header.contains("tulip_mt"), "{table}");
        assert!(!header.contains(MT_RATIO), "{table}");
        assert!(!header.contains(LOOP_VS_RUNTIME), "{table}");
        // smol_mt is not the loop's peer, even as the only one.
        let line = squeezed(table.lines().find(|line| line.starts_with("| E3")).unwrap());
        assert!(line.contains("| - | - | — | — |"), "{table}");

        // Neither: the table of before.
        let table = super::table(&[row("E3", &values[..1])], 1);
        for absent in [
            "tulip_mt",
            "smol_mt",
            MT_BEST_PEER,
            MT_RATIO,
            LOOP_VS_RUNTIME,
        ] {
            assert!(!table.contains(absent), "{absent}: {table}");
        }
    }

    #[test]
    fn json_has_the_multi_thread_ratios() {
        let json = json(&[row(
            "N1",
            &[
                (RuntimeId::Tulip, &[100.0]),
                (RuntimeId::TulipMt, &[150.0]),
                (RuntimeId::TokioMt, &[200.0]),
                (RuntimeId::SmolMt, &[120.0]),
                (RuntimeId::Smol, &[80.0]),
            ],
        )]);
        assert_eq!(json[0]["tulip"], 100.0);
        assert_eq!(json[0]["tulip_mt"], 150.0);
        assert!(json[0]["peers"].get("tulip_mt").is_none());
        assert_eq!(json[0]["peers"]["smol_mt"], 120.0);
        // The loop's best peer is tokio_mt, as before; smol_mt not a candidate.
        assert_eq!(json[0]["best_peer"], "tokio_mt");
        assert_eq!(json[0]["ratio"], 0.5);
        assert_eq!(json[0]["mt_best_peer"], "tokio_mt");
        assert_eq!(json[0]["mt_ratio"], 0.75);
        assert_eq!(json[0]["loop_vs_runtime"], 100.0 / 150.0);
        let json = super::json(&[row("N1", &[(RuntimeId::Tulip, &[1.0])])]);
        assert!(json[0]["tulip_mt"].is_null());
        assert!(json[0]["mt_best_peer"].is_null());
        assert!(json[0]["mt_ratio"].is_null());
        assert!(json[0]["loop_vs_runtime"].is_null());
    }

    #[test]
    fn notes_only_for_workloads_shown() {
        let shown = table(&[row("S3", &[(RuntimeId::Tulip, &[1.0])])], 1);
        assert!(shown.contains("Note S3:"), "{shown}");
        assert!(!shown.contains("Note M1:"), "{shown}");
        assert!(!shown.contains("Note S1"), "{shown}");
    }
}
