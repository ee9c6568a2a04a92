//! The HTML statistics page: the layout, classes and colours operators
//! know from HAProxy (one table per proxy, a row per frontend, server and
//! backend, tooltips with the details, the admin form), written here from
//! the rows of the statistics.
use super::fields::{server_status, Kind, Row};
use super::page::Options;
use crate::model::StatsPage;
use crate::worker::Shared;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// The style sheet: the class names and colours of HAProxy's page (light,
/// and dark when the browser prefers it).
const STYLE: &str = r#"body { font-family: arial, helvetica, sans-serif; font-size: 12px; font-weight: normal; color: black; background: white; }
th, td { font-size: 10px; }
h1 { font-size: x-large; margin-bottom: 0.5em; }
h2 { font-family: helvetica, arial; font-size: x-large; font-weight: bold; font-style: italic; color: #6020a0; margin-top: 0em; margin-bottom: 0em; }
h3 { font-family: helvetica, arial; font-size: 16px; font-weight: bold; color: #b00040; background: #e8e8d0; margin-top: 0em; margin-bottom: 0em; }
li { margin-top: 0.25em; margin-right: 2em; }
.hr { margin-top: 0.25em; border-color: black; border-bottom-style: solid; }
.titre { background: #20D0D0; color: #000000; font-weight: bold; text-align: center; }
.total { background: #20D0D0; color: #ffff80; }
.frontend { background: #e8e8d0; }
.socket { background: #d0d0d0; }
.backend { background: #e8e8d0; }
.active_down { background: #ff9090; }
.active_going_up { background: #ffd020; }
.active_going_down { background: #ffffa0; }
.active_up { background: #c0ffc0; }
.active_nolb { background: #20a0ff; }
.active_draining { background: #20a0FF; }
.active_no_check { background: #e0e0e0; }
.backup_down { background: #ff9090; }
.backup_going_up { background: #ff80ff; }
.backup_going_down { background: #c060ff; }
.backup_up { background: #b0d0ff; }
.backup_nolb { background: #90b0e0; }
.backup_draining { background: #cc9900; }
.backup_no_check { background: #e0e0e0; }
.maintain { background: #c07820; }
.rls { letter-spacing: 0.2em; margin-right: 1px; }
a.px:link, a.px:visited { color: #ffff40; text-decoration: none; }
a.px:hover { color: #ffffff; text-decoration: none; }
a.lfsb:link, a.lfsb:visited { color: #000000; text-decoration: none; }
a.lfsb:hover { color: #505050; text-decoration: none; }
table.tbl { border-collapse: collapse; border-style: none; }
table.tbl td { text-align: right; border-width: 1px; border-style: solid; padding: 2px 3px; border-color: gray; white-space: nowrap; }
table.tbl td.ac { text-align: center; }
table.tbl th { border-width: 1px; border-style: solid; border-color: gray; }
table.tbl th.pxname { background: #b00040; color: #ffff40; font-weight: bold; border-style: solid solid none solid; padding: 2px 3px; white-space: nowrap; }
table.tbl th.empty { border-style: none; empty-cells: hide; background: white; }
table.tbl th.desc { background: white; border-style: solid solid none solid; text-align: left; padding: 2px 3px; }
table.lgd { border-collapse: collapse; border-width: 1px; border-style: none none none solid; border-color: black; }
table.lgd td { border-width: 1px; border-style: solid; border-color: gray; padding: 2px; }
table.lgd td.noborder { border-style: none; padding: 2px; white-space: nowrap; }
table.det { border-collapse: collapse; border-style: none; }
table.det th { text-align: left; border-width: 0px; padding: 0px 1px 0px 0px; font-style: normal; font-size: 11px; font-weight: bold; font-family: sans-serif; }
table.det td { text-align: right; border-width: 0px; padding: 0px 0px 0px 4px; white-space: nowrap; font-style: normal; font-size: 11px; font-weight: normal; }
u { text-decoration: none; border-bottom: 1px dotted black; }
div.tips { display: block; visibility: hidden; z-index: 2147483647; position: absolute; padding: 2px 4px 3px; background: #f0f060; color: #000000; border: 1px solid #7040c0; white-space: nowrap; font-style: normal; font-size: 11px; font-weight: normal; border-radius: 3px; box-shadow: gray 2px 2px 3px; }
u:hover div.tips { visibility: visible; }
@media (prefers-color-scheme: dark) {
 body { color: #e8e6e3; background: #131516; }
 h1 { color: #a265e0 !important; }
 h2 { color: #a265e0; }
 h3 { color: #ff5190; background-color: #3e3e1f; }
 a { color: #3391ff; }
 input { background-color: #2f3437; }
 .hr { border-color: #8c8273; }
 .titre { background-color: #1aa6a6; color: #e8e6e3; }
 .frontend, .backend { background: #2f3437; }
 .socket { background: #2a2d2f; }
 .active_down, .backup_down { background: #760000; }
 .active_going_up { background: #b99200; }
 .active_going_down { background: #6c6c00; }
 .active_up { background: #165900; }
 .active_nolb, .active_draining { background: #006ab9; }
 .active_no_check, .backup_no_check { background: #2a2d2f; }
 .backup_going_up { background: #7f007f; }
 .backup_going_down { background: #580092; }
 .backup_up { background: #2e3234; }
 .backup_nolb { background: #1e3c6a; }
 .backup_draining { background: #a37a00; }
 .maintain { background: #9a601a; }
 a.px:link, a.px:visited { color: #d8d83b; }
 a.px:hover { color: #ffffff; }
 a.lfsb:link, a.lfsb:visited { color: #e8e6e3; }
 a.lfsb:hover { color: #b5afa6; }
 table.tbl th.empty { background-color: #181a1b; }
 table.tbl th.desc { background: #181a1b; }
 table.tbl th.pxname { background-color: #8d0033; color: #ffff46; }
 table.tbl th, table.tbl td { border-color: #808080; }
 u { border-bottom: 1px dotted #e8e6e3; }
 div.tips { background: #8e8e0d; color: #e8e6e3; border-color: #4e2c86; box-shadow: #60686c 2px 2px 3px; }
}
"#;

/// HTML-escaped text.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A number with its thousands set apart (`<span class="rls">9</span>985`).
fn num(n: u64) -> String {
    let s = n.to_string();
    if s.len() <= 3 {
        return s;
    }
    let head = s.len() % 3;
    let mut out = String::new();
    let mut i = 0;
    if head > 0 {
        let _ = write!(out, "<span class=\"rls\">{}</span>", &s[..head]);
        i = head;
    }
    while i + 3 < s.len() {
        let _ = write!(out, "<span class=\"rls\">{}</span>", &s[i..i + 3]);
        i += 3;
    }
    out.push_str(&s[i..]);
    out
}

/// A duration in seconds as the page prints it (`1h02m`, `5s`).
fn human(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m{}s", secs / 60, secs % 60),
        3600..=86399 => format!("{}h{}m", secs / 3600, (secs / 60) % 60),
        _ => format!("{}d{}h", secs / 86400, (secs / 3600) % 24),
    }
}

/// A tooltip table of (label, value) lines.
fn tips(lines: &[(&str, String)]) -> String {
    let mut o = String::from("<div class=tips><table class=det>");
    for (k, v) in lines {
        let _ = write!(o, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    o.push_str("</table></div>");
    o
}

fn pct(part: u64, whole: u64) -> String {
    format!("({}%)", part * 100 / whole.max(1))
}

/// The whole page.
pub fn render(sh: &Shared, page: &StatsPage, o: &Options, rows: &[Row], admin: bool) -> String {
    let mut h = String::with_capacity(32 * 1024);
    let node = page.node.as_deref();
    let title = match node {
        Some(n) => format!("Statistics Report for HAProxy on {}", esc(n)),
        None => "Statistics Report for HAProxy".to_string(),
    };
    let _ = write!(
        h,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"\n\"http://www.w3.org/TR/html4/loose.dtd\">\n<html><head><title>{title}</title>\n<link rel=\"icon\" href=\"data:,\">\n<meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\">\n<style type=\"text/css\"><!--\n{STYLE}-->\n</style></head>\n<body>"
    );
    header(&mut h, sh, page, o);
    if let Some(st) = &o.status {
        status_message(&mut h, page, st);
    }
    let mut i = 0;
    while i < rows.len() {
        // The rows of one proxy.
        let iid = rows[i].iid;
        let j = rows[i..]
            .iter()
            .position(|r| r.iid != iid)
            .map_or(rows.len(), |n| i + n);
        proxy_table(&mut h, sh, page, &rows[i..j], admin);
        i = j;
    }
    h.push_str("</body></html>\n");
    h
}

fn header(h: &mut String, sh: &Shared, page: &StatsPage, o: &Options) {
    let st = &sh.stats;
    if page.hide_version {
        h.push_str("<h1><a href=\"http://www.haproxy.org/\" style=\"text-decoration: none;\">HAProxy</a></h1>\n");
    } else {
        let _ = writeln!(
            h,
            "<h1><a href=\"http://www.haproxy.org/\" style=\"text-decoration: none;\">HAProxy version {}, released {}</a></h1>",
            crate::version::VERSION,
            crate::version::RELEASE_DATE
        );
    }
    let pid = std::process::id();
    let mut h2 = format!("Statistics Report for pid {pid}");
    if let Some(n) = &page.node {
        let _ = write!(h2, " on {}", esc(n));
    }
    if let Some(d) = &page.desc {
        let _ = write!(h2, ": {}", esc(d));
    }
    let up = super::counters::now_ms().saturating_sub(st.started_ms) / 1000;
    let (maxpipes, used, free) = crate::tcp::pipes::usage();
    let now = super::counters::now_ms();
    let ulimit = super::info::ulimit_n();
    let _ = write!(
        h,
        "<h2>{h2}</h2>\n<hr width=\"100%\" class=\"hr\">\n<h3>&gt; General process information</h3>\n\
         <table border=0><tr><td align=\"left\" nowrap width=\"1%\">\n\
         <p><b>pid = </b> {pid} (process #1, nbproc = 1, nbthread = {})<br>\n\
         <b>uptime = </b> {}<br>\n\
         <b>system limits:</b> memmax = unlimited; ulimit-n = {ulimit}<br>\n\
         <b>maxsock = </b> {ulimit}; <b>maxconn = </b> {}; <b>maxpipes = </b> {maxpipes}<br>\n\
         current conns = {}; current pipes = {used}/{}; conn rate = {}/sec; bit rate = {:.3} kbps<br>\n\
         Running tasks: 0/{}; idle = 100 %<br>\n</td><td align=\"center\" nowrap>\n",
        st.threads,
        super::info::uptime(up),
        st.maxconn.get(),
        sh.active.load(Ordering::Relaxed),
        used + free,
        st.global.conn_rate.read(now),
        0.0,
        sh.active.load(Ordering::Relaxed) as u32 + st.listeners.load(Ordering::Relaxed),
    );
    h.push_str(
        "<table class=\"lgd\"><tr>\n\
         <td class=\"active_up\">&nbsp;</td><td class=\"noborder\">active UP </td><td class=\"backup_up\">&nbsp;</td><td class=\"noborder\">backup UP </td></tr><tr>\n\
         <td class=\"active_going_down\"></td><td class=\"noborder\">active UP, going down </td><td class=\"backup_going_down\"></td><td class=\"noborder\">backup UP, going down </td></tr><tr>\n\
         <td class=\"active_going_up\"></td><td class=\"noborder\">active DOWN, going up </td><td class=\"backup_going_up\"></td><td class=\"noborder\">backup DOWN, going up </td></tr><tr>\n\
         <td class=\"active_down\"></td><td class=\"noborder\">active or backup DOWN &nbsp;</td><td class=\"active_no_check\"></td><td class=\"noborder\">not checked </td></tr><tr>\n\
         <td class=\"maintain\"></td><td class=\"noborder\" colspan=\"3\">active or backup DOWN for maintenance (MAINT) &nbsp;</td></tr><tr>\n\
         <td class=\"active_draining\"></td><td class=\"noborder\" colspan=\"3\">active or backup SOFT STOPPED for maintenance &nbsp;</td></tr></table>\n\
         Note: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled.</td>",
    );
    // Display options: the links keep the other options as they are.
    let base = &page.uri;
    let up = if o.hide_down { ";up" } else { "" };
    let norefresh = page.refresh.is_some() && !o.no_refresh;
    let nr = if page.refresh.is_some() && o.no_refresh {
        ";norefresh"
    } else {
        ""
    };
    let export_nr = if page.refresh.is_some() {
        ";norefresh"
    } else {
        ""
    };
    let scope = o.scope.as_deref().unwrap_or("");
    let _ = writeln!(
        h,
        "<td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>Display option:</b><ul style=\"margin-top: 0.25em;\"><li><form method=\"GET\">Scope : <input value=\"{}\" name=\"scope\" size=\"8\" maxlength=\"20\" tabindex=\"1\"/></form>",
        esc(scope)
    );
    if o.hide_down {
        let _ = writeln!(h, "<li><a href=\"{base}{nr}\">Show all servers</a><br>");
    } else {
        let _ = writeln!(
            h,
            "<li><a href=\"{base};up{nr}\">Hide 'DOWN' servers</a><br>"
        );
    }
    if page.refresh.is_some() {
        if norefresh {
            let _ = writeln!(
                h,
                "<li><a href=\"{base}{up};norefresh\">Disable refresh</a><br>"
            );
        } else {
            let _ = writeln!(h, "<li><a href=\"{base}{up}\">Enable refresh</a><br>");
        }
    }
    let _ = write!(
        h,
        "<li><a href=\"{base}{up}{nr}\">Refresh now</a><br>\n\
         <li><a href=\"{base};csv{export_nr}\">CSV export</a><br>\n\
         <li><a href=\"{base};json{export_nr}\">JSON export</a> (<a href=\"{base};json-schema\">schema</a>)<br>\n</ul></td>"
    );
    h.push_str(
        "<td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>External resources:</b><ul style=\"margin-top: 0.25em;\">\n\
         <li><a href=\"http://www.haproxy.org/\">Primary site</a><br>\n\
         <li><a href=\"http://www.haproxy.org/#down\">Updates (v2.6)</a><br>\n\
         <li><a href=\"http://www.haproxy.org/#docs\">Online manual</a><br>\n</ul></td>",
    );
    h.push_str("</tr></table>\n");
}

/// The banner after an admin action (`;st=DONE` ...).
fn status_message(h: &mut String, page: &StatsPage, st: &str) {
    let (class, text) = match st {
        "DONE" => ("active_up", "The action was applied."),
        "PART" => (
            "active_going_down",
            "The action was applied to some servers only: the others are unknown or ambiguous.",
        ),
        "NONE" => ("active_going_down", "Nothing was changed."),
        "DENY" => ("active_down", "<b>The action is not allowed.</b>"),
        "ERRP" => (
            "active_down",
            "The action was not applied: unknown action, backend or servers, or invalid parameters.",
        ),
        "EXCD" => (
            "active_down",
            "<b>The action was not applied: the request was too large. Select fewer servers at a time.</b>",
        ),
        _ => ("active_no_check", "Unexpected result."),
    };
    let _ = writeln!(
        h,
        "<p><div class={class}><a class=lfsb href=\"{}\" title=\"Remove this message\">[X]</a> {text}</div><p>",
        page.uri
    );
}

/// The column headers of a proxy table.
fn column_heads(h: &mut String, admin: bool, be_name: Option<&str>) {
    h.push_str("<tr class=\"titre\">");
    if let (true, Some(b)) = (admin, be_name) {
        let _ = write!(
            h,
            "<th rowspan=2 width=1><input type=\"checkbox\" onclick=\"for(c in document.getElementsByClassName('{b}-checkbox')) document.getElementsByClassName('{b}-checkbox').item(c).checked = this.checked\"></th>"
        );
    } else if admin {
        h.push_str("<th rowspan=2></th>");
    }
    h.push_str("<th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th><th colspan=2>Bytes</th><th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>\n");
    h.push_str("<tr class=\"titre\"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th><th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th>\n</tr>");
}

fn proxy_table(h: &mut String, sh: &Shared, page: &StatsPage, rows: &[Row], admin: bool) {
    let name = rows[0].text("pxname");
    let e = esc(&name);
    let backend = rows.iter().find(|r| r.kind == Kind::Backend);
    let has_servers = rows.iter().any(|r| r.kind == Kind::Server);
    let form = admin && has_servers;
    if form {
        h.push_str("<form method=\"post\">");
    }
    h.push_str("<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%\">");
    let _ = write!(h, "<a name=\"{e}\"></a>");
    if page.show_legends {
        let fe = rows.iter().any(|r| r.kind == Kind::Frontend);
        let cap = match (fe, backend.is_some()) {
            (true, true) => "proxy",
            (true, false) => "frontend",
            _ => "backend",
        };
        let _ = write!(
            h,
            "<u><a class=px href=\"#{e}\">{e}</a><div class=tips>cap: {cap}, mode: {}, id: {}</div></u>",
            rows[0].text("mode"),
            rows[0].iid
        );
    } else {
        let _ = write!(h, "<a class=px href=\"#{e}\">{e}</a>");
    }
    h.push_str("</th><th class=\"empty\" width=\"90%\"></th></tr>\n</table>\n<table class=\"tbl\" width=\"100%\">\n");
    column_heads(h, admin, has_servers.then_some(name.as_str()));
    for r in rows {
        match r.kind {
            Kind::Frontend => frontend_row(h, r, admin),
            Kind::Server => server_row(h, sh, page, r, admin, &name),
            Kind::Backend => backend_row(h, page, r, admin),
        }
    }
    h.push_str("</table>");
    if form {
        let b = backend.map_or(0, |b| b.iid);
        let _ = write!(
            h,
            "Choose the action to perform on the checked servers : <select name=action><option value=\"\"></option><option value=\"ready\">Set state to READY</option><option value=\"drain\">Set state to DRAIN</option><option value=\"maint\">Set state to MAINT</option><option value=\"dhlth\">Health: disable checks</option><option value=\"ehlth\">Health: enable checks</option><option value=\"hrunn\">Health: force UP</option><option value=\"hnolb\">Health: force NOLB</option><option value=\"hdown\">Health: force DOWN</option><option value=\"dagent\">Agent: disable checks</option><option value=\"eagent\">Agent: enable checks</option><option value=\"arunn\">Agent: force UP</option><option value=\"adown\">Agent: force DOWN</option><option value=\"shutdown\">Kill Sessions</option></select><input type=\"hidden\" name=\"b\" value=\"#{b}\">&nbsp;<input type=\"submit\" value=\"Apply\"></form>"
        );
    }
    h.push_str("<p>\n");
}

/// The name cell of a row (a server's anchor precedes its tooltip).
fn name_cell(h: &mut String, px: &str, label: &str, anchor: &str, tip: Option<String>) {
    let a = format!("{}/{}", esc(px), esc(anchor));
    match tip {
        Some(t) if anchor == "Backend" => {
            let _ = write!(
                h,
                "<td class=ac><u><a name=\"{a}\"></a><a class=lfsb href=\"#{a}\">{}</a><div class=tips>{t}</div></u></td>",
                esc(label)
            );
        }
        Some(t) => {
            let _ = write!(
                h,
                "<td class=ac><a name=\"{a}\"></a><u><a class=lfsb href=\"#{a}\">{}</a><div class=tips>{t}</div></u></td>",
                esc(label)
            );
        }
        None => {
            let _ = write!(
                h,
                "<td class=ac><a name=\"{a}\"></a><a class=lfsb href=\"#{a}\">{}</a></td>",
                esc(label)
            );
        }
    }
}

fn http_lines(r: &Row, lines: &mut Vec<(&'static str, String)>, server: bool) {
    let req = r.num("req_tot");
    lines.push(("Cum. HTTP requests:", num(req)));
    for (label, f) in [
        ("- HTTP 1xx responses:", "hrsp_1xx"),
        ("- HTTP 2xx responses:", "hrsp_2xx"),
        ("- HTTP 3xx responses:", "hrsp_3xx"),
        ("- HTTP 4xx responses:", "hrsp_4xx"),
        ("- HTTP 5xx responses:", "hrsp_5xx"),
        ("- other responses:", "hrsp_other"),
    ] {
        if server {
            lines.push((
                label,
                format!("{}</td><td>{}", num(r.num(f)), pct(r.num(f), req)),
            ));
        } else {
            lines.push((label, num(r.num(f))));
        }
    }
}

fn frontend_row(h: &mut String, r: &Row, admin: bool) {
    let px = r.text("pxname");
    h.push_str("<tr class=\"frontend\">");
    if admin {
        h.push_str("<td></td>");
    }
    name_cell(h, &px, "Frontend", "Frontend", None);
    h.push_str("<td colspan=3></td>");
    let rates = tips(&[
        (
            "Current connection rate:",
            format!("{}/s", r.num("conn_rate")),
        ),
        ("Current session rate:", format!("{}/s", r.num("rate"))),
        ("Current request rate:", format!("{}/s", r.num("req_rate"))),
    ]);
    let maxes = tips(&[
        (
            "Max connection rate:",
            format!("{}/s", r.num("conn_rate_max")),
        ),
        ("Max session rate:", format!("{}/s", r.num("rate_max"))),
        ("Max request rate:", format!("{}/s", r.num("req_rate_max"))),
    ]);
    let _ = write!(
        h,
        "<td><u>{}{rates}</u></td><td><u>{}{maxes}</u></td><td>{}</td>",
        num(r.num("rate")),
        num(r.num("rate_max")),
        match r.num("rate_lim") {
            0 => "-".to_string(),
            n => num(n),
        }
    );
    let mut lines = vec![
        ("Cum. connections:", num(r.num("conn_tot"))),
        ("Cum. sessions:", num(r.num("stot"))),
    ];
    if r.get("hrsp_2xx").is_some() {
        http_lines(r, &mut lines, false);
        lines.push(("Intercepted requests:", num(r.num("intercepted"))));
    }
    lines.push(("Failed hdr rewrites:", num(r.num("wrew"))));
    lines.push(("Internal errors:", num(r.num("eint"))));
    let _ = write!(
        h,
        "<td>{}</td><td>{}</td><td>{}</td><td><u>{}{}</u></td><td></td><td></td>",
        num(r.num("scur")),
        num(r.num("smax")),
        num(r.num("slim")),
        num(r.num("stot")),
        tips(&lines)
    );
    let _ = write!(
        h,
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td></td><td></td><td></td><td></td><td class=ac>{}</td><td class=ac colspan=8></td></tr>",
        num(r.num("bin")),
        num(r.num("bout")),
        num(r.num("dreq")),
        num(r.num("dresp")),
        num(r.num("ereq")),
        esc(&r.text("status"))
    );
}

fn times_lines(r: &Row, lines: &mut Vec<(&'static str, String)>) {
    lines.push(("Max / Avg over last 1024 success. conn.", String::new()));
    for (label, max, avg) in [
        ("- Queue time:", "qtime_max", "qtime"),
        ("- Connect time:", "ctime_max", "ctime"),
        ("- Responses time:", "rtime_max", "rtime"),
        ("- Total time:", "ttime_max", "ttime"),
    ] {
        lines.push((label, format!("{} / {}</td><td>ms", r.num(max), r.num(avg))));
    }
}

fn server_row(h: &mut String, sh: &Shared, page: &StatsPage, r: &Row, admin: bool, px: &str) {
    let (b, s) = (r.px, r.srv);
    let srv = &sh.rt.backends[b].servers[s];
    let st = &sh.backends[b].servers[s];
    let chk = super::check::server_check(sh, b, s);
    let status = server_status(sh, b, s, &chk);
    let side = if srv.backup { "backup" } else { "active" };
    let class = if st.admin.maint() {
        "maintain".to_string()
    } else if !chk.up {
        format!("{side}_down")
    } else if st.admin.drain() {
        format!("{side}_draining")
    } else if st.admin.nolb.load(Ordering::Relaxed) {
        format!("{side}_nolb")
    } else if !chk.enabled {
        format!("{side}_no_check")
    } else if chk.health < chk.rise + chk.fall - 1 {
        format!("{side}_going_down")
    } else {
        format!("{side}_up")
    };
    let _ = write!(h, "<tr class=\"{class}\">");
    if admin {
        let _ = write!(
            h,
            "<td><input class='{}-checkbox' type=\"checkbox\" name=\"s\" value=\"{}\"></td>",
            esc(px),
            esc(&srv.name)
        );
    }
    let tip = page.show_legends.then(|| {
        let addr = r.text("addr");
        let fam = if addr.starts_with('[') {
            "IPv6"
        } else {
            "IPv4"
        };
        let mut t = format!("{fam}: {}, id: {}", esc(&addr), srv.id);
        if let Some(c) = &srv.cookie {
            let _ = write!(t, ", cookie: '{}'", esc(c));
        }
        t
    });
    name_cell(h, px, &srv.name, &srv.name, tip);
    let _ = write!(
        h,
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td></td>",
        num(r.num("qcur")),
        num(r.num("qmax")),
        srv.maxqueue.map_or("-".to_string(), |q| num(u64::from(q))),
        num(r.num("rate")),
        num(r.num("rate_max"))
    );
    let conns = tips(&[
        ("Current active connections:", num(r.num("scur"))),
        ("Current used connections:", num(r.num("used_conn_cur"))),
        ("Current idle connections:", num(r.num("srv_icur"))),
        ("- unsafe:", num(r.num("idle_conn_cur"))),
        ("- safe:", num(r.num("safe_conn_cur"))),
        (
            "Estimated need of connections:",
            num(r.num("need_conn_est")),
        ),
        (
            "Active connections limit:",
            srv.maxconn.map_or("-".to_string(), |m| num(u64::from(m))),
        ),
        ("Idle connections limit:", "-".to_string()),
    ]);
    let stot = r.num("stot");
    let mut lines = vec![
        ("Cum. sessions:", num(stot)),
        ("New connections:", num(r.num("connect"))),
        (
            "Reused connections:",
            format!(
                "{}</td><td>{}",
                num(r.num("reuse")),
                pct(r.num("reuse"), stot)
            ),
        ),
    ];
    if r.get("hrsp_2xx").is_some() {
        http_lines(r, &mut lines, true);
    }
    lines.push(("Failed hdr rewrites:", num(r.num("wrew"))));
    lines.push(("Internal error:", num(r.num("eint"))));
    times_lines(r, &mut lines);
    let last = match r.get("lastsess") {
        Some(super::fields::V::S32(n)) if *n >= 0 => human(*n as u64),
        _ => "?".to_string(),
    };
    let _ = write!(
        h,
        "<td><u>{}{conns}</u></td><td>{}</td><td>{}</td><td><u>{}{}</u></td><td>{}</td><td>{last}</td>",
        num(r.num("scur")),
        num(r.num("smax")),
        srv.maxconn.map_or("-".to_string(), |m| num(u64::from(m))),
        num(stot),
        tips(&lines),
        num(r.num("lbtot")),
    );
    let _ = write!(
        h,
        "<td>{}</td><td>{}</td><td></td><td>{}</td><td></td><td>{}</td><td><u>{}<div class=tips>Connection resets during transfers: {} client, {} server</div></u></td><td>{}</td><td>{}</td>",
        num(r.num("bin")),
        num(r.num("bout")),
        num(r.num("dresp")),
        num(r.num("econ")),
        num(r.num("eresp")),
        num(r.num("cli_abrt")),
        num(r.num("srv_abrt")),
        num(r.num("wretr")),
        num(r.num("wredis"))
    );
    // Server columns.
    let age = human(r.num("lastchg"));
    if status == "no check" {
        h.push_str("<td class=ac><i>no check</i></td><td></td>");
    } else {
        let _ = write!(h, "<td class=ac>{age} {}</td>", esc(&status));
        match (&chk.status, chk.enabled) {
            (Some(cs), true) => {
                let _ = write!(
                    h,
                    "<td class=ac><u> {} in {}ms<div class=tips>{}</div></u></td>",
                    esc(cs),
                    chk.duration_ms.unwrap_or(0),
                    esc(chk.desc.as_deref().unwrap_or(""))
                );
            }
            _ => h.push_str("<td></td>"),
        }
    }
    let yes = |b: bool| if b { "Y" } else { "-" };
    let _ = write!(
        h,
        "<td class=ac>{}/{}</td><td class=ac>{}</td><td class=ac>{}</td>",
        r.num("weight"),
        r.num("uweight"),
        yes(!srv.backup),
        yes(srv.backup)
    );
    if chk.enabled {
        let _ = write!(
            h,
            "<td><u>{}<div class=tips>Failed Health Checks</div></u></td><td>{}</td><td>{}</td>",
            num(r.num("chkfail")),
            num(r.num("chkdown")),
            human(r.num("downtime"))
        );
    } else {
        h.push_str("<td colspan=3></td>");
    }
    h.push_str("<td class=ac>-</td></tr>\n");
}

fn backend_row(h: &mut String, page: &StatsPage, r: &Row, admin: bool) {
    let px = r.text("pxname");
    h.push_str("<tr class=\"backend\">");
    if admin {
        h.push_str("<td></td>");
    }
    let tip = page
        .show_legends
        .then(|| format!("balancing: {}", esc(&r.text("algo"))));
    name_cell(h, &px, "Backend", "Backend", tip);
    let _ = write!(
        h,
        "<td>{}</td><td>{}</td><td></td><td>{}</td><td>{}</td><td></td>",
        num(r.num("qcur")),
        num(r.num("qmax")),
        num(r.num("rate")),
        num(r.num("rate_max"))
    );
    let stot = r.num("stot");
    let mut lines = vec![
        ("Cum. sessions:", num(stot)),
        ("New connections:", num(r.num("connect"))),
        (
            "Reused connections:",
            format!(
                "{}</td><td>{}",
                num(r.num("reuse")),
                pct(r.num("reuse"), stot)
            ),
        ),
    ];
    if r.get("hrsp_2xx").is_some() {
        http_lines(r, &mut lines, false);
    }
    lines.push(("Failed hdr rewrites:", num(r.num("wrew"))));
    lines.push(("Internal errors:", num(r.num("eint"))));
    times_lines(r, &mut lines);
    let last = match r.get("lastsess") {
        Some(super::fields::V::S32(n)) if *n >= 0 => human(*n as u64),
        _ => "?".to_string(),
    };
    let _ = write!(
        h,
        "<td>{}</td><td>{}</td><td>{}</td><td><u>{}{}</u></td><td>{}</td><td>{last}</td>",
        num(r.num("scur")),
        num(r.num("smax")),
        num(r.num("slim")),
        num(stot),
        tips(&lines),
        num(r.num("lbtot"))
    );
    let _ = write!(
        h,
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td></td><td>{}</td><td><u>{}<div class=tips>Connection resets during transfers: {} client, {} server</div></u></td><td>{}</td><td>{}</td>",
        num(r.num("bin")),
        num(r.num("bout")),
        num(r.num("dreq")),
        num(r.num("dresp")),
        num(r.num("econ")),
        num(r.num("eresp")),
        num(r.num("cli_abrt")),
        num(r.num("srv_abrt")),
        num(r.num("wretr")),
        num(r.num("wredis"))
    );
    let _ = write!(
        h,
        "<td class=ac>{} {}</td><td class=ac>&nbsp;</td><td class=ac>{}/{}</td><td class=ac>{}</td><td class=ac>{}</td><td class=ac>&nbsp;</td><td>{}</td><td>{}</td><td></td></tr>",
        human(r.num("lastchg")),
        esc(&r.text("status")),
        r.num("weight"),
        r.num("uweight"),
        r.num("act"),
        r.num("bck"),
        num(r.num("chkdown")),
        r.get("downtime").map_or("&nbsp;".to_string(), |_| human(r.num("downtime")))
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_ages() {
        assert_eq!(num(985), "985");
        assert_eq!(num(9985), "<span class=\"rls\">9</span>985");
        assert_eq!(
            num(1234567),
            "<span class=\"rls\">1</span><span class=\"rls\">234</span>567"
        );
        assert_eq!(human(10), "10s");
        assert_eq!(human(3725), "1h2m");
    }
}
