//! Turns the stream of directives into sections: recognises section
//! headers, picks the defaults a proxy starts from, and dispatches every
//! other line to its section's keyword table.
use crate::ast::*;
use crate::diag::{Diagnostic, Loc};
use crate::keywords::{self, global, proxy, sections};
use crate::source::Span;

/// The section whose lines are being read.
enum Current {
    None,
    Global,
    Proxy(Box<Proxy>),
    Userlist(Userlist),
    HttpErrors(HttpErrors),
    /// A section this build does not support; its lines are not read.
    Unsupported(OtherSection),
    /// A proxy section whose header was refused: HAProxy has no proxy to
    /// apply its lines to and says so on each of them.
    Refused,
}

/// Section keywords and whether this build reads them.
const SECTIONS: &[(&str, Option<&str>)] = &[
    ("backend", None),
    ("cache", Some("caching")),
    ("defaults", None),
    ("fcgi-app", Some("FastCGI")),
    ("frontend", None),
    ("global", None),
    ("http-errors", None),
    ("listen", None),
    ("log-forward", Some("log forwarding")),
    ("mailers", Some("email alerts")),
    ("peers", Some("peers")),
    ("program", Some("external programs")),
    ("resolvers", Some("DNS resolvers")),
    ("ring", Some("rings")),
    ("userlist", None),
];

pub struct Builder {
    pub config: Config,
    pub diags: Vec<Diagnostic>,
    /// Fatal errors of the last line beyond the one the reader counts for
    /// any failed line: 2.6 counts a refused `no`/`default` prefix on its
    /// own, then the keyword's error.
    pub extra_fatal: u32,
    cur: Current,
}

/// The keywords 2.6 lets `no` and `default` prefix (any section).
const MODIFIABLE: &[&str] = &[
    "option",
    "log",
    "busy-polling",
    "set-dumpable",
    "strict-limits",
    "insecure-fork-wanted",
    "numa-cpu-mapping",
];

/// A line's `no`/`default` prefix (2.6's `kwm`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Modifier {
    Std,
    No,
    Default,
}

/// 2.6 drops a leading `no` (the line ends with an empty word when nothing
/// followed it), and drops a leading `default` by shifting the words left,
/// which leaves the last word twice (`default log` reads `log log`).
fn strip_modifier(d: &Directive) -> (Modifier, Directive) {
    let mut out = d.clone();
    match d.word(0) {
        "no" => {
            out.words.remove(0);
            if out.words.is_empty() {
                let mut w = d.words[0].clone();
                w.text.clear();
                out.words.push(w);
            }
            (Modifier::No, out)
        }
        "default" => {
            if d.len() > 1 {
                out.words.remove(0);
                out.words.push(d.words[d.len() - 1].clone());
            }
            (Modifier::Default, out)
        }
        _ => (Modifier::Std, out),
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            config: Config::default(),
            diags: Vec::new(),
            extra_fatal: 0,
            cur: Current::None,
        }
    }
}

impl Builder {
    /// Sections do not carry over from one file to the next.
    pub fn start_file(&mut self) {
        self.close_section();
    }

    /// The name `${.SECTION}` expands to.
    pub fn section_name(&self) -> String {
        match &self.cur {
            Current::None => String::new(),
            Current::Global => "global".into(),
            Current::Proxy(p) => p.kind.section().into(),
            Current::Userlist(_) => "userlist".into(),
            Current::HttpErrors(_) => "http-errors".into(),
            Current::Unsupported(o) => o.kind.clone(),
            Current::Refused => String::new(),
        }
    }

    pub fn finish(&mut self) -> Config {
        self.close_section();
        std::mem::take(&mut self.config)
    }

    fn close_section(&mut self) {
        match std::mem::replace(&mut self.cur, Current::None) {
            Current::Proxy(p) => {
                if p.kind == ProxyKind::Defaults {
                    self.config.defaults.push(*p);
                } else {
                    self.config.proxies.push(*p);
                }
            }
            Current::Userlist(u) => self.config.userlists.push(u),
            Current::HttpErrors(h) => self.config.http_errors.push(h),
            Current::Unsupported(o) => self.config.other_sections.push(o),
            Current::None | Current::Global | Current::Refused => {}
        }
    }

    /// Applies one directive (a line that is not a `.` directive).
    pub fn line(&mut self, orig: Directive) {
        let (kwm, d) = strip_modifier(&orig);
        if kwm == Modifier::Std {
            self.line_kwm(Modifier::Std, orig);
            return;
        }
        if !MODIFIABLE.contains(&d.word(0)) {
            self.diags.push(Diagnostic::alert(
                Loc::ParsingTight(d.span.clone()),
                "negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
            ));
            let before = self.diags.len();
            self.line_kwm(Modifier::Std, d);
            if self.diags[before..].iter().any(Diagnostic::is_fatal) {
                self.extra_fatal += 1;
            }
            return;
        }
        // The keywords that look at the prefix see it as their first word
        // (`no option x`, `default option x x`); the others read the line
        // as 2.6 left it.
        let keeps_prefix = match (&self.cur, d.word(0)) {
            (Current::Proxy(_), "option") => true,
            (Current::Proxy(_) | Current::Global, "log") => kwm == Modifier::No,
            (Current::Global, "option") => false,
            (Current::Global, _) => kwm == Modifier::No,
            _ => false,
        };
        if keeps_prefix {
            let mut words = vec![orig.words[0].clone()];
            words.extend(d.words);
            self.line_kwm(
                kwm,
                Directive {
                    words,
                    span: d.span,
                },
            );
        } else {
            self.line_kwm(Modifier::Std, d);
        }
    }

    /// Applies a line whose first word is its keyword, or (`kwm` not `Std`)
    /// the `no`/`default` prefix of a keyword that takes it.
    fn line_kwm(&mut self, kwm: Modifier, d: Directive) {
        let kw = d.word(0);
        if let Some((name, unsupported)) = SECTIONS.iter().find(|(n, _)| *n == kw) {
            self.close_section();
            self.start_section(name, *unsupported, d);
            return;
        }
        let modified = kwm != Modifier::Std;
        match &mut self.cur {
            Current::None => self.diags.push(Diagnostic::alert(
                Loc::ParsingTight(d.span.clone()),
                format!("unknown keyword '{kw}' out of section."),
            )),
            Current::Global => {
                global::apply_kwm(&mut self.config.global, &d, modified, &mut self.diags)
            }
            Current::Proxy(_)
                if is_experimental(&d)
                    && !self
                        .config
                        .global
                        .directives
                        .iter()
                        .any(|g| g.word(0) == "expose-experimental-directives") =>
            {
                // 2.6 stops reading the file here.
                self.diags.push(Diagnostic::abort(
                    Loc::Parsing(d.span.clone()),
                    format!("'{}' action is experimental, must be allowed via a global 'expose-experimental-directives'", d.word(1)),
                ));
            }
            Current::Proxy(p) => {
                proxy::apply_kwm(p, &d, modified, &mut self.diags);
                if d.word(0) == "stats"
                    && d.word(1) == "show-desc"
                    && d.len() == 2
                    && !self
                        .config
                        .global
                        .directives
                        .iter()
                        .any(|g| g.word(0) == "description")
                {
                    self.diags.push(Diagnostic::warning(
                        Loc::ParsingTight(d.span.clone()),
                        "'show-desc' requires a parameter or 'desc' to be set in the global section.",
                    ));
                }
                if d.word(0) == "id" {
                    // Custom ids are unique among all proxies.
                    let clash = p.custom_id.and_then(|id| {
                        self.config.proxies.iter().find(|o| o.custom_id == Some(id))
                    });
                    if let Some(o) = clash {
                        self.diags.push(Diagnostic::alert(
                            Loc::ParsingTight(d.span.clone()),
                            format!(
                                "{} {} reuses same custom id as {} {} (declared at {}).",
                                p.kind.label(),
                                p.name,
                                o.kind.label(),
                                o.name,
                                o.span
                            ),
                        ));
                    }
                }
            }
            Current::Userlist(u) => sections::apply_userlist(u, &d, &mut self.diags),
            Current::HttpErrors(h) => sections::apply_http_errors(h, &d, &mut self.diags),
            Current::Unsupported(o) => o.directives.push(d),
            Current::Refused => self.diags.push(Diagnostic::alert(
                Loc::Parsing(d.span.clone()),
                "'listen' or 'defaults' expected.",
            )),
        }
    }

    fn start_section(&mut self, name: &'static str, unsupported: Option<&str>, d: Directive) {
        let span = d.span.clone();
        if let Some(feature) = unsupported {
            self.diags.push(Diagnostic::alert(
                Loc::Parsing(span.clone()),
                format!("'{name}' sections are not supported by this build of haproxy-rs yet ({feature})."),
            ));
            self.cur = Current::Unsupported(OtherSection {
                kind: name.into(),
                name: d.word(1).into(),
                span,
                directives: Vec::new(),
            });
            return;
        }
        match name {
            "global" => {
                if d.len() > 1 {
                    self.diags.push(Diagnostic::alert(
                        Loc::Parsing(span),
                        format!(
                            "'global' cannot handle unexpected argument '{}'.",
                            d.word(1)
                        ),
                    ));
                }
                self.cur = Current::Global;
            }
            "userlist" => {
                if d.len() < 2 {
                    self.diags.push(Diagnostic::alert(
                        Loc::ParsingTight(span.clone()),
                        "'userlist' expects <name> as arguments.",
                    ));
                }
                self.cur = Current::Userlist(Userlist {
                    name: d.word(1).into(),
                    span,
                    groups: Vec::new(),
                    users: Vec::new(),
                });
            }
            "http-errors" => {
                if d.len() < 2 {
                    self.diags.push(Diagnostic::alert(
                        Loc::Parsing(span.clone()),
                        "missing name for http-errors section.",
                    ));
                }
                self.cur = Current::HttpErrors(HttpErrors {
                    name: d.word(1).into(),
                    span,
                    errorfiles: Vec::new(),
                });
            }
            _ => self.start_proxy(name, d),
        }
    }

    /// `frontend|backend|listen <name> [from <defaults>]`, `defaults [<name>] [from <defaults>]`
    fn start_proxy(&mut self, section: &str, d: Directive) {
        let kind = match section {
            "defaults" => ProxyKind::Defaults,
            "frontend" => ProxyKind::Frontend,
            "backend" => ProxyKind::Backend,
            _ => ProxyKind::Listen,
        };
        let span = d.span.clone();
        let mut args: Vec<&str> = d.rest(1).collect();
        let mut from = None;
        if let Some(i) = args.iter().position(|a| *a == "from") {
            from = Some(args.get(i + 1).copied().unwrap_or(""));
            args.truncate(i);
        }
        let name = args.first().copied().unwrap_or("");
        if kind != ProxyKind::Defaults && name.is_empty() {
            self.diags.push(Diagnostic::abort(
                Loc::Parsing(span),
                format!("'{section}' expects an <id> argument"),
            ));
            return;
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c)))
        {
            self.diags.push(Diagnostic::alert(
                Loc::Parsing(span.clone()),
                format!("character '{c}' is not permitted in '{section}' name '{name}'."),
            ));
        }
        // HAProxy 1.5 took the listening address on the section line
        // (`listen app 0.0.0.0:8080`); 2.x refuses it, we run it as a `bind`.
        let mut header_bind = None;
        if args.len() > 1 {
            let looks_like_address = crate::addr::parse_address(
                args[1],
                crate::addr::AddrRules {
                    port_required: true,
                    port_range_ok: true,
                    ..Default::default()
                },
            )
            .is_ok();
            if kind.has_frontend()
                && kind != ProxyKind::Defaults
                && args.len() == 2
                && looks_like_address
            {
                let mut words = vec![d.words[0].clone(), d.words[2].clone()];
                words[0].text = "bind".into();
                header_bind = Some(Directive {
                    words,
                    span: span.clone(),
                });
            } else {
                self.diags.push(Diagnostic::alert(
                    Loc::Parsing(span.clone()),
                    "please use the 'bind' keyword for listening addresses.",
                ));
                self.cur = Current::Refused;
                return;
            }
        }
        if kind != ProxyKind::Defaults {
            self.check_duplicate(kind, name, &span);
        }
        let label = kind.label();
        let base = match from {
            Some(dname) => {
                let found: Vec<&Proxy> = self
                    .config
                    .defaults
                    .iter()
                    .filter(|p| !dname.is_empty() && p.name == dname)
                    .collect();
                match found.as_slice() {
                    [] => {
                        let owner = if kind == ProxyKind::Defaults {
                            "defaults"
                        } else {
                            label
                        };
                        self.diags.push(Diagnostic::abort(
                            Loc::Parsing(span),
                            format!("defaults section '{dname}' not found for {owner} '{name}'."),
                        ));
                        return;
                    }
                    [one] => Some((*one).clone()),
                    [a, b, ..] => {
                        self.diags.push(Diagnostic::alert(
                            Loc::Parsing(span.clone()),
                            format!(
                                "ambiguous defaults section name '{dname}' referenced by {label} '{name}' exists at least at {} and {}.",
                                a.span, b.span
                            ),
                        ));
                        None
                    }
                }
            }
            None if kind == ProxyKind::Defaults => None,
            None => self.config.defaults.last().cloned(),
        };
        let mut proxy = match base {
            Some(def) => Proxy::inherit(kind, name.into(), span, &def),
            None => Proxy::new(kind, name.into(), span),
        };
        if let Some(bind) = header_bind {
            let before = self.diags.len();
            proxy::apply(&mut proxy, &bind, &mut self.diags);
            if !self.diags[before..].iter().any(Diagnostic::is_fatal) {
                self.diags.push(Diagnostic::warning(
                    Loc::Parsing(bind.span.clone()),
                    format!(
                        "an address on the '{section}' line is HAProxy 1.5 syntax that HAProxy 2.x refuses; haproxy-rs runs it as 'bind {}'. Please update the configuration.",
                        bind.word(1)
                    ),
                ));
            }
        }
        self.cur = Current::Proxy(Box::new(proxy));
    }

    /// Two proxies clash when they share a capability: frontend/frontend,
    /// backend/backend, or a listen with anything.
    fn check_duplicate(&mut self, kind: ProxyKind, name: &str, span: &Span) {
        let clash = |other: ProxyKind| {
            (kind.has_frontend() && other.has_frontend())
                || (kind.has_backend() && other.has_backend())
        };
        if let Some(prev) = self
            .config
            .proxies
            .iter()
            .find(|p| p.name == name && clash(p.kind))
        {
            self.diags.push(Diagnostic::alert(
                Loc::ParsingCap(span.clone()),
                format!(
                    "{} '{name}' has the same name as {} '{name}' declared at {}.",
                    kind.label(),
                    prev.kind.label(),
                    prev.span
                ),
            ));
        }
    }
}

/// Rule actions 2.6 only accepts with `expose-experimental-directives`.
fn is_experimental(d: &Directive) -> bool {
    d.word(0) == "http-request" && d.word(1) == "normalize-uri"
}

/// Re-exported for the keyword modules' tests.
pub use keywords::Cx;
