//! Keywords of the small sections this build reads: `userlist` and
//! `http-errors`.
use super::{did_you_mean, Cx};
use crate::ast::{Directive, HttpErrors, User, Userlist};
use crate::diag::{Diagnostic, Loc};

/// `group <name> [users <user>[,<user>...]]`,
/// `user <name> [password|insecure-password <pw>] [groups <g>[,<g>...]]`
pub fn apply_userlist(u: &mut Userlist, d: &Directive, diags: &mut Vec<Diagnostic>) {
    let cx = Cx { d, diags };
    let r = match d.word(0) {
        "group" => group(u, &cx),
        "user" => user(u, &cx),
        kw => {
            let hint = did_you_mean(kw, ["group", "user"]);
            Err(cx.alert(format!(
                "unknown keyword '{kw}' in 'userlist' section{hint}"
            )))
        }
    };
    if let Err(e) = r {
        diags.push(e);
    }
}

fn group(u: &mut Userlist, cx: &Cx) -> Result<(), Diagnostic> {
    let name = cx.word(1);
    if name.is_empty() {
        return Err(cx.alert("'group' expects <name> as arguments."));
    }
    if let Some(prev) = u.groups.iter().find(|g| g.0 == name) {
        return Err(cx.alert(format!(
            "group '{name}' in userlist '{}' already defined at line {}.",
            u.name, prev.2.line
        )));
    }
    let mut users = Vec::new();
    let mut i = 2;
    while i < cx.nwords() {
        match cx.word(i) {
            "users" => {
                users.extend(
                    cx.word(i + 1)
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(String::from),
                );
                i += 2;
            }
            _ => {
                return Err(Diagnostic::alert(
                    Loc::ParsingTight(cx.d.span.clone()),
                    "'group' only supports 'users' option.",
                ));
            }
        }
    }
    u.groups.push((name.into(), users, cx.d.span.clone()));
    Ok(())
}

fn user(u: &mut Userlist, cx: &Cx) -> Result<(), Diagnostic> {
    let name = cx.word(1);
    if name.is_empty() {
        return Err(cx.alert("'user' expects <name> as arguments."));
    }
    if u.users.iter().any(|x| x.name == name) {
        return Err(cx.alert(format!(
            "user '{name}' in userlist '{}' already defined.",
            u.name
        )));
    }
    let mut user = User {
        name: name.into(),
        password: String::new(),
        insecure: false,
        groups: Vec::new(),
        span: cx.d.span.clone(),
    };
    let mut i = 2;
    while i < cx.nwords() {
        match cx.word(i) {
            "password" | "insecure-password" => {
                user.insecure = cx.word(i) == "insecure-password";
                user.password = cx.word(i + 1).into();
                i += 2;
            }
            "groups" => {
                user.groups.extend(cx.word(i + 1).split(',').filter(|s| !s.is_empty()).map(String::from));
                i += 2;
            }
            w => {
                return Err(cx.alert(format!(
                    "'user' only supports 'password', 'insecure-password' and 'groups' options (got '{w}')."
                )))
            }
        }
    }
    u.users.push(user);
    Ok(())
}

/// `errorfile <code> <file>`
pub fn apply_http_errors(h: &mut HttpErrors, d: &Directive, diags: &mut Vec<Diagnostic>) {
    if d.word(0) != "errorfile" {
        let hint = did_you_mean(d.word(0), ["errorfile"]);
        diags.push(Diagnostic::alert(
            Loc::Parsing(d.span.clone()),
            format!(
                "unknown keyword '{}' in 'http-errors' section{hint}",
                d.word(0)
            ),
        ));
        return;
    }
    if d.len() != 3 {
        diags.push(Diagnostic::alert(
            Loc::Parsing(d.span.clone()),
            "'errorfile' expects <status_code> and <file> as arguments.",
        ));
        return;
    }
    let code: u16 = d.word(1).parse().unwrap_or(0);
    if !super::proxy::ERROR_CODES.contains(&code) {
        diags.push(Diagnostic::alert(
            Loc::Parsing(d.span.clone()),
            format!("errorfile : status code '{}' not handled.", d.word(1)),
        ));
        return;
    }
    if let Err(m) = crate::errorfile::check_file(d.word(2)) {
        diags.push(Diagnostic::alert(
            Loc::Parsing(d.span.clone()),
            format!("errorfile : {m}"),
        ));
        return;
    }
    h.errorfiles.push((code, d.word(2).into(), d.span.clone()));
}
