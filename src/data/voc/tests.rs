use super::*;
use crate::data::report::Code;
use proptest::prelude::*;

const VALID: &str = "<?xml version=\"1.0\"?>\n<annotation><folder>VOC2007</folder><filename>000005.jpg</filename>\
<size><width>500</width><height>375</height><depth>3</depth></size>\
<object><name>chair</name><pose>Rear</pose><truncated>0</truncated><difficult>0</difficult>\
<bndbox><xmin>263</xmin><ymin>211</ymin><xmax>324</xmax><ymax>339</ymax></bndbox></object>\
<object><name>dog &amp; cat</name><difficult>1</difficult><bndbox><xmin>1.0</xmin><ymin>1</ymin><xmax>10.5</xmax><ymax>20</ymax></bndbox></object>\
</annotation>";

fn parse_str(text: &str) -> (Result<VocFile, ()>, Report) {
    let mut r = Report::default();
    let f = parse(text, Path::new("a.xml"), &mut r);
    (f, r)
}

#[test]
fn one_based_inclusive_boxes_become_continuous() {
    let (f, r) = parse_str(VALID);
    let f = f.unwrap();
    assert!(r.is_empty(), "{r:?}");
    assert_eq!(f.filename.as_deref(), Some("000005.jpg"));
    assert_eq!(f.size, Some((500, 375)));
    // Detectron2: [xmin - 1, ymin - 1, xmax, ymax]
    assert_eq!(f.objects[0].bbox, [262.0, 210.0, 324.0, 339.0]);
    assert_eq!(f.objects[0].name, "chair");
    assert!(!f.objects[0].difficult);
    assert_eq!(
        f.objects[1].name, "dog & cat",
        "predefined entities are understood"
    );
    assert!(f.objects[1].difficult);
    assert_eq!(f.objects[1].bbox, [0.0, 0.0, 10.5, 20.0]);
}

#[test]
fn doctype_and_entities_are_refused_never_expanded() {
    let lol = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>\
               <annotation><filename>&lol2;</filename></annotation>";
    let (f, r) = parse_str(lol);
    assert!(f.is_err());
    assert_eq!(r.problems.len(), 1);
    assert_eq!(r.problems[0].code, Code::XmlDtd);
    let external = "<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><annotation/>";
    let (f, r) = parse_str(external);
    assert!(f.is_err());
    assert_eq!(r.problems[0].code, Code::XmlDtd);
    // an undeclared entity without a DTD is a malformed file, not expanded to anything
    let (f, r) = parse_str("<annotation><filename>&xxe;</filename></annotation>");
    assert!(f.is_err());
    assert_eq!(r.problems[0].code, Code::FileMalformed);
}

#[test]
fn bad_objects_are_reported_by_index() {
    let t = VALID
        .replace("<xmax>324</xmax>", "<xmax>200</xmax>")
        .replace("<ymin>1</ymin>", "<ymin>nan</ymin>");
    let (f, r) = parse_str(&t);
    assert!(f.unwrap().objects.is_empty());
    assert_eq!(r.problems[0].code, Code::BoxDegenerate);
    assert_eq!(r.problems[0].record, "object 0");
    assert_eq!(r.problems[1].code, Code::NonFinite);
    assert_eq!(r.problems[1].record, "object 1");
}

fn mutated() -> impl Strategy<Value = String> {
    crate::data::test_support::mutated(
        VALID,
        vec![
            "<",
            ">",
            "</",
            "/>",
            "&",
            "&amp;",
            "&#0;",
            "&#x110000;",
            "&foo;",
            "<!DOCTYPE x>",
            "<![CDATA[",
            "]]>",
            "<object>",
            "</object>",
            "<bndbox>",
            "-1",
            "nan",
            "1e999",
            "\"",
            "<?pi?>",
            "<!--",
            "-->",
            "\u{fffd}",
        ],
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// No panic on mutated VOC files; a refused file has its reason as the last problem; every
    /// problem names the file on one line; kept boxes are non-empty and finite.
    #[test]
    fn fuzz_mutated_voc(text in mutated()) {
        let (f, r) = parse_str(&text);
        if f.is_err() {
            let c = r.problems.last().map(|p| p.code);
            prop_assert!(c == Some(Code::FileMalformed) || c == Some(Code::XmlDtd), "{:?}", r);
        }
        for p in &r.problems {
            let line = p.to_string();
            prop_assert!(line.starts_with("a.xml: ") && !line.contains('\n'), "{}", line);
        }
        if let Ok(f) = f {
            for o in &f.objects {
                prop_assert!(o.bbox.iter().all(|v| v.is_finite()) && o.bbox[2] > o.bbox[0] && o.bbox[3] > o.bbox[1]);
            }
        }
    }
}
