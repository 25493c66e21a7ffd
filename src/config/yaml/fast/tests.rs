//! Tests of the fast reader: fixed texts, and generated ones checked against the full parser.

use super::super::parse_full;
use super::*;

/// The fast reader's tree for `text`, checked against the full parser's.
fn checked(text: &str) -> Option<Node> {
    let fast = parse(text)?;
    let full = parse_full(text);
    assert!(
        matches!(&full, Ok(Some(f)) if same(f, &fast)),
        "{text:?}\nfast: {fast:?}\nfull: {full:?}"
    );
    Some(fast)
}

#[test]
fn reads_the_subset_like_the_full_parser() {
    let read = [
        "a: 1\nb:\n  c: x\n",
        "version: 1\npartner:\n  name: Acme Partners # the partner\n  users:\n    - { email: ops@acme.example, name: Acme Ops, role: admin }\n",
        "customers:\n- key: c1\n  name: 'It''s'\n  contact: {name: \"N\", email: n@x.example}\n  labels: {}\n  users: []\n\n# done\n",
        "  a: b c  \n  d: [1, -2, 0x1F, .nan, ~, true, NO, 'x', \"y\", {e: f}]\n",
        "a: Zürich Café\nb: {k: 日本, l: http://x.example:80/a#b}\nc: a#b\n",
        "a:\n  - x\n  -   y: 1\n      z: 2\n  - [ ]\n",
        "customers:\n- key: c1\n  adopt: 6\n  networks:\n  - { key: n1, adopt: \"acc_1\" }\n  - { key: n2, adopt: '7' }\n",
    ];
    for text in read {
        assert!(checked(text).is_some(), "{text}");
    }
    // An `adopt` id as a number stays a number, quoted ones strings (the loader takes either).
    let doc = checked(read[6]).unwrap();
    let c = &doc.list("customers")[0];
    assert_eq!(c.get("adopt").map(|n| &n.value), Some(&Value::Int(6)));
    let adopts: Vec<&Value> = c
        .list("networks")
        .iter()
        .filter_map(|n| n.get("adopt").map(|a| &a.value))
        .collect();
    assert_eq!(
        adopts,
        [&Value::String("acc_1".into()), &Value::String("7".into())]
    );
    let left = [
        "",
        "# c\n",
        "- a\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: |\n  x\n",
        "a:\n",
        "a: 1\na: 2\n",
        "a: x\n  y\n",
        "a: {b: 1,\n c: 2}\n",
        "a:\tb\n",
        "a: 1\r\n",
        "---\na: 1\n",
        "1: a\n",
        "a: \"x\\ty\"\n",
        "? a\n: b\n",
        "a: b: c\n",
        "a: [1,]\n",
        "a:\n-\n  b\n",
        "a: 'x\n  y'\n",
        "{a: 1}\n",
    ];
    for text in left {
        assert!(checked(text).is_none(), "{text}");
    }
}

/// A small deterministic generator of YAML-like texts, most of them in the subset, many of
/// them mutated out of it.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    /// Mostly scalars of the subset, sometimes one that is not.
    fn scalar(&mut self) -> &'static str {
        if self.below(6) > 0 {
            return self.pick(&[
                "x",
                "a b",
                "1",
                "-2",
                "+3",
                "0x1F",
                "0o17",
                "012",
                "1.5",
                ".5",
                "1e3",
                ".nan",
                ".inf",
                "~",
                "null",
                "true",
                "NO",
                "'q'",
                "'it''s'",
                "\"d\"",
                "\"\"",
                "''",
                "a#b",
                "http://x:80/a",
                "a:b",
                "Zürich",
                "日本",
                "-x",
                "a, b",
                "x  y",
                "[a, b]",
                "{a: b}",
                "{}",
                "[]",
                "[a, {b: c}]",
                "{a: [1, 2], b: {c: d}}",
                "{'a': \"b\"}",
                "[ 'a' ,\"b\" ]",
                "{ a: x y , b: -1 }",
            ]);
        }
        self.pick(&[
            "",
            "a #b",
            "- x",
            "é: f",
            "\"a\\\"b\"",
            "'",
            "!x",
            "&a x",
            "*a",
            "|",
            "?x",
            "@x",
            "%x",
            "{a:b}",
            "[a: b]",
            "{a: 1,}",
            "{ a : 1 }",
            "{\"a\":1}",
            "[a,,b]",
            "{a: }",
            "[-]",
            "[- a]",
            "{a: b}: c",
            "'a'b",
            "x: y",
        ])
    }
    fn key(&mut self) -> &'static str {
        if self.below(6) > 0 {
            return self.pick(&[
                "a", "b", "key", "name", "k k", "'q'", "\"d\"", "é", "x:y", "a#b", "-a", "users",
                "c", "d", "e", "f", "g",
            ]);
        }
        self.pick(&[
            "1", "true", "~", "''", "[a]", "{a: b}", "? a", "- a", "a b #c",
        ])
    }
    fn comment(&mut self, out: &mut String) {
        match self.below(8) {
            0 => out.push_str(" # c"),
            1 => out.push_str("#c"),
            _ => {}
        }
    }
    fn filler(&mut self, out: &mut String, indent: usize) {
        match self.below(10) {
            0 => out.push('\n'),
            1 => out.push_str(&format!("{}# note\n", " ".repeat(self.below(indent + 3)))),
            2 => out.push_str("   \n"),
            _ => {}
        }
    }
    fn map(&mut self, out: &mut String, indent: usize, depth: usize, first_inline: bool) {
        for n in 0..1 + self.below(3) {
            if n > 0 || !first_inline {
                self.filler(out, indent);
                out.push_str(&" ".repeat(indent));
            }
            out.push_str(self.key());
            out.push_str(if self.below(8) > 0 {
                self.pick(&[": ", ":  "])
            } else {
                self.pick(&[":", " : ", ":\t"])
            });
            self.value(out, indent, depth);
        }
    }
    fn seq(&mut self, out: &mut String, indent: usize, depth: usize) {
        for _ in 0..1 + self.below(3) {
            self.filler(out, indent);
            out.push_str(&" ".repeat(indent));
            out.push_str(if self.below(8) > 0 {
                self.pick(&["- ", "-   "])
            } else {
                self.pick(&["-", "-\t", "--"])
            });
            if depth < 4 && self.below(3) == 0 {
                let inner = indent + 2;
                self.map(out, inner, depth + 1, true);
            } else {
                out.push_str(self.scalar());
                self.comment(out);
                out.push('\n');
            }
        }
    }
    fn value(&mut self, out: &mut String, indent: usize, depth: usize) {
        match if depth < 4 { self.below(6) } else { 0 } {
            0..=2 => {
                out.push_str(self.scalar());
                self.comment(out);
                out.push('\n');
            }
            3 => {
                self.comment(out);
                out.push('\n');
                let inner = indent + self.below(4);
                self.map(out, inner, depth + 1, false);
            }
            _ => {
                self.comment(out);
                out.push('\n');
                let inner = indent + self.below(3);
                self.seq(out, inner, depth + 1);
            }
        }
    }
    fn text(&mut self) -> String {
        let mut out = String::new();
        let indent = self.below(3);
        self.map(&mut out, indent, 0, false);
        for _ in 0..self.below(3).saturating_sub(1) {
            let mut chars: Vec<char> = out.chars().collect();
            let at = self.below(chars.len() + 1);
            match self.below(3) {
                0 if at < chars.len() => {
                    chars.remove(at);
                }
                _ => {
                    let c = self.pick(&[
                        " ", "\n", ":", "-", "#", "'", "\"", "{", "}", "[", "]", ",", "\t", "\r",
                        "&", "*", "!", "|", ">", "?", "%", "é", "\\", "x",
                    ]);
                    chars.insert(at, c.chars().next().unwrap());
                }
            }
            out = chars.into_iter().collect();
        }
        out
    }
}

#[test]
fn agrees_with_the_full_parser_on_generated_texts() {
    let cases: usize = std::env::var("FAST_YAML_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let seed: u64 = std::env::var("FAST_YAML_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut g = Gen(seed | 1);
    let mut read = 0;
    for _ in 0..cases {
        let text = g.text();
        if checked(&text).is_some() {
            read += 1;
        }
    }
    // The generator must exercise the reader, not only its refusals.
    assert!(read * 10 > cases, "only {read} of {cases} texts were read");
}
