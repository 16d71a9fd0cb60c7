//! What the sanitiser removed from an HTML part, for `check` to say.
//!
//! ammonia reports nothing, so both sides are read with html5ever's
//! tokenizer (the one ammonia parses with) and their elements, attributes,
//! style properties, link targets and image sources are counted; whatever
//! the input has more of was removed. Only what is in the letter counts:
//! the document skeleton (`<html>`, `<head>`, `<body>`, `<title>`, a
//! `<meta charset>`) is replaced, not removed, and comments are not
//! mentioned.

use std::cell::RefCell;
use std::collections::BTreeMap;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer,
};

/// One thing a letter's HTML can hold.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Element(String),
    Attribute(String, String),
    Style(String),
    RemoteImage,
    BadLink,
}

#[derive(Default)]
struct Counter {
    counts: RefCell<BTreeMap<Item, usize>>,
}

impl Counter {
    fn add(&self, item: Item) {
        *self.counts.borrow_mut().entry(item).or_default() += 1;
    }

    fn tag(&self, tag: &Tag) {
        let name = tag.name.to_string();
        let attr = |n: &str| {
            tag.attrs
                .iter()
                .find(|a| &*a.name.local == n)
                .map(|a| a.value.to_string())
        };
        match name.as_str() {
            "html" | "head" | "body" | "title" => return,
            "meta" if attr("http-equiv").is_none() => return,
            _ => {}
        }
        for a in &tag.attrs {
            let (attr_name, value) = (a.name.local.to_string(), &*a.value);
            match (name.as_str(), attr_name.as_str()) {
                ("img", "src") if is_remote(value) => self.add(Item::RemoteImage),
                (_, "href") if name != "link" && !is_link(value) => self.add(Item::BadLink),
                (_, "style") => {
                    for declaration in value.split(';') {
                        if let Some((property, _)) = declaration.split_once(':') {
                            self.add(Item::Style(property.trim().to_ascii_lowercase()));
                        }
                    }
                }
                _ => self.add(Item::Attribute(name.clone(), attr_name)),
            }
        }
        self.add(Item::Element(name));
    }
}

impl TokenSink for Counter {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let Token::TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        if tag.kind != TagKind::StartTag {
            return TokenSinkResult::Continue;
        }
        self.tag(&tag);
        // What the tree builder would tell the tokenizer, so a script's
        // `a<b` is not read as a `<b>` element.
        match &*tag.name {
            "script" => TokenSinkResult::RawData(RawKind::ScriptData),
            "style" | "iframe" | "noembed" | "noframes" | "xmp" | "noscript" => {
                TokenSinkResult::RawData(RawKind::Rawtext)
            }
            "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
            "plaintext" => TokenSinkResult::Plaintext,
            _ => TokenSinkResult::Continue,
        }
    }
}

fn count(html: &str) -> BTreeMap<Item, usize> {
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(Counter::default(), Default::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.counts.take()
}

fn is_remote(src: &str) -> bool {
    let src = src.trim_start().to_ascii_lowercase();
    src.starts_with("http:") || src.starts_with("https:") || src.starts_with("//")
}

fn is_link(href: &str) -> bool {
    let href = href.trim_start().to_ascii_lowercase();
    ["http:", "https:", "mailto:"]
        .iter()
        .any(|s| href.starts_with(s))
}

/// What `input` has that `output` (its cleaned form) lacks, one phrase per
/// removed thing. An attribute of a removed element is not listed apart.
pub fn describe(input: &str, output: &str) -> Vec<String> {
    let before = count(input);
    let after = count(output);
    let lost = |item: &Item| before[item].saturating_sub(after.get(item).copied().unwrap_or(0));
    let gone_elements: Vec<&str> = before
        .keys()
        .filter_map(|i| match i {
            Item::Element(e) if lost(i) > 0 => Some(e.as_str()),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for item in before.keys() {
        let phrase = match item {
            Item::Element(e) => format!("<{e}>"),
            Item::Attribute(e, _) if gone_elements.contains(&e.as_str()) => continue,
            Item::Attribute(_, a) if a.starts_with("on") => {
                format!("the `{a}` attribute (a script)")
            }
            Item::Attribute(e, a) => format!("the `{a}` attribute of <{e}>"),
            Item::Style(p) => format!("the style `{p}`"),
            Item::RemoteImage => {
                "a remote image (<img src=\"http…\">: blocked by most mail programs \
                 and counted by spam filters; attach it or link to it)"
                    .to_string()
            }
            Item::BadLink => {
                "a link that is not http:, https: or mailto: (javascript:, data:, relative)"
                    .to_string()
            }
        };
        for _ in 0..lost(item) {
            out.push(phrase.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_is_gone_and_only_that() {
        let got = describe(
            "<p onclick=\"x\" style=\"color:red;background:url(x)\">a</p>\
             <script>if (a<b) {}</script><img src=\"https://x.example/p.gif\">",
            "<p style=\"color:red\">a</p><img>",
        );
        assert_eq!(
            got,
            [
                "<script>",
                "the `onclick` attribute (a script)",
                "the style `background`",
                got[3].as_str(),
            ]
        );
        assert!(got[3].starts_with("a remote image"), "{got:?}");
        assert!(describe("<p>a</p>", "<p>a</p>").is_empty());
    }
}
