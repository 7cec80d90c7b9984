"""The report page: headline figures, one panel per chart, tables where a list reads better.

Each panel renders from `ReportData` alone; a panel whose mart is missing shows why, so a
partial pipeline still produces a useful page (and the test can tell a gap from a bug).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from csp.report import svg
from csp.report.data import ReportData, as_date

BANDS = (("healthy", "#3ca064"), ("at_risk", "#e0a030"), ("critical", "#d05a50"))
SEGMENTS = ("enterprise", "mid_market", "smb")

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#26323d;
margin:0;background:#f5f7f9}
header{background:#1f3a4d;color:#fff;padding:20px 32px}
header h1{margin:0;font-size:22px} header p{margin:4px 0 0;opacity:.8}
main{max-width:820px;margin:0 auto;padding:16px}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0 16px}
.kpi{background:#fff;border-radius:8px;padding:10px 14px;flex:1 1 120px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.kpi b{display:block;font-size:20px} .kpi span{font-size:12px;color:#5b6873}
section{background:#fff;border-radius:8px;padding:14px 18px;margin:0 0 16px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
section h2{font-size:16px;margin:0 0 4px} section p.note{margin:0 0 8px;color:#5b6873;
font-size:12px}
.missing{color:#8a5a00;background:#fff6e0;padding:8px 12px;border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e7ebef}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.band-healthy{color:#2c7a4b} .band-at_risk{color:#9a6a00} .band-critical{color:#b03a30}
svg .tick{font-size:11px;fill:#5b6873} svg .legend{font-size:11px;fill:#26323d}
svg .cell{font-size:10px;fill:#fff} svg .inbar{font-size:11px;fill:#fff}
"""


def render_report(data: ReportData, generated: str) -> str:
    """The whole HTML document: styles inline, charts as inline SVG, no script."""
    panels = "".join(render(data) for render in _PANEL_RENDERERS)
    as_of = data.as_of.isoformat() if data.as_of else "no health data yet"
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Customer success report, {escape(as_of)}</title>"
            f"<style>{STYLE}</style></head><body><header><h1>Customer success report</h1>"
            f"<p>As of {escape(as_of)} · generated {escape(generated)}</p></header><main>"
            f"{_kpis(data)}{panels}</main></body></html>")


def _panel(panel_id: str, title: str, note: str, body: str) -> str:
    return (f"<section id='{panel_id}' class='panel'><h2>{escape(title)}</h2>"
            f"<p class='note'>{escape(note)}</p>{body}</section>")


def _missing(data: ReportData, panel: str) -> str | None:
    reason = data.missing.get(panel)
    return f"<p class='missing'>Not available: {escape(reason)}.</p>" if reason else None


def _kpis(data: ReportData) -> str:
    figures: list[tuple[str, str]] = []
    if data.retention:
        last = data.retention[-1]
        figures += [("MRR", svg.money(_num(last["mrr_end"]))),
                    ("ARR", svg.money(_num(last["mrr_end"]) * 12))]
        for key, label in (("nrr_trailing_12m", "NRR, trailing 12 months"),
                           ("grr_trailing_12m", "GRR, trailing 12 months")):
            if last[key] is not None:
                figures.append((label, f"{_num(last[key]):.1%}"))
    if data.health_by_segment:
        at_risk = sum(r["accounts"] for r in data.health_by_segment
                      if r["health_band"] != "healthy")
        figures.append(("accounts not healthy", str(at_risk)))
    if data.renewals:
        figures.append(("ARR renewing in 90 days",
                        svg.money(sum(_num(r["arr"]) for r in data.renewals))))
    cards = "".join(f"<div class='kpi'><b>{escape(v)}</b><span>{escape(k)}</span></div>"
                    for k, v in figures)
    return f"<div class='kpis'>{cards}</div>"


def _waterfall(data: ReportData) -> str:
    body = _missing(data, "retention")
    if body is None:
        rows = data.retention
        months = [_month(r["month"]) for r in rows]
        gains = [svg.Series(name, color, [_num(r[key]) for r in rows]) for key, name, color in
                 (("mrr_new", "new", "#3c78b4"), ("mrr_reactivation", "reactivation", "#7a5cb0"),
                  ("mrr_expansion", "expansion", "#3ca064"))]
        losses = [svg.Series(name, color, [abs(_num(r[key])) for r in rows])
                  for key, name, color in (("mrr_contraction", "contraction", "#e0a030"),
                                           ("mrr_churned", "churn", "#d05a50"))]
        body = svg.waterfall_by_month(months, [_num(r["mrr_start"]) for r in rows], gains,
                                      losses, [_num(r["mrr_end"]) for r in rows],
                                      "MRR waterfall by month")
    return _panel("mrr-waterfall", "MRR waterfall by month",
                  "Each month bridges starting MRR (grey) to ending MRR (line): new, "
                  "reactivated and expansion MRR up; contraction and churn down. The axis "
                  "starts near the lowest MRR shown.", body)


def _nrr_grr(data: ReportData) -> str:
    body = _missing(data, "retention")
    if body is None:
        rows = data.retention
        series = [svg.Series(name, color, [_opt(r[key]) for r in rows]) for key, name, color in
                  (("nrr", "NRR (month)", "#9cc3e6"), ("grr", "GRR (month)", "#f0c58a"),
                   ("nrr_trailing_12m", "NRR, trailing 12m", "#1f6fb2"),
                   ("grr_trailing_12m", "GRR, trailing 12m", "#c07a10"))]
        body = svg.line_chart([_month(r["month"]) for r in rows], series, "NRR and GRR trend",
                              reference=1.0)
    return _panel("nrr-grr", "NRR and GRR trend",
                  "Net and gross revenue retention over the accounts paying at the start of "
                  "the period; new and reactivated revenue excluded. Dashed line: 100 %.", body)


def _cohort_heatmap(data: ReportData) -> str:
    body = _missing(data, "cohorts")
    if body is None:
        cohorts = [_month(m) for m in sorted({as_date(r["cohort_month"]) for r in data.cohorts})]
        ages = sorted({int(r["months_since_start"]) for r in data.cohorts})
        cells = {(cohorts.index(_month(r["cohort_month"])), ages.index(int(
            r["months_since_start"]))): _num(r["revenue_retention"])
                 for r in data.cohorts if r["revenue_retention"] is not None}
        body = svg.heatmap(cohorts, [str(a) for a in ages], cells, "Cohort revenue retention")
    return _panel("cohort-retention", "Cohort retention",
                  "Revenue retention of each monthly cohort (rows) by months since its "
                  "first paid month (columns), in percent of its starting MRR.", body)


def _health_distribution(data: ReportData) -> str:
    body = _missing(data, "health_by_segment")
    if body is None:
        counts = {(r["segment"], r["health_band"]): r["accounts"]
                  for r in data.health_by_segment}
        series = [svg.Series(band, color, [counts.get((s, band), 0) for s in SEGMENTS])
                  for band, color in BANDS]
        body = svg.stacked_hbars(SEGMENTS, series, "Health distribution by segment")
    return _panel("health-distribution", "Health distribution by segment",
                  "Accounts per health band on the report date.", body)


def _backtest(data: ReportData) -> str:
    body = _missing(data, "backtest")
    if body is None:
        by_band = {r["health_band"]: r for r in data.backtest}
        rates = [_rate(by_band.get(band)) for band, _ in BANDS]
        body = svg.bar_chart([band for band, _ in BANDS],
                             [svg.Series("churned within 90 days", "#d05a50", rates)],
                             "Health backtest: churn by band", formatter=svg.percent)
        months = max((int(r["months"]) for r in data.backtest), default=0)
        body += (f"<p class='note'>Pooled over {months} months of history: the band an "
                 f"account was in at the start of a month, and whether it churned in the "
                 f"90 days after.</p>")
    return _panel("health-backtest", "Health backtest (churn by band)",
                  "Does the score predict churn? The lower bands should churn more.", body)


def _csm_at_risk(data: ReportData) -> str:
    body = _missing(data, "csm_book")
    if body is None:
        rows = data.csm_book
        names = [str(r["csm"]).split("@")[0] for r in rows]
        body = svg.bar_chart(names, [svg.Series("ARR", "#9cc3e6", [_num(r["arr"]) for r in rows]),
                                     svg.Series("at-risk ARR", "#d05a50",
                                                [_num(r["at_risk_arr"]) for r in rows])],
                             "At-risk ARR by CSM")
    return _panel("csm-at-risk", "At-risk ARR by CSM",
                  "Each CSM's book: total ARR and the ARR of accounts not healthy.", body)


def _renewals(data: ReportData) -> str:
    body = _missing(data, "renewals")
    if body is None:
        lines = "".join(
            f"<tr><td>{escape(str(r['renewal_date']))}</td><td>{escape(str(r['account']))}"
            f"</td><td>{escape(str(r['segment']))}</td><td class='num'>"
            f"{svg.money(_num(r['arr']))}</td><td class='band-{escape(str(r['health_band']))}'>"
            f"{escape(_score(r['health_score']))} {escape(str(r['health_band'] or ''))}</td>"
            f"<td>{escape(str(r['csm_email'] or ''))}</td></tr>" for r in data.renewals)
        body = ("<table><thead><tr><th>renewal</th><th>account</th><th>segment</th>"
                "<th>ARR</th><th>health</th><th>CSM</th></tr></thead>"
                f"<tbody>{lines}</tbody></table>")
    return _panel("renewals", "Renewals in the next 90 days",
                  "Paying accounts whose renewal falls in the next 90 days, with today's "
                  "health.", body)


def _alerts(data: ReportData) -> str:
    parts = []
    for panel, headers, keys in (
            ("deliveries", ("rule", "kind", "status", "actions"),
             ("rule", "kind", "status", "actions")),
            ("save_outcomes", ("rule", "outcome", "accounts", "MRR at risk", "MRR saved"),
             ("rule", "outcome", "accounts", "mrr_at_risk", "mrr_saved"))):
        missing = _missing(data, panel)
        if missing:
            parts.append(missing)
            continue
        head = "".join(f"<th>{escape(h)}</th>" for h in headers)
        rows = "".join("<tr>" + "".join(_cell(r[k]) for k in keys) + "</tr>"
                       for r in getattr(data, panel))
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return _panel("alerts", "Alerts sent and their outcomes",
                  "Actions delivered by the activation stage, and what became of the "
                  "accounts flagged at risk.", "".join(parts))


def _cell(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"<td class='num'>{value:,.0f}</td>"
    if value is not None and not isinstance(value, str):
        return f"<td class='num'>{_num(value):,.0f}</td>"
    return f"<td>{escape(value or '')}</td>"


def _num(value: Any) -> float:
    return float(value) if value is not None else 0.0


def _opt(value: Any) -> float | None:
    return float(value) if value is not None else None


def _score(value: Any) -> str:
    return f"{float(value):.0f}" if value is not None else "–"


def _rate(row: dict[str, Any] | None) -> float:
    if not row or not row["accounts"]:
        return 0.0
    return float(row["churned_90d"]) / float(row["accounts"])


def _month(value: Any) -> str:
    return as_date(value).strftime("%b %y")


_PANEL_RENDERERS: tuple[Callable[[ReportData], str], ...] = (
    _waterfall, _nrr_grr, _cohort_heatmap, _health_distribution, _backtest, _csm_at_risk,
    _renewals, _alerts)
