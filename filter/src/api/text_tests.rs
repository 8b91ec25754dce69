#![allow(clippy::unwrap_used)]

use super::{Text, TextOut};

const LITERALS: &[&str] = &[
    r#""""#,
    r#""plain""#,
    r#""a\nb\t\"q\" \\ \/ \b\f\r""#,
    r#""\u00e9\u0041""#,
    r#""\ud83d\ude00 smile""#,
    r#""\uD83D\uDE00""#,
    r#""\\ud800""#,
    r#""x\ud800""#,
    r#""\ud800x""#,
    r#""\ud800\n""#,
    r#""\ud800\u0041""#,
    r#""\ud800\ud800""#,
    r#""\udc00""#,
    r#""\ude00\ud83d""#,
    r#""\ud83d\ude00\ude00""#,
    "\"caf\u{e9} \u{1f600}\"",
    "\"raw\ncontrol\"",
    r#""bad \x escape""#,
    r#"5"#,
    r#"null"#,
    r#"["a"]"#,
];

/// Accepts exactly what serde_json accepts as a `String`, and decodes to the same text.
#[test]
fn agrees_with_serde_json_strings() {
    for lit in LITERALS {
        let ours = serde_json::from_str::<Text>(lit);
        let theirs = serde_json::from_str::<String>(lit);
        match (&ours, &theirs) {
            (Ok(t), Ok(s)) => {
                assert_eq!(t.as_str(), s.as_str(), "{lit}");
                assert_eq!(t.char_count(), s.chars().count(), "{lit}");
                assert_eq!(t.is_empty(), s.is_empty(), "{lit}");
                assert_eq!(format!("{t:?}"), format!("{s:?}"), "{lit}");
            }
            (Err(_), Err(_)) => {}
            _ => panic!("{lit}: ours {ours:?}, serde_json {theirs:?}"),
        }
    }
}

#[test]
fn writes_the_literal_verbatim() {
    let lit = r#""caf\u00e9\n\"q\"""#;
    let t: Text = serde_json::from_str(lit).unwrap();
    assert_eq!(serde_json::to_string(&t).unwrap(), lit);
    assert_eq!(serde_json::to_string(&TextOut::Json(&t)).unwrap(), lit);
    assert_eq!(
        serde_json::to_string(&TextOut::Str("a\"b")).unwrap(),
        r#""a\"b""#
    );
    let doc: Vec<Text> = serde_json::from_str(r#"[ "a" , "b\\"]"#).unwrap();
    assert_eq!(serde_json::to_string(&doc).unwrap(), r#"["a","b\\"]"#);
}

#[test]
fn blank_texts() {
    let t = |lit: &str| {
        Text::from_raw(serde_json::value::RawValue::from_string(lit.to_string()).unwrap()).unwrap()
    };
    for blank in [
        r#""""#,
        r#""   ""#,
        r#""\n\t \r""#,
        r#""\u0020\u000a""#,
        "\"\u{3000}\u{a0}\"",
        r#""\u3000""#,
    ] {
        assert!(t(blank).is_blank(), "{blank}");
    }
    for text in [
        r#""a""#,
        r#"" \n x""#,
        r#""\u0041""#,
        r#""\"""#,
        "\"\u{e9}\"",
        r#""\u00e9 ""#,
    ] {
        assert!(!t(text).is_blank(), "{text}");
    }
}
