//! String helpers of Redis's util.c that both Redis servers and Sentinels
//! use on their arguments: integer parsing and glob matching.

/// string2ll(): an optional `-`, then digits without a leading zero (or
/// just `0`), fitting a long long; nothing else, not even spaces.
pub fn string2ll(s: &str) -> Option<i64> {
    const LONG_STR_SIZE: usize = 21;
    let b = s.as_bytes();
    if b.is_empty() || b.len() >= LONG_STR_SIZE {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let (negative, digits) = match b.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, b),
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// glob-style pattern matching (util.c stringmatchlen()).
pub fn stringmatch(pattern: &str, string: &str, nocase: bool) -> bool {
    let mut skip = false;
    stringmatch_impl(pattern.as_bytes(), string.as_bytes(), nocase, &mut skip)
}

/// util.c stringmatchlen_impl(). Reads past the pattern's end see the C
/// string's terminating NUL (0).
fn stringmatch_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool) -> bool {
    let at = |i: usize| pat.get(i).copied().unwrap_or(0);
    let lower = |c: u8| if nocase { c.to_ascii_lowercase() } else { c };
    let (mut p, mut si) = (0usize, 0usize);
    while p < pat.len() && si < s.len() {
        match pat[p] {
            b'*' => {
                while p < pat.len() && at(p + 1) == b'*' {
                    p += 1;
                }
                if pat.len() - p == 1 {
                    return true;
                }
                while si < s.len() {
                    if stringmatch_impl(&pat[p + 1..], &s[si..], nocase, skip_longer) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    si += 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => si += 1,
            b'[' => {
                p += 1;
                let not = at(p) == b'^';
                if not {
                    p += 1;
                }
                let mut matched = false;
                loop {
                    let left = pat.len().saturating_sub(p);
                    if at(p) == b'\\' && left >= 2 {
                        p += 1;
                        if at(p) == s[si] {
                            matched = true;
                        }
                    } else if at(p) == b']' {
                        break;
                    } else if left == 0 {
                        p -= 1;
                        break;
                    } else if left >= 3 && at(p + 1) == b'-' {
                        let (mut start, mut end) = (at(p), at(p + 2));
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        let c = lower(s[si]);
                        if (lower(start)..=lower(end)).contains(&c) {
                            matched = true;
                        }
                        p += 2;
                    } else if lower(at(p)) == lower(s[si]) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                si += 1;
            }
            c => {
                let c = if c == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    pat[p]
                } else {
                    c
                };
                if lower(c) != lower(s[si]) {
                    return false;
                }
                si += 1;
            }
        }
        p += 1;
        if si == s.len() {
            while at(p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p >= pat.len() && si == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stringmatch_is_redis_glob() {
        for (pattern, string, nocase, expected) in [
            ("*", "anything", false, true),
            ("repl-*", "repl-timeout", false, true),
            ("REPL-*", "repl-timeout", false, false),
            ("REPL-*", "repl-timeout", true, true),
            ("h?", "hz", false, true),
            ("h?", "h", false, false),
            ("[a-c]x", "bx", false, true),
            ("[c-a]x", "bx", false, true),
            ("[^a-c]x", "bx", false, false),
            ("[abc", "a", false, true),
            ("a\\*", "a*", false, true),
            ("a\\*", "ab", false, false),
            ("*-size", "repl-backlog-size", false, true),
            ("a*b*c", "aXbYc", false, true),
            ("a*b*c", "aXbY", false, false),
            // The loop never runs on an empty string: only an empty
            // pattern matches it.
            ("**", "", false, false),
            ("", "", false, true),
            ("x", "", false, false),
        ] {
            assert_eq!(
                stringmatch(pattern, string, nocase),
                expected,
                "{pattern} {string}"
            );
        }
    }

    #[test]
    fn string2ll_takes_only_canonical_integers() {
        assert_eq!(string2ll("0"), Some(0));
        assert_eq!(string2ll("-5"), Some(-5));
        assert_eq!(string2ll("9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll("-9223372036854775808"), Some(i64::MIN));
        for bad in ["", "+5", "05", "-0", " 1", "1 ", "9223372036854775808", "x"] {
            assert_eq!(string2ll(bad), None, "{bad}");
        }
    }
}
