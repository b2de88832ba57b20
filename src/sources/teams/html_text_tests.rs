//! Tests of `html_text.rs`: the spec §10.6 examples, lxml/BeautifulSoup details, and malformed input.

use super::*;

#[test]
fn spec_examples() {
    assert_eq!(html_to_text("<div>a</div>\n<div>b</div>"), "a\n\n\nb");
    assert_eq!(html_to_text("<p>Hello <b>World</b></p>"), "Hello \nWorld");
    assert_eq!(html_to_text("<systemEventMessage/>"), "");
    assert_eq!(html_to_text("<attachment id=\"1\"></attachment>"), "");
    assert_eq!(html_to_text(""), "");
}

#[test]
fn element_text_and_tail_are_separate_nodes() {
    assert_eq!(
        html_to_text("<p>Hello <b>World</b>!</p>"),
        "Hello \nWorld\n!"
    );
    assert_eq!(
        html_to_text("Hello <at id=\"0\">Adele</at> hi"),
        "Hello \nAdele\n hi"
    );
    assert_eq!(html_to_text("plain text"), "plain text");
}

#[test]
fn elements_without_text_add_nothing() {
    let emoji = r#"<p>Nice <emoji id="1f600_grinning" alt="😀" title="Grinning"></emoji></p>"#;
    assert_eq!(html_to_text(emoji), "Nice ");
    assert_eq!(
        html_to_text(r#"<p>see<img src="x.png" alt="pic">this</p>"#),
        "see\nthis"
    );
    assert_eq!(html_to_text("<p>a<br>b<br/>c</p>"), "a\nb\nc");
    assert_eq!(html_to_text("<img src=x>"), "");
}

#[test]
fn whitespace_only_nodes_collapse_like_beautifulsoup() {
    assert_eq!(html_to_text("<p>a</p>\n\n  <p>b</p>"), "a\n\n\nb");
    assert_eq!(html_to_text("<p>a</p>   <p>b</p>"), "a\n \nb");
    assert_eq!(html_to_text("<p>a</p><p>b</p>"), "a\nb");
    assert_eq!(html_to_text("<pre>x</pre><pre>  \n </pre>"), "x\n  \n ");
    // Non-blank nodes are never trimmed.
    assert_eq!(html_to_text("<p>  a  </p>"), "  a  ");
}

#[test]
fn leading_blanks_are_dropped_trailing_kept() {
    assert_eq!(html_to_text("\n  <p>a</p>\n"), "a\n\n");
    assert_eq!(html_to_text("  Hello"), "Hello");
    assert_eq!(html_to_text("<!-- c -->\n<p>a</p>"), "a");
}

#[test]
fn whitespace_only_results_are_empty() {
    assert_eq!(html_to_text("   "), "");
    assert_eq!(html_to_text("<p> </p>\n<p>\t</p>"), "");
    assert_eq!(html_to_text("<p>&nbsp;</p>"), "");
}

#[test]
fn scripts_styles_templates_and_comments_are_excluded() {
    assert_eq!(
        html_to_text("a<script>var x = '<b>no</b>';</script>b"),
        "a\nb"
    );
    assert_eq!(html_to_text("a<STYLE>p { color: red }</Style >b"), "a\nb");
    assert_eq!(
        html_to_text("a<template><p>hidden</p>also</template>b"),
        "a\nb"
    );
    assert_eq!(html_to_text("a<!-- hidden <b>x</b> -->b"), "a\nb");
    assert_eq!(html_to_text("<!DOCTYPE html><p>x</p><?pi?>y"), "x\ny");
    assert_eq!(html_to_text("a<![CDATA[hidden]]>b"), "a\nb");
    assert_eq!(html_to_text("a<script>never closed"), "a");
    assert_eq!(html_to_text("a<script/>b"), "a\nb");
}

#[test]
fn entities_are_decoded() {
    assert_eq!(html_to_text("<p>a&nbsp;b</p>"), "a\u{A0}b");
    assert_eq!(
        html_to_text("&lt;b&gt; &amp; &quot;q&quot; &apos;"),
        "<b> & \"q\" '"
    );
    assert_eq!(html_to_text("&#65;&#x42;&#X43;&#68"), "ABCD");
    assert_eq!(html_to_text("&#128512;&eacute;&Eacute;&hellip;"), "😀éÉ…");
    // Entities do not split a text node.
    assert_eq!(html_to_text("<p>a &amp; b</p>"), "a & b");
}

#[test]
fn unknown_or_bogus_references_stay_literal_or_become_replacement() {
    assert_eq!(
        html_to_text("&bogus; &amp &; & x &#; &#x;"),
        "&bogus; &amp &; & x &#; &#x;"
    );
    assert_eq!(
        html_to_text("&averyveryverylongname;"),
        "&averyveryverylongname;"
    );
    assert_eq!(
        html_to_text("a&#0;b&#xD800;c&#xFFFFFFFF;d&#99999999999999999999;"),
        "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}"
    );
}

#[test]
fn stray_markup() {
    assert_eq!(html_to_text("a < b"), "a < b");
    assert_eq!(html_to_text("1<2"), "1<2");
    assert_eq!(html_to_text("a</b>c"), "ac");
    assert_eq!(html_to_text("a</>c"), "ac");
    assert_eq!(html_to_text("a</ x>c"), "a\nc");
    assert_eq!(html_to_text("x</"), "x</");
    assert_eq!(
        html_to_text(r#"<a title="1 > 0" href='q>'>link</a>"#),
        "link"
    );
    assert_eq!(html_to_text("<p>a<p>b</p>c"), "a\nb\nc");
    assert_eq!(html_to_text("<div>a<span>b</div>c"), "a\nb\nc");
}

#[test]
fn unclosed_markup_ends_the_input() {
    assert_eq!(html_to_text("text<p class=\"x"), "text");
    assert_eq!(html_to_text("text<b"), "text");
    assert_eq!(html_to_text("text<!-- never closed"), "text");
    assert_eq!(html_to_text("a<!-->b"), "a\nb");
    assert_eq!(html_to_text("a<!--->b"), "a\nb");
}

#[test]
fn nesting_deeper_than_the_cap_still_works() {
    let deep = "<div>".repeat(MAX_DEPTH * 2) + "x" + &"</div>".repeat(MAX_DEPTH * 2) + "y";
    assert_eq!(html_to_text(&deep), "x\ny");
}

#[test]
fn entity_table_is_sorted_for_binary_search() {
    assert!(ENTITIES.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(ENTITIES.iter().all(|(_, cp)| char::from_u32(*cp).is_some()));
    assert_eq!(ENTITIES.len(), 253);
}

#[test]
fn never_panics_on_malformed_input() {
    let pieces = [
        "<",
        ">",
        "</",
        "<!",
        "<!--",
        "-->",
        "<?",
        "&",
        "&#",
        "&#x",
        "&#xFFFFFFFF;",
        "&#0;",
        "&nbsp",
        "&amp;",
        "<p",
        "<p>",
        "</p>",
        "<script>",
        "</script",
        "<template>",
        "</template>",
        "\"",
        "'",
        "=",
        "/",
        "é",
        "😀",
        "<a b='",
        "<a b=\"x\"/>",
        "\u{0}",
        " ",
        "\n",
        "<pre>",
        "<!DOCTYPE",
        "]]>",
    ];
    let mut inputs: Vec<String> = pieces.iter().map(|p| p.to_string()).collect();
    for a in pieces {
        for b in pieces {
            inputs.push(format!("{a}{b}"));
            inputs.push(format!("x{a}y{b}z"));
        }
    }
    for input in &inputs {
        let out = html_to_text(input);
        assert!(
            out.is_empty() || !out.trim().is_empty(),
            "{input:?} → {out:?}"
        );
    }
}

#[test]
fn signed_numeric_references_stay_literal() {
    // No sign before the digits (the HTML spec, and `crate::html_entities::numeric` for both tokenizers).
    assert_eq!(
        html_to_text("&#+65; &#-65; &#x+41;"),
        "&#+65; &#-65; &#x+41;"
    );
}
