//! Checks `[log] level` before it reaches `tracing`'s filter parser, which takes any word as a
//! target name: `level = "verbose"` parsed as "only the target `verbose`" and silently turned off
//! every line. Accepted: a level (`trace`, `debug`, `info`, `warn`, `error`, `off`), or a
//! comma-separated list of levels and `target=level` directives such as `info,isobar_storage=debug`.

/// Levels a directive may name.
pub const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// What `[log] level` accepts, for error messages.
pub const ACCEPTED: &str = "must be one of trace, debug, info, warn, error, off, or a comma-separated list of \
                            them and target=level directives such as \"info,isobar_storage=debug\"";

fn is_level(word: &str) -> bool {
    LEVELS.iter().any(|l| l.eq_ignore_ascii_case(word.trim()))
}

/// A target of a `target=level` directive: a Rust module path.
fn is_target(word: &str) -> bool {
    let word = word.trim();
    !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '-')
}

/// `Ok` when `level` is an accepted filter.
pub fn check(level: &str) -> Result<(), &'static str> {
    if level.trim().is_empty() {
        return Err(ACCEPTED);
    }
    for directive in level.split(',') {
        let ok = match directive.split_once('=') {
            Some((target, lvl)) => is_target(target) && is_level(lvl),
            None => is_level(directive),
        };
        if !ok {
            return Err(ACCEPTED);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_target_directives_are_accepted() {
        for ok in ["info", "WARN", "off", "info,isobar_storage=debug", "warn, isobar::server=trace"] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn words_that_are_no_level_are_refused_with_the_accepted_forms() {
        for bad in ["verbose", "", "info,", "info,isobar=loud", "=debug", "info;debug"] {
            let reason = check(bad).expect_err(bad);
            assert!(reason.contains("trace, debug, info, warn, error, off"), "{reason}");
        }
    }
}
